// The control plane's composition root: store, API server, broker, MQTT bridge,
// scheduler and controllers, started in dependency order and stopped in reverse.
import { writeFileSync, renameSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { StoreBackend } from './store/backend.js';
import { EtcdStore } from './store/etcd/etcd-store.js';
import { EtcdCompactor } from './store/etcd/compactor.js';
import { openDatastore, type DatastoreOptions } from './cluster/datastore.js';
import { LeaderElector } from './cluster/leader-election.js';
import { TokenSigner, serviceAccountLookup } from './controllers/index.js';
import { serviceAccountAuthenticator, serviceAccountTokenIssuer } from './service-account-api.js';
import { ApiError } from './apiserver/errors.js';
import type { PodStreams } from './apiserver/http/resource-routes.js';
import type { SelfAuthenticatingRoute } from './apiserver/http/server.js';
import { hostname } from 'node:os';
import { ApiCore } from './apiserver/api-core.js';
import { Admission } from './apiserver/admission/admission.js';
import { LocalClient } from './apiserver/local-client.js';
import { bootstrapCluster } from './apiserver/bootstrap.js';
import { ensurePki, hostAddresses, kubeconfigYaml, type ClusterPki } from './apiserver/certs.js';
import { ApiServer, type ExtraRoute } from './apiserver/http/server.js';
import { ServiceAllocator } from './apiserver/admission/service-allocator.js';
import { makeAuthenticator } from './auth.js';
import { NodeTelemetry } from './bridge/node-telemetry.js';
import { Bridge } from './bridge/bridge.js';
import { EmbeddedBroker } from './broker/embedded-broker.js';
import { BrokerCredentials, CONTROLLER_USERNAME, loadControllerPassword } from './broker/credentials.js';
import { JoinService } from './broker/join-service.js';
import { MqttLink } from '../protocol/mqtt/link.js';
import { Topics } from '../protocol/mqtt/topics.js';
import type { ControlLoop } from './controllers/framework/controller.js';
import { PodCidrAllocator } from './controllers/pod-cidr.js';
import { metricsRoutes } from './metrics/routes.js';
import { ControllerMetrics } from './metrics/controller-metrics.js';
import { startControlLoops } from './control-loops.js';

export interface ControllerOptions {
  dataDir: string;
  apiListen: { host: string; port: number };
  /** Embedded broker listener; ignored when mqttUrl is set. */
  mqttListen: { host: string; port: number };
  mqttTlsListen?: { host: string; port: number };
  /** External broker (e.g. Mosquitto set up with `pikube mosquitto-config`). */
  mqttUrl?: string;
  baseTopic: string;
  nodeMonitorGracePeriodMs: number;
  defaultTolerationSeconds: number;
  serviceCIDR: string;
  clusterCIDR: string;
  nodeCIDRMaskSize: number;
  clusterDomain: string;
  homeassistant: boolean;
  /** etcd instead of the embedded store; several controllers may share it. */
  datastore?: DatastoreOptions;
  /** The cluster's server token, to take the shared secrets from the datastore. */
  token?: string;
  /** Leader election (with a datastore): only the leader runs the scheduler, controllers and bridge. */
  leaderElection?: { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
  /** Routes that check credentials themselves (joining a managed etcd cluster). */
  extraSelfRoutes?: SelfAuthenticatingRoute[];
  log: Logger;
}

export const PIKUBE_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-pikube.0.1.0' };

export class Controller {
  private store?: StoreBackend;
  private elector?: LeaderElector;
  private compactor?: EtcdCompactor;
  private leading?: Promise<void>;
  private api?: ApiServer;
  private broker?: EmbeddedBroker;
  private link?: MqttLink;
  private bridge?: Bridge;
  private join?: JoinService;
  private loops: ControlLoop[] = [];
  private ready = false;
  core?: ApiCore;
  client?: LocalClient;
  pki?: ClusterPki;
  readonly telemetry = new NodeTelemetry();
  readonly metrics = new ControllerMetrics();
  apiAddress?: { host: string; port: number };
  private podCidrs?: PodCidrAllocator;
  private topics?: Topics;
  private advertise?: string;
  private statusRoutes: SelfAuthenticatingRoute[] = [];
  mqttUrl?: string;

  constructor(private readonly opts: ControllerOptions) {}

  get kubeconfigPath(): string { return join(this.opts.dataDir, 'kubeconfig'); }

  async start(): Promise<void> {
    const { opts } = this;
    const log = opts.log;
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    this.store = await openDatastore(opts.dataDir, opts.datastore, opts.token, log);
    const extraNames = opts.apiListen.host !== '0.0.0.0' && opts.apiListen.host !== '::' ? [opts.apiListen.host] : [];
    this.pki = await ensurePki(opts.dataDir, extraNames);
    const admission = new Admission(this.store, { defaultTolerationSeconds: opts.defaultTolerationSeconds, serviceCIDR: opts.serviceCIDR });
    this.core = new ApiCore(this.store, admission);
    this.client = new LocalClient(this.core);
    const advertise = this.advertiseAddress();
    // Controllers starting together on one datastore may race to create the same objects.
    for (let attempt = 0; ; attempt++) {
      try {
        await bootstrapCluster(this.core, { serviceIP: new ServiceAllocator(this.store, opts.serviceCIDR).apiServiceIP, endpointIP: advertise, port: opts.apiListen.port });
        break;
      } catch (err) {
        if (!opts.datastore || attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 200 + Math.random() * 300));
      }
    }

    // MQTT: embedded broker unless an external one is configured.
    const topics = new Topics(opts.baseTopic);
    let mqttUrl = opts.mqttUrl;
    if (!mqttUrl) {
      const credentials = await BrokerCredentials.load(opts.dataDir);
      this.broker = await EmbeddedBroker.start({
        listen: `${opts.mqttListen.host}:${opts.mqttListen.port}`,
        ...(opts.mqttTlsListen ? { tls: { listen: `${opts.mqttTlsListen.host}:${opts.mqttTlsListen.port}`, cert: this.pki.serverCert, key: this.pki.serverKey, ca: this.pki.caCert } } : {}),
        credentials, baseTopic: opts.baseTopic, logger: log.child({ component: 'broker' }),
        ...(opts.datastore ? { admitNodes: () => this.elector?.isLeader ?? false } : {}),
      });
      mqttUrl = this.broker.url.replace('0.0.0.0', '127.0.0.1');
    }
    this.mqttUrl = mqttUrl;
    this.link = new MqttLink({
      url: mqttUrl, clientId: `pikube-controller-${process.pid}`, username: CONTROLLER_USERNAME,
      password: await loadControllerPassword(opts.dataDir), ca: this.pki.caCert, keepaliveSeconds: 15,
    });
    this.link.on('error', (err) => log.warn({ err: err.message }, 'mqtt link error'));
    await this.link.start({ timeoutMs: 15_000 });
    const podCidrs = new PodCidrAllocator(this.client, opts.clusterCIDR, opts.nodeCIDRMaskSize);
    this.join = new JoinService({
      link: this.link, dataDir: opts.dataDir, baseTopic: opts.baseTopic,
      ...(opts.mqttUrl && existsSync(join(opts.dataDir, 'mosquitto')) ? { externalBroker: 'mosquitto' as const } : {}),
      logger: log.child({ component: 'join' }),
    });
    await this.join.start();

    this.podCidrs = podCidrs;
    this.topics = topics;
    this.advertise = advertise;
    // The API server's own service-account checks work on every controller.
    const signer = new TokenSigner(join(opts.dataDir, 'pki', 'service-account.key'));
    signer.setLookup(serviceAccountLookup(this.client));
    const extraRoutes: ExtraRoute[] = [metricsRoutes({ core: this.core, telemetry: this.telemetry, metrics: this.metrics, store: this.store, link: this.link })];
    // Logs, exec and the status page need the bridge and informers, which run on the leader.
    const streams: PodStreams = {
      logs: (...a) => { if (!this.bridge) throw notLeader(); return (this.bridge.streams as PodStreams).logs(...a); },
      exec: (...a) => { if (!this.bridge) throw notLeader(); return (this.bridge.streams as PodStreams).exec(...a); },
    };
    const statusPage: SelfAuthenticatingRoute = (...a) => this.statusRoutes.length ? this.statusRoutes[0]!(...a) : false;
    this.api = new ApiServer({
      core: this.core,
      tls: { cert: this.pki.serverCert, key: this.pki.serverKey },
      authenticate: makeAuthenticator(this.pki.adminToken, serviceAccountAuthenticator(signer)),
      tokens: serviceAccountTokenIssuer(signer),
      streams,
      upgrade: (req, socket, head, url) => { if (this.bridge) this.bridge.streams.upgrade(req, socket, head, url); else socket.destroy(); },
      extraRoutes,
      selfAuthenticatingRoutes: [statusPage, ...(opts.extraSelfRoutes ?? [])],
      version: PIKUBE_VERSION,
      ready: () => this.ready,
      log,
      onRequest: (verb, resource, code, seconds) => this.metrics.request(verb, resource, code, seconds),
      onWatchCount: (d) => this.metrics.watches(d),
    });
    if (!opts.datastore) await this.startLeading();
    this.apiAddress = await this.api.listen(opts.apiListen.host, opts.apiListen.port);
    if (opts.datastore) {
      const le = opts.leaderElection ?? { leaseDurationMs: 6000, renewDeadlineMs: 4000, retryPeriodMs: 1000 };
      this.elector = new LeaderElector({
        client: this.client, identity: `${hostname()}_${advertise}:${this.apiAddress.port}_${process.pid}`, ...le,
        log: log.child({ component: 'leader-election' }),
        onStartedLeading: () => { this.leading = this.startLeading().catch((err: Error) => { log.error({ err: err.stack }, 'leader loops failed to start'); }); return undefined; },
        onStoppedLeading: () => { this.stopLeading(); },
      });
      this.elector.start();
    }
    this.writeKubeconfig();
    this.ready = true;
    log.info({ api: `https://${this.apiAddress.host}:${this.apiAddress.port}`, mqtt: mqttUrl, dataDir: opts.dataDir }, 'controller ready');
  }

  /** The scheduler, the controller manager, the bridge and compaction: on the leader only. */
  private async startLeading(): Promise<void> {
    const { opts } = this;
    const log = opts.log;
    const loops = await startControlLoops({
      client: this.client!, core: this.core!, telemetry: this.telemetry, log, dataDir: opts.dataDir,
      nodeMonitorGracePeriodMs: opts.nodeMonitorGracePeriodMs, defaultTolerationSeconds: opts.defaultTolerationSeconds,
      podCidrs: this.podCidrs!, link: this.link!, topics: this.topics!, homeassistant: opts.homeassistant, metrics: this.metrics, version: PIKUBE_VERSION.gitVersion,
    });
    this.loops = loops.loops;
    this.statusRoutes = loops.selfAuthenticatingRoutes;
    const bridge = new Bridge({
      link: this.link!, topics: this.topics!, core: this.core!, client: this.client!, telemetry: this.telemetry,
      log: log.child({ component: 'bridge' }),
      serviceAccount: loops.serviceAccountFor({ caCrt: this.pki!.caCert, apiServer: `https://${this.advertise}:${opts.apiListen.port}` }),
      podCidrFor: (node) => this.podCidrs!.cidrFor(node),
      dns: { clusterDomain: opts.clusterDomain },
    });
    this.bridge = bridge;
    await bridge.start();
    if (this.store instanceof EtcdStore) {
      this.compactor = new EtcdCompactor(this.store, undefined, log.child({ component: 'compactor' }));
      this.compactor.start();
    }
    // Lost the lease while starting: undo at once.
    if (this.elector && !this.elector.isLeader) this.stopLeading();
  }

  /** Stops every leader-only loop at once (their in-flight writes fail on conflicts) and sends the nodes elsewhere. */
  private stopLeading(): void {
    const loops = this.loops;
    const bridge = this.bridge;
    this.loops = [];
    this.bridge = undefined;
    this.statusRoutes = [];
    this.compactor?.stop();
    this.compactor = undefined;
    for (const l of [...loops].reverse()) void Promise.resolve(l.stop()).catch(() => undefined);
    void bridge?.stop().catch(() => undefined);
    const dropped = this.broker?.dropNodes() ?? 0;
    if (dropped) this.opts.log.info({ dropped }, 'sent the nodes to the new leader');
  }

  /** Finishes in-flight writes, then closes everything in reverse order. */
  async stop(): Promise<void> {
    this.ready = false;
    await this.elector?.stop().catch(() => undefined);
    await this.leading;
    this.compactor?.stop();
    await this.api?.close().catch(() => undefined);
    for (const l of [...this.loops].reverse()) await l.stop();
    await this.bridge?.stop().catch(() => undefined);
    await this.join?.stop().catch(() => undefined);
    await this.link?.end().catch(() => undefined);
    await this.broker?.close().catch(() => undefined);
    await this.store?.close();
  }

  private advertiseAddress(): string {
    const h = this.opts.apiListen.host;
    if (h !== '0.0.0.0' && h !== '::') return h;
    return hostAddresses().find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a) && !a.startsWith('127.')) ?? '127.0.0.1';
  }

  private writeKubeconfig(): void {
    const host = this.apiAddress!.host === '0.0.0.0' || this.apiAddress!.host === '::' ? '127.0.0.1' : this.apiAddress!.host;
    const server = `https://${host.includes(':') ? `[${host}]` : host}:${this.apiAddress!.port}`;
    const tmp = `${this.kubeconfigPath}.tmp`;
    writeFileSync(tmp, kubeconfigYaml(server, this.pki!.caCert, this.pki!.adminToken), { mode: 0o600 });
    renameSync(tmp, this.kubeconfigPath);
  }
}

function notLeader(): ApiError {
  return new ApiError(503, 'ServiceUnavailable', 'logs and exec go through the leader controller; this one is a follower');
}

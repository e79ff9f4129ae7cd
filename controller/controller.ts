// The control plane's composition root: store, API server, broker, MQTT bridge,
// scheduler and controllers, started in dependency order and stopped in reverse.
import type { RegistriesConfig } from '../protocol/images/registries-yaml.js';
import { writeFileSync, renameSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { LocalStore } from './store/local-store.js';
import { snapshotRoute } from './apiserver/http/store-snapshot-route.js';
import { ScheduledSnapshots } from './store/scheduled-snapshots.js';
import { ApiCore } from './apiserver/api-core.js';
import { Admission } from './apiserver/admission/admission.js';
import { LocalClient } from './apiserver/local-client.js';
import { bootstrapCluster } from './apiserver/bootstrap.js';
import { ensurePki, hostAddresses, kubeconfigYaml, type ClusterPki } from './apiserver/certs.js';
import { ApiServer, type ExtraRoute } from './apiserver/http/server.js';
import { ServiceAllocator } from './apiserver/admission/service-allocator.js';
import { makeAuthenticator } from './auth/bearer-tokens.js';
import { MqttUserDirectory } from './auth/mqtt-users.js';
import { MqttApiGateway } from './mqtt-api/gateway.js';
import { UserTokens } from './mqtt-api/user-tokens.js';
import { HomeAssistantControls } from './homeassistant/controls.js';
import { SharedInformers } from './controllers/shared-informers.js';
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
import { clusterConfigFor } from '../protocol/mqtt/heartbeat-policy.js';
import { CrdController } from './apiserver/crd/crd-controller.js';
import { ensureTopicBindingCrd } from './topicbindings/install.js';
import { CustomResourceRegistry } from './apiserver/crd/registry.js';
import { startClusterAuth } from './auth/index.js';
import { adoptJoinedNodes, forgetDeletedNodes } from './broker/forget-deleted-nodes.js';
import { R } from './apiserver/client.js';

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
  /** The API user Home Assistant's controls act as (its RBAC decides what they may do); no controls without it. */
  homeassistantUser?: string;
  /** Scheduled store snapshots; intervalMs 0 turns them off. dir defaults to <dataDir>/snapshots. */
  snapshots?: { intervalMs: number; retain: number; dir?: string };
  /** One JSON line per mutating API request; off when unset. */
  auditLog?: string;
  /** Longest lifetime of a requested service-account token, in seconds. */
  maxTokenSeconds?: number;
  /** registries.yaml of the cluster, for reading images' platforms. */
  registries?: RegistriesConfig;
  /** Keep pods off nodes their images have no build for (default on). */
  imagePlatformCheck?: boolean;
  log: Logger;
}

export const PIKUBE_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-pikube.0.1.0' };

export class Controller {
  private store?: LocalStore;
  private snapshots?: ScheduledSnapshots;
  private api?: ApiServer;
  private broker?: EmbeddedBroker;
  private link?: MqttLink;
  private bridge?: Bridge;
  private join?: JoinService;
  private loops: ControlLoop[] = [];
  private ready = false;
  private crds?: CrdController;
  core?: ApiCore;
  client?: LocalClient;
  pki?: ClusterPki;
  readonly telemetry = new NodeTelemetry();
  readonly metrics = new ControllerMetrics();
  apiAddress?: { host: string; port: number };
  mqttUrl?: string;

  constructor(private readonly opts: ControllerOptions) {}

  get kubeconfigPath(): string { return join(this.opts.dataDir, 'kubeconfig'); }

  async start(): Promise<void> {
    const { opts } = this;
    const log = opts.log;
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    const storeDir = join(opts.dataDir, 'store');
    this.store = new LocalStore({ dir: storeDir, log: log.child({ component: 'store' }) });
    await this.store.open();
    if (opts.snapshots && opts.snapshots.intervalMs > 0) {
      this.snapshots = new ScheduledSnapshots(this.store, { ...opts.snapshots, dir: opts.snapshots.dir ?? join(opts.dataDir, 'snapshots'), log: log.child({ component: 'snapshots' }) });
      this.snapshots.start();
    }
    const extraNames = opts.apiListen.host !== '0.0.0.0' && opts.apiListen.host !== '::' ? [opts.apiListen.host] : [];
    this.pki = await ensurePki(opts.dataDir, extraNames);
    const admission = new Admission(this.store, { defaultTolerationSeconds: opts.defaultTolerationSeconds, serviceCIDR: opts.serviceCIDR });
    this.core = new ApiCore(this.store, admission);
    new CustomResourceRegistry(this.store).install();
    this.crds = new CrdController(this.core, log.child({ component: 'crd-controller' }));
    this.crds.start();
    this.client = new LocalClient(this.core);
    const advertise = this.advertiseAddress();
    await bootstrapCluster(this.core, {
      serviceIP: new ServiceAllocator(this.store, opts.serviceCIDR).apiServiceIP,
      endpointIP: advertise,
      port: opts.apiListen.port,
    });
    await ensureTopicBindingCrd(this.client);

    const auth = await startClusterAuth({
      core: this.core, dataDir: opts.dataDir, auditLogPath: opts.auditLog, log: log.child({ component: 'auth' }),
      onDenied: (user) => this.metrics.authorizationDenials.inc({ user_kind: userKind(user.username) }),
    });
    this.loops.push(...auth.loops);

    // MQTT: embedded broker unless an external one is configured.
    const topics = new Topics(opts.baseTopic);
    let mqttUrl = opts.mqttUrl;
    if (!mqttUrl) {
      const credentials = await BrokerCredentials.load(opts.dataDir);
      this.broker = await EmbeddedBroker.start({
        listen: `${opts.mqttListen.host}:${opts.mqttListen.port}`,
        ...(opts.mqttTlsListen ? { tls: { listen: `${opts.mqttTlsListen.host}:${opts.mqttTlsListen.port}`, cert: this.pki.serverCert, key: this.pki.serverKey, ca: this.pki.caCert } } : {}),
        credentials, baseTopic: opts.baseTopic, logger: log.child({ component: 'broker' }),
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
    if (!opts.mqttUrl) await adoptJoinedNodes(this.client.list(R.nodes).items.map((n) => n.metadata.name!), opts.dataDir);
    this.loops.push(forgetDeletedNodes(this.client, opts.dataDir, log.child({ component: 'join' })));

    const loops = await startControlLoops({
      client: this.client, core: this.core, telemetry: this.telemetry, log, dataDir: opts.dataDir,
      nodeMonitorGracePeriodMs: opts.nodeMonitorGracePeriodMs, defaultTolerationSeconds: opts.defaultTolerationSeconds,
      podCidrs, link: this.link, topics, homeassistant: opts.homeassistant, authorize: (a) => auth.authorizer.authorize(a).allowed, maxTokenSeconds: opts.maxTokenSeconds, metrics: this.metrics, version: PIKUBE_VERSION.gitVersion,
      alerts: this.store.health,
      volumeHost: { removeDirectory: async (node, path) => {
        if (!this.bridge) throw new Error('not connected to the nodes yet');
        await this.bridge.streams.removeVolume(node, path);
      } },
      images: { check: opts.imagePlatformCheck !== false, clusterCa: this.pki.caCert, ...(opts.registries ? { registries: opts.registries } : {}) },
    });
    this.loops.push(...loops.loops);

    this.bridge = new Bridge({
      link: this.link, topics, core: this.core, client: this.client, telemetry: this.telemetry,
      log: log.child({ component: 'bridge' }),
      serviceAccount: loops.serviceAccountFor({ caCrt: this.pki.caCert, apiServer: `https://${advertise}:${opts.apiListen.port}` }),
      podCidrFor: (node) => podCidrs.cidrFor(node),
      dns: { clusterDomain: opts.clusterDomain },
      clusterConfig: clusterConfigFor(opts.nodeMonitorGracePeriodMs / 1000),
      onNodeDenied: (node, what) => this.metrics.nodeDenials.inc({ node, what }),
    });
    await this.bridge.start();

    const userTokens = new UserTokens();
    const apiUsers = new MqttUserDirectory(opts.dataDir);
    const extraRoutes: ExtraRoute[] = [metricsRoutes({ core: this.core, telemetry: this.telemetry, metrics: this.metrics, store: this.store, link: this.link }), snapshotRoute(this.store), ...loops.routes, ...auth.routes];
    this.api = new ApiServer({
      core: this.core,
      tls: { cert: this.pki.serverCert, key: this.pki.serverKey, ca: this.pki.caCert },
      authenticate: makeAuthenticator(this.pki.adminToken, loops.authenticateServiceAccount, (token) => {
        // The MQTT API gateway's requests: valid only while the user still exists.
        const u = userTokens.authenticate(token);
        return u && apiUsers.apiUser(u.username) ? { username: u.username, groups: u.groups } : undefined;
      }),
      authenticateCertificate: auth.authenticateCertificate,
      gate: auth.gate,
      tokens: loops.issueToken,
      streams: this.bridge.streams,
      upgrade: (req, socket, head, url) => this.bridge!.streams.upgrade(req, socket, head, url),
      extraRoutes,
      selfAuthenticatingRoutes: loops.selfAuthenticatingRoutes,
      version: PIKUBE_VERSION,
      ready: () => this.ready,
      notReady: () => this.store?.health.reason(),
      log,
      onRequest: (verb, resource, code, seconds) => this.metrics.request(verb, resource, code, seconds),
      onWatchCount: (d) => this.metrics.watches(d),
    });
    this.apiAddress = await this.api.listen(opts.apiListen.host, opts.apiListen.port);
    await this.startMqttApi(topics, userTokens, apiUsers);
    this.writeKubeconfig();
    this.ready = true;
    log.info({ api: `https://${this.apiAddress.host}:${this.apiAddress.port}`, mqtt: mqttUrl, dataDir: opts.dataDir }, 'controller ready');
  }

  /**
   * The Kubernetes API over MQTT for users added with `--mqtt`, and Home Assistant's
   * controls under `--homeassistant-user`: both replay requests against this API server.
   */
  private async startMqttApi(topics: Topics, tokens: UserTokens, users: MqttUserDirectory): Promise<void> {
    const { opts } = this;
    const log = opts.log;
    const host = this.apiAddress!.host === '0.0.0.0' || this.apiAddress!.host === '::' ? '127.0.0.1' : this.apiAddress!.host;
    const gateway = new MqttApiGateway({
      link: this.link!, topics, apiUrl: `https://${host.includes(':') ? `[${host}]` : host}:${this.apiAddress!.port}`, ca: this.pki!.caCert,
      identify: (name) => users.lookup(name), tokens, log: log.child({ component: 'mqtt-api' }),
    });
    await gateway.start();
    this.loops.push({ name: 'mqtt-api', start() {}, stop: () => gateway.stop() });
    if (!opts.homeassistant || !opts.homeassistantUser) return;
    const haUser = opts.homeassistantUser;
    const informers = new SharedInformers(this.client!);
    const controls = new HomeAssistantControls({
      link: this.link!, topics, informers, user: haUser, version: PIKUBE_VERSION.gitVersion, log: log.child({ component: 'homeassistant-controls' }),
      execute: async (name, req) => {
        const identity = users.apiUser(name);
        if (!identity) return { id: req.id, code: 401, status: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 401, reason: 'Unauthorized', message: `--homeassistant-user ${name} is no API user: create it with pikube user add` } };
        return gateway.execute(identity, req);
      },
    });
    await controls.start();
    this.loops.push(controls, { name: 'homeassistant-informers', start() {}, stop: () => informers.stop() });
  }

  /** Finishes in-flight writes, then closes everything in reverse order. */
  async stop(): Promise<void> {
    this.ready = false;
    await this.api?.close().catch(() => undefined);
    for (const l of [...this.loops].reverse()) await l.stop();
    this.crds?.stop();
    await this.bridge?.stop().catch(() => undefined);
    await this.join?.stop().catch(() => undefined);
    await this.link?.end().catch(() => undefined);
    await this.broker?.close().catch(() => undefined);
    await this.snapshots?.stop();
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

/** A coarse, bounded label for metrics: never the user name itself. */
function userKind(username: string): string {
  if (username.startsWith('system:serviceaccount:')) return 'serviceaccount';
  if (username.startsWith('system:node:')) return 'node';
  if (username.startsWith('system:')) return 'system';
  return 'user';
}

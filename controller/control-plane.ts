// The control plane's composition root: store, API server, broker, MQTT bridge,
// scheduler and controllers, started in dependency order and stopped in reverse.
import type { RegistriesConfig } from '../protocol/images/registries-yaml.js';
import { writeFileSync, renameSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { LocalStore } from './store/local-store.js';
import type { StoreBackend } from './store/backend.js';
import type { EtcdStore } from './store/etcd/etcd-store.js';
import type { EtcdCompactor } from './store/etcd/compactor.js';
import { openDatastore, type DatastoreOptions } from './cluster/datastore.js';
import { LeaderElector } from './cluster/leader-election.js';
import { SharedNodePasswords } from './cluster/shared-node-passwords.js';
import { TokenSigner, serviceAccountLookup } from './controller-manager/index.js';
import { serviceAccountAuthenticator, serviceAccountTokenIssuer } from './service-account-api.js';
import { ApiError } from './apiserver/errors.js';
import type { PodStreams } from './apiserver/http/resource-routes.js';
import type { SelfAuthenticatingRoute } from './apiserver/http/server.js';
import { hostname } from 'node:os';
import { hpaV1Route } from './apiserver/hpa-v1.js';
import type { ClusterAuth } from './auth/index.js';
import { snapshotRoute } from './apiserver/http/store-snapshot-route.js';
import { ScheduledSnapshots } from './store/scheduled-snapshots.js';
import { ApiCore } from './apiserver/api-core.js';
import { Admission } from './apiserver/admission/admission.js';
import { LocalClient } from './apiserver/local-client.js';
import { AuthorizedClient, MQTT_BRIDGE_USER } from './auth/component-identities.js';
import { bootstrapCluster } from './apiserver/bootstrap.js';
import { ensurePki, hostAddresses, kubeconfigYaml, type ClusterPki } from './apiserver/certs.js';
import { ApiServer, type ExtraRoute } from './apiserver/http/server.js';
import { ServiceAllocator } from './apiserver/admission/service-allocator.js';
import { makeAuthenticator } from './auth/bearer-tokens.js';
import { MqttUserDirectory } from './auth/mqtt-users.js';
import { MqttApiGateway } from './mqtt-api/gateway.js';
import { UserTokens } from './mqtt-api/user-tokens.js';
import { revocationSweep } from './mqtt-api/revocation.js';
import { startMosquittoApiUserSync } from './broker/mosquitto-users.js';
import { HomeAssistantControls } from './homeassistant/controls.js';
import { SharedInformers } from './client/shared-informers.js';
import { NodeTelemetry } from './client/node-telemetry.js';
import { Bridge } from './bridge/bridge.js';
import type { EmbeddedBroker } from './broker/embedded-broker.js';
import { startListeningBroker } from './broker/listeners.js';
import { BrokerCredentials, CONTROLLER_USERNAME, loadControllerPassword } from './broker/credentials.js';
import { JoinService } from './broker/join-service.js';
import { MqttLink, type MessageLink } from '../protocol/mqtt/link.js';
import { InProcessLink } from './broker/in-process-link.js';
import { Topics } from '../protocol/mqtt/topics.js';
import type { ControlLoop } from './client/control-loop.js';
import { PodCidrAllocator } from './controller-manager/pod-cidr.js';
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
  /** The plain listener may be off loopback (--mqtt-insecure-listen); it is logged. */
  mqttListenInsecure?: boolean;
  /** mqttTlsListen is the default address: a taken port is logged, not fatal. */
  mqttTlsListenDefaulted?: boolean;
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
  /** etcd instead of the embedded store; several controllers may share it. */
  datastore?: DatastoreOptions;
  /** The cluster's server token, to take the shared secrets from the datastore. */
  token?: string;
  /** SHA-256 of the cluster CA the token named (K10…): the datastore's cluster must hold it. */
  tokenCaHash?: string;
  /** Leader election (with a datastore): only the leader runs the scheduler, controllers and bridge. */
  leaderElection?: { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
  /** Routes that check credentials themselves (joining a managed etcd cluster). */
  extraSelfRoutes?: SelfAuthenticatingRoute[];
  log: Logger;
}

export const PIKUBE_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-pikube.0.1.0' };

export class Controller {
  private store?: StoreBackend;
  private snapshots?: ScheduledSnapshots;
  private elector?: LeaderElector;
  private compactor?: EtcdCompactor;
  private leading?: Promise<void>;
  private api?: ApiServer;
  private broker?: EmbeddedBroker;
  private link?: MessageLink;
  private bridge?: Bridge;
  private join?: JoinService;
  /** Loops every controller runs. */
  private loops: ControlLoop[] = [];
  /** Loops only the leader runs (the scheduler, the controller manager). */
  private leaderLoops: ControlLoop[] = [];
  private ready = false;
  private crds?: CrdController;
  private auth?: ClusterAuth;
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

  /** `mqtts://` address of the embedded broker's TLS listener, when it has one. */
  get mqttTlsUrl(): string | undefined { return this.broker?.tlsUrl; }

  /** The embedded store's health (disk pressure); etcd reports its own. */
  private get storeHealth(): LocalStore['health'] | undefined {
    return this.store instanceof LocalStore ? this.store.health : undefined;
  }

  async start(): Promise<void> {
    const { opts } = this;
    const log = opts.log;
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    this.store = await openDatastore(opts.dataDir, opts.datastore, opts.token, log, opts.tokenCaHash);
    if (this.store instanceof LocalStore && opts.snapshots && opts.snapshots.intervalMs > 0) {
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
    // Controllers starting together on one datastore may race to create the same objects.
    for (let attempt = 0; ; attempt++) {
      try {
        await bootstrapCluster(this.core, { serviceIP: new ServiceAllocator(this.store, opts.serviceCIDR).apiServiceIP, endpointIP: advertise, port: opts.apiListen.port });
        await ensureTopicBindingCrd(this.client);
        break;
      } catch (err) {
        if (!opts.datastore || attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 200 + Math.random() * 300));
      }
    }

    const auth = await startClusterAuth({
      core: this.core, dataDir: opts.dataDir, auditLogPath: opts.auditLog, log: log.child({ component: 'auth' }),
      onDenied: (user) => this.metrics.authorizationDenials.inc({ user_kind: userKind(user.username) }),
    });
    this.auth = auth;
    this.loops.push(...auth.loops);

    // MQTT: embedded broker unless an external one is configured.
    const topics = new Topics(opts.baseTopic);
    let mqttUrl = opts.mqttUrl;
    if (!mqttUrl) {
      const credentials = await BrokerCredentials.load(opts.dataDir);
      this.broker = await startListeningBroker({
        plain: opts.mqttListen, plainInsecure: opts.mqttListenInsecure,
        ...(opts.mqttTlsListen ? { tls: opts.mqttTlsListen, tlsDefaulted: opts.mqttTlsListenDefaulted } : {}),
      }, { cert: this.pki.serverCert, key: this.pki.serverKey, ca: this.pki.caCert }, {
        credentials, baseTopic: opts.baseTopic, logger: log.child({ component: 'broker' }),
        ...(opts.datastore ? { admitNodes: () => this.elector?.isLeader ?? false } : {}),
      });
      mqttUrl = this.broker.url.replace('0.0.0.0', '127.0.0.1');
    }
    this.mqttUrl = mqttUrl;
    // The embedded broker is reached in process; an external one over the network.
    if (this.broker) {
      this.link = new InProcessLink(this.broker.port());
      this.link.on('error', (err) => log.warn({ err: err.message }, 'mqtt message handler failed'));
    } else {
      const link = new MqttLink({
        url: mqttUrl, clientId: `pikube-controller-${process.pid}`, username: CONTROLLER_USERNAME,
        password: await loadControllerPassword(opts.dataDir), ca: this.pki.caCert, keepaliveSeconds: 15,
      });
      this.link = link;
      link.on('error', (err) => log.warn({ err: err.message }, 'mqtt link error'));
      await link.start({ timeoutMs: 15_000 });
    }
    const podCidrs = new PodCidrAllocator(this.client, opts.clusterCIDR, opts.nodeCIDRMaskSize);
    // Several controllers: every broker must know the nodes that joined through another.
    const sharedPasswords = opts.datastore ? new SharedNodePasswords(this.client, opts.dataDir, log.child({ component: 'join' })) : undefined;
    if (sharedPasswords) { await sharedPasswords.start(); this.loops.push(sharedPasswords); }
    this.join = new JoinService({
      ...(sharedPasswords ? { share: (node: string) => sharedPasswords.publish(node) } : {}),
      link: this.link, dataDir: opts.dataDir, baseTopic: opts.baseTopic,
      ...(opts.mqttUrl && existsSync(join(opts.dataDir, 'mosquitto')) ? { externalBroker: 'mosquitto' as const } : {}),
      logger: log.child({ component: 'join' }),
    });
    await this.join.start();
    if (!opts.mqttUrl) await adoptJoinedNodes(this.client.list(R.nodes).items.map((n) => n.metadata.name!), opts.dataDir);
    this.loops.push(forgetDeletedNodes(this.client, opts.dataDir, log.child({ component: 'join' })));

    this.podCidrs = podCidrs;
    this.topics = topics;
    this.advertise = advertise;
    // The API server's own service-account checks work on every controller.
    const signer = new TokenSigner(join(opts.dataDir, 'pki', 'service-account.key'));
    signer.setLookup(serviceAccountLookup(this.client));
    const userTokens = new UserTokens();
    const apiUsers = new MqttUserDirectory(opts.dataDir);
    const store = this.store;
    const extraRoutes: ExtraRoute[] = [
      metricsRoutes({ core: this.core, telemetry: this.telemetry, metrics: this.metrics, store, link: this.link }),
      ...(store instanceof LocalStore ? [snapshotRoute(store)] : []),
      // etcd's parts are loaded only on an etcd datastore (see cluster/datastore.ts)
      ...(store.kind === 'etcd' ? [(await import('./apiserver/http/etcd-snapshot-route.js')).etcdSnapshotRoute((store as EtcdStore).client)] : []),
      hpaV1Route(this.core), ...auth.routes,
    ];
    // Logs, exec and the status page need the bridge and informers, which run on the leader.
    const streams: PodStreams = {
      logs: (...a) => { if (!this.bridge) throw notLeader(); return (this.bridge.streams as PodStreams).logs(...a); },
      exec: (...a) => { if (!this.bridge) throw notLeader(); return (this.bridge.streams as PodStreams).exec(...a); },
    };
    const statusPage: SelfAuthenticatingRoute = (...a) => this.statusRoutes.length ? this.statusRoutes[0]!(...a) : false;
    this.api = new ApiServer({
      core: this.core,
      tls: { cert: this.pki.serverCert, key: this.pki.serverKey, ca: this.pki.caCert },
      authenticate: makeAuthenticator(this.pki.adminToken, serviceAccountAuthenticator(signer, this.client), (token) => {
        // The MQTT API gateway's requests: valid only while the user still exists.
        const u = userTokens.authenticate(token);
        return u && apiUsers.apiUser(u.username) ? { username: u.username, groups: u.groups } : undefined;
      }),
      authenticateCertificate: auth.authenticateCertificate,
      gate: auth.gate,
      tokens: serviceAccountTokenIssuer(signer, opts.maxTokenSeconds),
      streams,
      upgrade: (req, socket, head, url) => { if (this.bridge) this.bridge.streams.upgrade(req, socket, head, url); else socket.destroy(); },
      extraRoutes,
      selfAuthenticatingRoutes: [statusPage, ...(opts.extraSelfRoutes ?? [])],
      version: PIKUBE_VERSION,
      ready: () => this.ready,
      notReady: () => this.storeHealth?.reason(),
      log,
      onRequest: (verb, resource, code, seconds) => this.metrics.request(verb, resource, code, seconds),
      onWatchCount: (d) => this.metrics.watches(d),
    });
    if (!opts.datastore) await this.startLeading();
    this.apiAddress = await this.api.listen(opts.apiListen.host, opts.apiListen.port);
    await this.startMqttApi(topics, userTokens, apiUsers);
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
    log.info({ api: `https://${this.apiAddress.host}:${this.apiAddress.port}`, mqtt: this.mqttUrl, dataDir: opts.dataDir }, 'controller ready');
  }

  /** The scheduler, the controller manager, the bridge and compaction: on the leader only. */
  private async startLeading(): Promise<void> {
    const { opts } = this;
    const log = opts.log;
    const auth = this.auth!;
    const loops = await startControlLoops({
      client: this.client!, core: this.core!, telemetry: this.telemetry, log, dataDir: opts.dataDir,
      nodeMonitorGracePeriodMs: opts.nodeMonitorGracePeriodMs, defaultTolerationSeconds: opts.defaultTolerationSeconds,
      podCidrs: this.podCidrs!, link: this.link!, topics: this.topics!, homeassistant: opts.homeassistant,
      authorize: (a) => auth.authorizer.authorize(a).allowed, maxTokenSeconds: opts.maxTokenSeconds, metrics: this.metrics, version: PIKUBE_VERSION.gitVersion,
      ...(this.storeHealth ? { alerts: this.storeHealth } : {}),
      volumeHost: { removeDirectory: async (node, path) => {
        if (!this.bridge) throw new Error('not connected to the nodes yet');
        await this.bridge.streams.removeVolume(node, path);
      } },
      images: { check: opts.imagePlatformCheck !== false, clusterCa: this.pki!.caCert, ...(opts.registries ? { registries: opts.registries } : {}) },
    });
    this.leaderLoops = loops.loops;
    this.statusRoutes = loops.selfAuthenticatingRoutes;
    // The bridge reads and writes as its own user, checked by RBAC like any other.
    const bridgeLog = log.child({ component: 'bridge' });
    const bridgeClient = new AuthorizedClient({
      client: new LocalClient(this.core!, MQTT_BRIDGE_USER), user: MQTT_BRIDGE_USER, authorize: (a) => auth.authorizer.authorize(a).allowed, log: bridgeLog,
    });
    const bridge = new Bridge({
      link: this.link!, topics: this.topics!, core: this.core!, client: bridgeClient, telemetry: this.telemetry,
      log: bridgeLog,
      serviceAccount: loops.serviceAccountFor({ caCrt: this.pki!.caCert, apiServer: `https://${this.advertise}:${opts.apiListen.port}` }, bridgeClient),
      podCidrFor: (node) => this.podCidrs!.cidrFor(node),
      dns: { clusterDomain: opts.clusterDomain },
      clusterConfig: clusterConfigFor(opts.nodeMonitorGracePeriodMs / 1000),
      onNodeDenied: (node, what) => this.metrics.nodeDenials.inc({ node, what }),
    });
    this.bridge = bridge;
    await bridge.start();
    if (this.store?.kind === 'etcd') {
      const { EtcdCompactor } = await import('./store/etcd/compactor.js');
      this.compactor = new EtcdCompactor(this.store as EtcdStore, undefined, log.child({ component: 'compactor' }));
      this.compactor.start();
    }
    // Lost the lease while starting: undo at once.
    if (this.elector && !this.elector.isLeader) this.stopLeading();
  }

  /** Stops every leader-only loop at once (their in-flight writes fail on conflicts) and sends the nodes elsewhere. */
  private stopLeading(): void {
    const loops = this.leaderLoops;
    const bridge = this.bridge;
    this.leaderLoops = [];
    this.bridge = undefined;
    this.statusRoutes = [];
    this.compactor?.stop();
    this.compactor = undefined;
    for (const l of [...loops].reverse()) void Promise.resolve(l.stop()).catch(() => undefined);
    void bridge?.stop().catch(() => undefined);
    const dropped = this.broker?.dropNodes() ?? 0;
    if (dropped) this.opts.log.info({ dropped }, 'sent the nodes to the new leader');
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
    const sweep = revocationSweep({ isUser: (name) => users.lookup(name) !== undefined, broker: this.broker, gateway, log: log.child({ component: 'mqtt-api' }) });
    sweep.start();
    this.loops.push(sweep);
    if (opts.mqttUrl && existsSync(join(opts.dataDir, 'mosquitto'))) {
      this.loops.push(await startMosquittoApiUserSync({ dataDir: opts.dataDir, topics, log: log.child({ component: 'mosquitto-users' }) }));
    }
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
    await this.elector?.stop().catch(() => undefined);
    await this.leading;
    this.compactor?.stop();
    await this.api?.close().catch(() => undefined);
    for (const l of [...this.leaderLoops].reverse()) await l.stop();
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

function notLeader(): ApiError {
  return new ApiError(503, 'ServiceUnavailable', 'logs and exec go through the leader controller; this one is a follower');
}

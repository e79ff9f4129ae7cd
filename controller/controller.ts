// The control plane's composition root: store, API server, broker, MQTT bridge,
// scheduler and controllers, started in dependency order and stopped in reverse.
import type { RegistriesConfig } from '../protocol/images/registries-yaml.js';
import { writeFileSync, renameSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { LocalStore } from './store/local-store.js';
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
  /** registries.yaml of the cluster, for reading images' platforms. */
  registries?: RegistriesConfig;
  /** Keep pods off nodes their images have no build for (default on). */
  imagePlatformCheck?: boolean;
  log: Logger;
}

export const PIKUBE_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-pikube.0.1.0' };

export class Controller {
  private store?: LocalStore;
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
    const extraNames = opts.apiListen.host !== '0.0.0.0' && opts.apiListen.host !== '::' ? [opts.apiListen.host] : [];
    this.pki = await ensurePki(opts.dataDir, extraNames);
    const admission = new Admission(this.store, { defaultTolerationSeconds: opts.defaultTolerationSeconds, serviceCIDR: opts.serviceCIDR });
    this.core = new ApiCore(this.store, admission);
    this.client = new LocalClient(this.core);
    const advertise = this.advertiseAddress();
    await bootstrapCluster(this.core, {
      serviceIP: new ServiceAllocator(this.store, opts.serviceCIDR).apiServiceIP,
      endpointIP: advertise,
      port: opts.apiListen.port,
    });

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

    const loops = await startControlLoops({
      client: this.client, core: this.core, telemetry: this.telemetry, log, dataDir: opts.dataDir,
      nodeMonitorGracePeriodMs: opts.nodeMonitorGracePeriodMs, defaultTolerationSeconds: opts.defaultTolerationSeconds,
      podCidrs, link: this.link, topics, homeassistant: opts.homeassistant, metrics: this.metrics, version: PIKUBE_VERSION.gitVersion,
      images: { check: opts.imagePlatformCheck !== false, clusterCa: this.pki.caCert, ...(opts.registries ? { registries: opts.registries } : {}) },
    });
    this.loops = loops.loops;

    this.bridge = new Bridge({
      link: this.link, topics, core: this.core, client: this.client, telemetry: this.telemetry,
      log: log.child({ component: 'bridge' }),
      serviceAccount: loops.serviceAccountFor({ caCrt: this.pki.caCert, apiServer: `https://${advertise}:${opts.apiListen.port}` }),
      podCidrFor: (node) => podCidrs.cidrFor(node),
      dns: { clusterDomain: opts.clusterDomain },
    });
    await this.bridge.start();

    const extraRoutes: ExtraRoute[] = [metricsRoutes({ core: this.core, telemetry: this.telemetry, metrics: this.metrics, store: this.store, link: this.link }), ...loops.routes];
    this.api = new ApiServer({
      core: this.core,
      tls: { cert: this.pki.serverCert, key: this.pki.serverKey },
      authenticate: makeAuthenticator(this.pki.adminToken, loops.authenticateServiceAccount),
      tokens: loops.issueToken,
      streams: this.bridge.streams,
      upgrade: (req, socket, head, url) => this.bridge!.streams.upgrade(req, socket, head, url),
      extraRoutes,
      selfAuthenticatingRoutes: loops.selfAuthenticatingRoutes,
      version: PIKUBE_VERSION,
      ready: () => this.ready,
      log,
      onRequest: (verb, resource, code, seconds) => this.metrics.request(verb, resource, code, seconds),
      onWatchCount: (d) => this.metrics.watches(d),
    });
    this.apiAddress = await this.api.listen(opts.apiListen.host, opts.apiListen.port);
    this.writeKubeconfig();
    this.ready = true;
    log.info({ api: `https://${this.apiAddress.host}:${this.apiAddress.port}`, mqtt: mqttUrl, dataDir: opts.dataDir }, 'controller ready');
  }

  /** Finishes in-flight writes, then closes everything in reverse order. */
  async stop(): Promise<void> {
    this.ready = false;
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

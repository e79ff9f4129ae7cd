// The node agent's composition root: pods first (they run from the agent's own copy of
// the desired set even with no controller), then the MQTT link that keeps that copy
// current and reports node and pod status.
import { join, resolve } from 'node:path';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { EventsPayload, HeartbeatPayload, NodeEvent, NodeStatusPayload, PodStatusUpdate, RequestPayload } from '../protocol/mqtt/payloads.js';
import { MqttLink, SERVER_UNAVAILABLE, splitUrls } from '../protocol/mqtt/link.js';
import { Topics } from '../protocol/mqtt/topics.js';
import { isCleared, parseClusterConfig, parseDesiredPods, parseIngressPayload, parseRequest, parseServiceRouting, PayloadError, PAYLOAD_LIMITS } from '../protocol/mqtt/validate.js';
import { STATUS_REFRESH_SECONDS } from '../protocol/mqtt/heartbeat-policy.js';
import { createRuntime, type RuntimeName, type ContainerRuntime } from './runtime/index.js';
import { PodManager } from './pods/pod-manager.js';
import { forgetCredentials, obtainCredentials, type NodeCredentials } from './join.js';
import { isPlaintextOffHost, loadSavedCa } from './cluster-ca.js';
import { readNodeStatus, type NodeStatusReading } from './node-status.js';
import { ClusterNetworking } from './network/cluster-networking.js';
import type { ProxyModeSetting } from './proxy/service-proxy.js';
import { DesiredStore } from './pods/desired-store.js';
import { statusChangeReason } from './status-change.js';
import { refusalFor } from './pods/request-refusal.js';
import { IngressProxy } from './ingress/ingress-proxy.js';
import { HOT_INGRESS, OptimizerSwitch } from './optimizer-switch.js';
import { INGRESS_PROXY_LABEL } from '../protocol/mqtt/ingress-payload.js';
import { LABEL } from './pods/container-labels.js';
import type { RegistrySettings } from './images/registries-config.js';
import { DEFAULT_IMAGE_GC, ImageGc, type ImageGcOptions } from './images/image-gc.js';
import { DEFAULT_DISK_EVICTION, DiskPressure, type DiskEvictionOptions } from './images/disk-pressure.js';
import { isPinnedImage } from './images/pinned-images.js';
import { evictOneForDisk } from './pods/evict-for-disk.js';
import { isCriticalPod, pressureRejectionMessage } from './pods/disk-eviction.js';

export interface AgentOptions {
  nodeName: string;
  mqttUrl: string;
  joinToken?: string;
  dataDir: string;
  runtime: RuntimeName;
  baseTopic: string;
  /** Beat period until the controller's cluster config says otherwise. */
  heartbeatMs: number;
  /** CA for mqtts:// (otherwise the one saved at the first join, see cluster-ca.ts) */
  ca?: string;
  /** Allows plaintext MQTT to another host for the join (the broker's --mqtt-insecure-listen). */
  mqttInsecure?: boolean;
  runtimeNamespace?: string;
  runtimeNetwork?: string;
  pauseImage?: string;
  /** Service proxy: auto (iptables when usable, else user space), iptables, userspace, off. Default auto. */
  proxyMode?: ProxyModeSetting;
  /** Cluster DNS server for pods (default on, except with the simulated runtime). */
  clusterDns?: boolean;
  /** The built-in ingress proxy's listen address and ports; false turns it off. */
  ingress?: { address?: string; httpPort: number; httpsPort: number } | false;
  /** The process runs without V8's optimising compiler: turn it on once ingress traffic is sustained. */
  optimizeOnHotIngress?: boolean;
  /** Where local-path volumes live (default <dataDir>/storage). */
  storageDir?: string;
  /** Mirrors, insecure registries, per-host TLS and credentials (registries.yaml). */
  registries?: RegistrySettings;
  /** podman: a store of the agent's own instead of the host's default one. */
  podmanRoot?: string;
  /** podman: pod sandboxes kept ready for new pods (0 or undefined = none). */
  sandboxPool?: number;
  imageGc?: ImageGcOptions;
  diskEviction?: DiskEvictionOptions;
  log: Logger;
}

const EVENT_BATCH_MS = 200;

export class Agent {
  readonly runtime: ContainerRuntime;
  readonly pods: PodManager;
  readonly networking: ClusterNetworking;
  readonly ingress?: IngressProxy;
  private link?: MqttLink;
  private readonly topics: Topics;
  private heartbeat?: NodeJS.Timeout;
  private heartbeatMs: number;
  private statusRefreshMs = STATUS_REFRESH_SECONDS * 1000;
  /** The last full status sent, and when: beats stand in for it while nothing moves. */
  private lastSent?: { payload: NodeStatusPayload; at: number };
  private events: NodeEvent[] = [];
  private eventTimer?: NodeJS.Timeout;
  private readonly bootTime = new Date().toISOString();
  private runtimeVersion = { name: 'unknown', version: '0' };
  private lastReading?: NodeStatusReading;
  private stopped = false;
  private connecting?: Promise<void>;
  /** The pod network spare sandboxes are kept on; null before the first. */
  private sparesOn: string | undefined | null = null;
  readonly imageGc: ImageGc;
  readonly diskPressure: DiskPressure;
  private diskTimer?: NodeJS.Timeout;

  get storageDir(): string { return resolve(this.opts.storageDir ?? join(this.opts.dataDir, 'storage')); }

  constructor(private readonly opts: AgentOptions) {
    this.topics = new Topics(opts.baseTopic);
    this.heartbeatMs = opts.heartbeatMs;
    this.runtime = createRuntime(opts.runtime, {
      namespace: opts.runtimeNamespace, network: opts.runtimeNetwork, pauseImage: opts.pauseImage, log: opts.log,
      ...(opts.registries ? { registries: opts.registries } : {}), ...(opts.podmanRoot ? { storageRoot: opts.podmanRoot } : {}),
      // spares say whose sandboxes they are: a dead one's infra event then makes the pods look
      // again; without --sandbox-pool the claims of an earlier run's spares still hold
      sandboxPool: { size: opts.sandboxPool ?? 0, owner: opts.nodeName, dir: join(opts.dataDir, 'sandboxes'), labels: { [LABEL.node]: opts.nodeName, [LABEL.kind]: 'sandbox' } },
    });
    const nodeEvent = (type: 'Normal' | 'Warning', reason: string, message: string) => this.queueEvent({
      involvedObject: { kind: 'Node', name: opts.nodeName, uid: opts.nodeName }, type, reason, message, time: new Date().toISOString(),
    });
    const imageLog = opts.log.child({ component: 'images' });
    this.imageGc = new ImageGc(this.runtime, opts.imageGc ?? DEFAULT_IMAGE_GC, {
      log: imageLog, event: nodeEvent, pinned: (img) => isPinnedImage(img, opts.pauseImage),
      onRemoved: () => this.pods.puller.forgetImages(),
    });
    this.diskPressure = new DiskPressure(opts.diskEviction ?? DEFAULT_DISK_EVICTION, {
      nodefsPath: opts.dataDir, gc: this.imageGc, log: imageLog, event: nodeEvent,
      // the condition goes out at once, not after this round's reclaim and eviction
      onChange: () => void this.publishStatus({ full: true }),
      evict: (starved) => evictOneForDisk({ pods: this.pods, runtime: this.runtime, dataDir: opts.dataDir, log: imageLog }, starved),
    });
    this.networking = new ClusterNetworking({
      nodeName: opts.nodeName, runtime: opts.runtime, runtimeNetwork: opts.runtimeNetwork,
      runtimeCliArgs: opts.runtime === 'nerdctl' ? ['--namespace', opts.runtimeNamespace ?? 'pikube'] : [],
      proxyMode: opts.proxyMode ?? 'auto', ...(opts.clusterDns !== undefined ? { clusterDns: opts.clusterDns } : {}),
      log: opts.log.child({ component: 'networking' }),
    });
    this.pods = new PodManager({
      nodeName: opts.nodeName, dataDir: opts.dataDir, storageDir: this.storageDir, runtime: this.runtime, log: opts.log.child({ component: 'pods' }),
      onStatus: (updates) => this.publishPodStatus(updates),
      onEvent: (e) => this.queueEvent(e),
      hostIP: () => this.lastReading?.addresses.find((a) => a.type === 'InternalIP')?.address,
      network: () => this.networking.network,
      dns: () => this.networking.podDns(),
      pulls: {
        ...(opts.registries ? { configuredCredential: (registry: string) => opts.registries!.credential(registry) } : {}),
        onImageUsed: (ref) => this.imageGc.used(ref),
      },
      // under disk pressure only critical pods are admitted, as the kubelet's eviction manager admits
      admit: (pod) => (this.diskPressure.underPressure && !isCriticalPod(pod) ? pressureRejectionMessage(['DiskPressure']) : undefined),
    });
    if (opts.ingress) {
      const optimizer = opts.optimizeOnHotIngress ? new OptimizerSwitch({ ...HOT_INGRESS, log: opts.log }) : undefined;
      this.ingress = new IngressProxy({
        nodeName: opts.nodeName, certDir: join(opts.dataDir, 'ingress'), ...opts.ingress, log: opts.log.child({ component: 'ingress' }),
        onListening: () => void this.publishStatus({ full: true }),
        ...(optimizer ? { onRequest: () => optimizer.hit() } : {}),
      });
    }
  }

  async start(): Promise<void> {
    const log = this.opts.log;
    try {
      this.runtimeVersion = await this.runtime.version();
    } catch (err) {
      log.warn({ runtime: this.opts.runtime, err: String(err) }, 'container runtime does not answer; will keep trying');
    }
    if (this.opts.registries) await this.opts.registries.materialise(join(this.opts.dataDir, 'registries'));
    this.imageGc.start();
    this.startDiskChecks();
    // The pod network (from the saved pod range) must exist before the saved pods come back.
    const saved = await new DesiredStore(this.opts.dataDir).load().catch((err: Error) => {
      // Set aside by the store: the agent waits for the controller instead of guessing.
      log.warn({ err: err.message }, 'saved desired pod set unusable; waiting for the controller');
      return undefined;
    });
    await this.networking.start(saved?.podCIDR);
    // Pods come back from the agent's own copy before anything touches the network.
    await this.pods.start();
    // spares only once the saved pods are back: they would compete with them for the CPU
    await this.keepSpares();
    await this.ingress?.start();
    this.connecting = this.connect();
    // Without a saved identity the agent cannot work at all: the first join must succeed.
    await this.connecting;
  }

  /**
   * Spare sandboxes (when the runtime keeps any) follow the pod network, from the moment
   * the node has its pod range: before that, pods would land on the runtime's default.
   */
  private async keepSpares(): Promise<void> {
    const network = this.networking.network;
    if (this.stopped || !this.runtime.keepSandboxesReady || this.networking.podRange === undefined || network === this.sparesOn) return;
    this.sparesOn = network;
    await this.runtime.keepSandboxesReady(network).catch((err) => this.opts.log.warn({ err: String(err) }, 'cannot keep spare pod sandboxes'));
  }

  private async connect(): Promise<void> {
    const { opts, topics } = this;
    const log = opts.log;
    let creds: NodeCredentials;
    for (;;) {
      try {
        creds = await obtainCredentials({ mqttUrl: opts.mqttUrl, nodeName: opts.nodeName, joinToken: opts.joinToken, dataDir: opts.dataDir, baseTopic: opts.baseTopic, ca: opts.ca, insecure: opts.mqttInsecure });
        break;
      } catch (err) {
        if (this.stopped) return;
        const msg = (err as Error).message;
        if (/no saved MQTT credentials|invalid node name|refused the join token|refusing to/.test(msg)) throw err;
        log.warn({ err: msg }, 'cannot join yet; retrying');
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
    const ca = opts.ca ?? await loadSavedCa(opts.dataDir);
    const clear = splitUrls(opts.mqttUrl).filter(isPlaintextOffHost);
    if (clear.length > 0) log.warn({ urls: clear }, 'MQTT in plaintext to another host: the node password and secrets travel unencrypted; use mqtts://');
    const link = new MqttLink({
      url: opts.mqttUrl, clientId: `pikube-agent-${opts.nodeName}`, username: creds.username, password: creds.password,
      ca, keepaliveSeconds: 15, availabilityTopic: topics.availability(opts.nodeName),
    });
    this.link = link;
    link.on('error', (err) => log.warn({ err: err.message }, 'mqtt link error'));
    link.on('refused', (err) => {
      if (err.code === SERVER_UNAVAILABLE) { log.info({ err: err.message }, 'broker does not serve nodes now (not the leader); trying the next'); return; }
      // Our credentials no longer work (the controller was rebuilt): join again next time.
      log.error({ err: err.message }, 'broker refused our credentials; forgetting them');
      void forgetCredentials(opts.dataDir);
    });
    link.on('offline', () => log.warn({}, 'controller unreachable; pods keep running'));
    link.onConnect(async () => {
      log.info({ url: opts.mqttUrl }, 'connected to the controller');
      await this.publishStatus({ full: true });
      this.pods.resendAllStatus();
    });
    await link.start({ failOnRefusal: false });
    await link.subscribe(topics.pods(opts.nodeName), (_t, buf) => {
      if (isCleared(buf)) return;
      try {
        const desired = parseDesiredPods(buf);
        // the pod network for the node's range first: new pods are created on it
        void this.networking.setPodCIDR(desired.podCIDR)
          .then(() => { void this.keepSpares(); return this.pods.setDesired(desired); })
          .catch((err) => log.warn({ err: String(err) }, 'desired pod set refused'));
      } catch (err) {
        log.warn({ err: err instanceof PayloadError ? err.message : String(err) }, 'dropped a malformed desired pod set');
      }
    });
    await link.subscribe(topics.services(), (_t, buf) => {
      if (isCleared(buf)) return;
      try {
        const routing = parseServiceRouting(buf);
        this.networking.onServices(routing);
        this.ingress?.setServices(routing);
      } catch (err) {
        log.warn({ err: err instanceof PayloadError ? err.message : String(err) }, 'dropped a malformed service routing payload');
      }
    });
    if (this.ingress) {
      const ingress = this.ingress;
      await link.subscribe(topics.ingress(opts.nodeName), (_t, buf) => {
        if (isCleared(buf)) return ingress.setRoutes(undefined);
        try {
          ingress.setRoutes(parseIngressPayload(buf));
        } catch (err) {
          log.warn({ err: err instanceof PayloadError ? err.message : String(err) }, 'dropped a malformed ingress payload');
        }
      });
    }
    await link.subscribe(topics.nodeRequests(opts.nodeName), (topic, buf) => {
      let req: RequestPayload;
      try {
        req = parseRequest(buf);
      } catch (err) {
        log.warn({ topic, err: String(err) }, 'refused a malformed request');
        const refusal = refusalFor(buf, err);
        if (refusal) void link.publish(topics.response(opts.nodeName, refusal.op), refusal.chunk, { qos: 1 }).catch(() => undefined);
        return;
      }
      const op = req.op;
      this.pods.handleRequest(req, (chunk) => {
        void link.publish(topics.response(opts.nodeName, op), chunk, { qos: 1 }).catch(() => undefined);
      });
    });
    await link.subscribe(topics.clusterConfig(), (_t, buf) => {
      if (isCleared(buf)) return;
      try {
        const config = parseClusterConfig(buf);
        this.statusRefreshMs = config.statusRefreshSeconds * 1000;
        const ms = Math.round(config.heartbeatSeconds * 1000);
        if (ms !== this.heartbeatMs) {
          log.info({ heartbeatSeconds: config.heartbeatSeconds, nodeMonitorGracePeriodSeconds: config.nodeMonitorGracePeriodSeconds }, 'heartbeat period set by the controller');
          this.heartbeatMs = ms;
          this.scheduleHeartbeat();
        }
      } catch (err) {
        log.warn({ err: err instanceof PayloadError ? err.message : String(err) }, 'dropped a malformed cluster config');
      }
    });
    this.scheduleHeartbeat();
  }

  private scheduleHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.stopped) return;
    this.heartbeat = setInterval(() => void this.publishStatus({ full: false }), this.heartbeatMs);
  }

  /**
   * Every heartbeat: the retained full status when something a user or the scheduler
   * would notice moved (or the refresh period ran out), a small liveness beat otherwise.
   * On start and reconnect always the full status.
   */
  private async publishStatus(o: { full: boolean }): Promise<void> {
    const link = this.link;
    if (!link || this.stopped) return;
    try {
      const reading = await readNodeStatus(this.runtimeVersion, { hostname: this.opts.nodeName, proxyMode: this.networking.proxyMode });
      reading.pressure.disk = this.diskPressure.underPressure;
      reading.images = this.imageGc.nodeImages();
      this.lastReading = reading;
      const pods = await this.podUsage();
      // Whether this node serves Ingress is part of what it reports about itself.
      const labels = { ...reading.labels, [INGRESS_PROXY_LABEL]: this.ingress?.listening ? 'on' : 'off' };
      const payload: NodeStatusPayload = { ...reading, labels, bootTime: this.bootTime, pods, storageDir: this.storageDir };
      const now = Date.now();
      const due = o.full || !this.lastSent || now - this.lastSent.at >= this.statusRefreshMs
        || statusChangeReason(this.lastSent.payload, payload) !== undefined;
      if (due) {
        await link.publish(this.topics.status(this.opts.nodeName), payload, { retain: true, qos: 1, ifConnected: true });
        this.lastSent = { payload, at: now };
      } else {
        const beat: HeartbeatPayload = { time: payload.time };
        await link.publish(this.topics.heartbeat(this.opts.nodeName), beat, { qos: 1, ifConnected: true });
      }
    } catch (err) {
      this.opts.log.warn({ err: String(err) }, 'node status not published');
    }
  }

  /**
   * Per-pod usage, but never holding up the heartbeat: a runtime busy removing containers
   * can take seconds to answer `stats`, so a slow reading is used next time instead.
   */
  private lastUsage: Awaited<ReturnType<PodManager['usage']>> = [];
  private usageReading?: Promise<void>;
  private async podUsage(): Promise<Awaited<ReturnType<PodManager['usage']>>> {
    this.usageReading ??= this.pods.usage()
      .then((u) => { this.lastUsage = u; }, () => undefined)
      .finally(() => { this.usageReading = undefined; });
    await Promise.race([this.usageReading, new Promise((r) => setTimeout(r, 1500).unref())]);
    return this.lastUsage;
  }

  private publishPodStatus(updates: PodStatusUpdate[]): void {
    const link = this.link;
    if (!link) return;
    // Stay below the topic's size limit: split big batches.
    const limit = PAYLOAD_LIMITS['pod-status'] / 2;
    let batch: PodStatusUpdate[] = [];
    let size = 0;
    const flush = () => {
      if (!batch.length) return;
      void link.publish(this.topics.podStatus(this.opts.nodeName), { updates: batch }, { qos: 1 }).catch(() => undefined);
      batch = [];
      size = 0;
    };
    for (const u of updates) {
      const s = JSON.stringify(u).length;
      if (size + s > limit) flush();
      batch.push(u);
      size += s;
    }
    flush();
  }

  private queueEvent(e: NodeEvent): void {
    this.events.push(e);
    if (this.eventTimer) return;
    this.eventTimer = setTimeout(() => {
      this.eventTimer = undefined;
      const events = this.events.splice(0, 100);
      if (this.events.length) this.queueEvent(this.events.shift()!);
      void this.link?.publish(this.topics.events(this.opts.nodeName), { events } satisfies EventsPayload, { qos: 1 }).catch(() => undefined);
    }, EVENT_BATCH_MS);
  }

  /** The eviction manager's disk signals, every 10 s (its monitoring interval); a change is published at once. */
  private startDiskChecks(): void {
    const tick = () => {
      void this.diskPressure.check()
        .catch((err) => this.opts.log.warn({ err: String(err) }, 'disk check failed'))
        .finally(() => { if (!this.stopped) this.diskTimer = setTimeout(tick, Math.min(10_000, this.opts.imageGc?.periodMs ?? 10_000)).unref(); });
    };
    tick();
  }

  /** Leaves containers running: an agent restart or upgrade must not restart pods. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.imageGc.stop();
    if (this.diskTimer) clearTimeout(this.diskTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.eventTimer) clearTimeout(this.eventTimer);
    await this.pods.stop();
    await this.runtime.releaseSpareSandboxes?.().catch((err) => this.opts.log.warn({ err: String(err) }, 'cannot remove spare pod sandboxes'));
    await this.ingress?.stop();
    await this.networking.stop().catch((err) => this.opts.log.warn({ err: String(err) }, 'networking stop failed'));
    await this.link?.end().catch(() => undefined);
  }
}

export function defaultNodeName(): string {
  return hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-');
}

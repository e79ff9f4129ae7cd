// The node agent's composition root: pods first (they run from the agent's own copy of
// the desired set even with no controller), then the MQTT link that keeps that copy
// current and reports node and pod status.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { EventsPayload, NodeEvent, PodStatusUpdate, RequestPayload } from '../protocol/mqtt/payloads.js';
import { MqttLink, SERVER_UNAVAILABLE } from '../protocol/mqtt/link.js';
import { Topics } from '../protocol/mqtt/topics.js';
import { isCleared, parseDesiredPods, parseRequest, parseServiceRouting, PayloadError, PAYLOAD_LIMITS } from '../protocol/mqtt/validate.js';
import { createRuntime, type RuntimeName, type ContainerRuntime } from './runtime/index.js';
import { PodManager } from './pods/pod-manager.js';
import { forgetCredentials, obtainCredentials, type NodeCredentials } from './join.js';
import { readNodeStatus, type NodeStatusReading } from './node-status.js';
import { ClusterNetworking } from './network/cluster-networking.js';
import type { ProxyModeSetting } from './proxy/service-proxy.js';
import { DesiredStore } from './pods/desired-store.js';

export interface AgentOptions {
  nodeName: string;
  mqttUrl: string;
  joinToken?: string;
  dataDir: string;
  runtime: RuntimeName;
  baseTopic: string;
  heartbeatMs: number;
  /** CA for mqtts:// */
  ca?: string;
  runtimeNamespace?: string;
  runtimeNetwork?: string;
  pauseImage?: string;
  /** Service proxy: auto (iptables when usable, else user space), iptables, userspace, off. Default auto. */
  proxyMode?: ProxyModeSetting;
  /** Cluster DNS server for pods (default on, except with the simulated runtime). */
  clusterDns?: boolean;
  log: Logger;
}

const EVENT_BATCH_MS = 200;

export class Agent {
  readonly runtime: ContainerRuntime;
  readonly pods: PodManager;
  readonly networking: ClusterNetworking;
  private link?: MqttLink;
  private readonly topics: Topics;
  private heartbeat?: NodeJS.Timeout;
  private events: NodeEvent[] = [];
  private eventTimer?: NodeJS.Timeout;
  private readonly bootTime = new Date().toISOString();
  private runtimeVersion = { name: 'unknown', version: '0' };
  private lastReading?: NodeStatusReading;
  private stopped = false;
  private connecting?: Promise<void>;

  constructor(private readonly opts: AgentOptions) {
    this.topics = new Topics(opts.baseTopic);
    this.runtime = createRuntime(opts.runtime, {
      namespace: opts.runtimeNamespace, network: opts.runtimeNetwork, pauseImage: opts.pauseImage, log: opts.log,
    });
    this.networking = new ClusterNetworking({
      nodeName: opts.nodeName, runtime: opts.runtime, runtimeNetwork: opts.runtimeNetwork,
      runtimeCliArgs: opts.runtime === 'nerdctl' ? ['--namespace', opts.runtimeNamespace ?? 'pikube'] : [],
      proxyMode: opts.proxyMode ?? 'auto', ...(opts.clusterDns !== undefined ? { clusterDns: opts.clusterDns } : {}),
      log: opts.log.child({ component: 'networking' }),
    });
    this.pods = new PodManager({
      nodeName: opts.nodeName, dataDir: opts.dataDir, runtime: this.runtime, log: opts.log.child({ component: 'pods' }),
      onStatus: (updates) => this.publishPodStatus(updates),
      onEvent: (e) => this.queueEvent(e),
      hostIP: () => this.lastReading?.addresses.find((a) => a.type === 'InternalIP')?.address,
      network: () => this.networking.network,
      dns: () => this.networking.podDns(),
    });
  }

  async start(): Promise<void> {
    const log = this.opts.log;
    try {
      this.runtimeVersion = await this.runtime.version();
    } catch (err) {
      log.warn({ runtime: this.opts.runtime, err: String(err) }, 'container runtime does not answer; will keep trying');
    }
    // The pod network (from the saved pod range) must exist before the saved pods come back.
    const saved = await new DesiredStore(this.opts.dataDir).load().catch(() => undefined);
    await this.networking.start(saved?.podCIDR);
    // Pods come back from the agent's own copy before anything touches the network.
    await this.pods.start();
    this.connecting = this.connect();
    // Without a saved identity the agent cannot work at all: the first join must succeed.
    await this.connecting;
  }

  private async connect(): Promise<void> {
    const { opts, topics } = this;
    const log = opts.log;
    let creds: NodeCredentials;
    for (;;) {
      try {
        creds = await obtainCredentials({ mqttUrl: opts.mqttUrl, nodeName: opts.nodeName, joinToken: opts.joinToken, dataDir: opts.dataDir, baseTopic: opts.baseTopic, ca: opts.ca });
        break;
      } catch (err) {
        if (this.stopped) return;
        const msg = (err as Error).message;
        if (/no saved MQTT credentials|invalid node name|refused the join token/.test(msg)) throw err;
        log.warn({ err: msg }, 'cannot join yet; retrying');
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
    const link = new MqttLink({
      url: opts.mqttUrl, clientId: `pikube-agent-${opts.nodeName}`, username: creds.username, password: creds.password,
      ca: opts.ca, keepaliveSeconds: 15, availabilityTopic: topics.availability(opts.nodeName),
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
      await this.publishStatus();
      this.pods.resendAllStatus();
    });
    await link.start({ failOnRefusal: false });
    await link.subscribe(topics.pods(opts.nodeName), (_t, buf) => {
      if (isCleared(buf)) return;
      try {
        const desired = parseDesiredPods(buf);
        // the pod network for the node's range first: new pods are created on it
        void this.networking.setPodCIDR(desired.podCIDR)
          .then(() => this.pods.setDesired(desired))
          .catch((err) => log.warn({ err: String(err) }, 'desired pod set refused'));
      } catch (err) {
        log.warn({ err: err instanceof PayloadError ? err.message : String(err) }, 'dropped a malformed desired pod set');
      }
    });
    await link.subscribe(topics.services(), (_t, buf) => {
      if (isCleared(buf)) return;
      try {
        this.networking.onServices(parseServiceRouting(buf));
      } catch (err) {
        log.warn({ err: err instanceof PayloadError ? err.message : String(err) }, 'dropped a malformed service routing payload');
      }
    });
    await link.subscribe(topics.nodeRequests(opts.nodeName), (topic, buf) => {
      let req: RequestPayload;
      try {
        req = parseRequest(buf);
      } catch (err) {
        log.warn({ topic, err: String(err) }, 'dropped a malformed request');
        return;
      }
      const op = req.op;
      this.pods.handleRequest(req, (chunk) => {
        void link.publish(topics.response(opts.nodeName, op), chunk, { qos: 1 }).catch(() => undefined);
      });
    });
    this.heartbeat = setInterval(() => void this.publishStatus(), opts.heartbeatMs);
  }

  /** Retained node status: start, reconnect and every heartbeat. */
  private async publishStatus(): Promise<void> {
    const link = this.link;
    if (!link || this.stopped) return;
    try {
      const reading = await readNodeStatus(this.runtimeVersion, { hostname: this.opts.nodeName, proxyMode: this.networking.proxyMode });
      this.lastReading = reading;
      const pods = await this.podUsage();
      await link.publish(this.topics.status(this.opts.nodeName), { ...reading, bootTime: this.bootTime, pods }, { retain: true, qos: 1, ifConnected: true });
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

  /** Leaves containers running: an agent restart or upgrade must not restart pods. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.eventTimer) clearTimeout(this.eventTimer);
    await this.pods.stop();
    await this.networking.stop().catch((err) => this.opts.log.warn({ err: String(err) }, 'networking stop failed'));
    await this.link?.end().catch(() => undefined);
  }
}

export function defaultNodeName(): string {
  return hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-');
}

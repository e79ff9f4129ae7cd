// `--homeassistant`: announces every Node to Home Assistant through MQTT discovery and keeps
// each node's sensor values on one retained state topic. Configs are re-sent when Home
// Assistant says `online` on its status topic and after the controller reconnects; they
// are cleared (empty retained payloads) when the Node is deleted. State is published when
// it changes, at most once per interval per node, and refreshed now and then so that
// Home Assistant's expire_after only fires when the controller is really gone.
import type { Logger } from 'pino';
import type { Node, Pod } from '../../protocol/kube/types.js';
import type { MessageLink } from '../../protocol/mqtt/link.js';
import type { Topics } from '../../protocol/mqtt/topics.js';
import { R } from '../apiserver/client.js';
import type { NodeTelemetry } from '../client/node-telemetry.js';
import type { ControlLoop } from '../client/control-loop.js';
import { objectKey, type Informer } from '../client/informer.js';
import type { SharedInformers } from '../client/shared-informers.js';
import { discoveryMessages, discoveryTopicsOf, type NodeDevice } from './node-discovery.js';
import { BIRTH_TOPIC, stateTopic } from './homeassistant-topics.js';

export interface HomeAssistantOptions {
  link: MessageLink;
  topics: Topics;
  telemetry: NodeTelemetry;
  informers: SharedInformers;
  log: Logger;
  /** pikube's version, for the device's origin. */
  version: string;
  /** Shortest time between two state messages of one node. Default 10 s. */
  minIntervalMs?: number;
  /** Unchanged state is re-sent this often. Default 60 s. */
  refreshMs?: number;
}

/** The values behind a node's sensors. */
export interface NodeState {
  cpu_percent: number | null;
  memory_percent: number | null;
  temperature_c?: number;
  pods_running: number;
}

interface NodeEntry {
  /** The announced device, to notice what changes its configs. */
  announced?: string;
  lastState?: string;
  lastSentAt: number;
  timer?: NodeJS.Timeout;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export class HomeAssistantPublisher implements ControlLoop {
  readonly name = 'homeassistant';
  private readonly entries = new Map<string, NodeEntry>();
  /** Running pods by node, from pod events. */
  private readonly running = new Map<string, Set<string>>();
  private nodes?: Informer<Node>;
  private pods?: Informer<Pod>;
  private unsubscribe?: () => Promise<void>;
  private offConnect?: () => void;
  private refresher?: NodeJS.Timeout;
  private stopped = false;
  private readonly minIntervalMs: number;
  private readonly refreshMs: number;

  constructor(private readonly opts: HomeAssistantOptions) {
    this.minIntervalMs = opts.minIntervalMs ?? 10_000;
    this.refreshMs = opts.refreshMs ?? 60_000;
  }

  async start(): Promise<void> {
    const { informers, telemetry, link } = this.opts;
    this.nodes = informers.get<Node>(R.nodes);
    this.pods = informers.get<Pod>(R.pods);
    this.pods.on((type, pod, old) => { if (!this.stopped) this.onPod(type, pod, old); });
    this.nodes.on((type, node) => { if (!this.stopped) this.onNode(type, node); });
    this.pods.start();
    this.nodes.start();
    // Shared informers may have started before our handlers were attached: replay them.
    for (const p of this.pods.list()) this.onPod('ADDED', p);
    for (const n of this.nodes.list()) this.onNode('ADDED', n);
    telemetry.on('change', this.onTelemetry);
    this.unsubscribe = await link.subscribe(BIRTH_TOPIC, (_topic, payload) => {
      // Home Assistant sends a bare `online`; tolerate a JSON string too.
      if (payload.toString('utf8').trim().replace(/^"(.*)"$/, '$1') === 'online') this.announceAll('home assistant came online');
    });
    // A broker without persistence forgets retained configs when it restarts.
    this.offConnect = link.onConnect(() => this.announceAll('reconnected to the broker'));
    this.refresher = setInterval(() => this.refresh(), this.refreshMs);
    this.refresher.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.opts.telemetry.off('change', this.onTelemetry);
    this.offConnect?.();
    if (this.refresher) clearInterval(this.refresher);
    for (const e of this.entries.values()) if (e.timer) clearTimeout(e.timer);
    await this.unsubscribe?.().catch(() => undefined);
  }

  /** What the node's sensors show right now. */
  stateOf(node: string): NodeState | undefined {
    const t = this.opts.telemetry.get(node);
    if (!t?.usage || !t.capacity) return undefined;
    const pct = (used: number, total: number) => (total > 0 ? round1((used / total) * 100) : null);
    return {
      cpu_percent: pct(t.usage.cpuCores, t.capacity.cpuCores),
      memory_percent: pct(t.usage.memoryBytes, t.capacity.memoryBytes),
      ...(t.temperatureC !== undefined ? { temperature_c: round1(t.temperatureC) } : {}),
      pods_running: this.running.get(node)?.size ?? 0,
    };
  }

  private onNode(type: 'ADDED' | 'MODIFIED' | 'DELETED', node: Node): void {
    const name = node.metadata.name!;
    if (type === 'DELETED') {
      this.forget(name);
      return;
    }
    this.announce(name, false);
    this.scheduleState(name);
  }

  private onPod(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: Pod, old?: Pod): void {
    const key = objectKey(pod);
    const touched = new Set([old?.spec?.nodeName, pod.spec?.nodeName].filter((n): n is string => !!n));
    for (const n of touched) this.running.get(n)?.delete(key);
    const node = pod.spec?.nodeName;
    if (type !== 'DELETED' && node && pod.status?.phase === 'Running') {
      let set = this.running.get(node);
      if (!set) this.running.set(node, (set = new Set()));
      set.add(key);
    }
    for (const n of touched) if (this.entries.has(n)) this.scheduleState(n);
  }

  private readonly onTelemetry = (node: string): void => {
    if (this.stopped || !this.entries.has(node)) return;
    // A temperature reading that appears later adds the temperature sensor.
    this.announce(node, false);
    this.scheduleState(node);
  };

  private device(name: string): NodeDevice | undefined {
    const node = this.nodes?.get(undefined, name);
    if (!node) return undefined;
    const info = node.status?.nodeInfo;
    const model = info ? [info.osImage, info.architecture].filter(Boolean).join(', ') || 'node' : 'node';
    return {
      name, model: `pikube node (${model})`, swVersion: info?.kubeletVersion || this.opts.version,
      hasTemperature: this.opts.telemetry.get(name)?.temperatureC !== undefined,
    };
  }

  /** Publishes the node's configs when they changed (or always, when forced). */
  private announce(name: string, force: boolean): void {
    const device = this.device(name);
    if (!device) return;
    let entry = this.entries.get(name);
    if (!entry) this.entries.set(name, (entry = { lastSentAt: 0 }));
    const fingerprint = JSON.stringify(device);
    if (!force && entry.announced === fingerprint) return;
    entry.announced = fingerprint;
    for (const m of discoveryMessages(this.opts.topics, device, this.opts.version)) {
      this.send(m.topic, m.payload, 'discovery config');
    }
  }

  private announceAll(why: string): void {
    if (this.stopped) return;
    this.opts.log.info({ nodes: this.entries.size, why }, 'announcing nodes to home assistant');
    for (const name of this.entries.keys()) {
      this.announce(name, true);
      this.publishState(name, true);
    }
  }

  private forget(name: string): void {
    const entry = this.entries.get(name);
    if (entry?.timer) clearTimeout(entry.timer);
    this.entries.delete(name);
    this.running.delete(name);
    for (const topic of discoveryTopicsOf(name)) this.send(topic, '', 'discovery removal');
    this.send(stateTopic(this.opts.topics, name), '', 'state removal');
    this.opts.log.info({ node: name }, 'node removed from home assistant');
  }

  /** State on change, but no more often than minIntervalMs per node. */
  private scheduleState(name: string): void {
    const entry = this.entries.get(name);
    if (!entry || entry.timer) return;
    const wait = entry.lastSentAt + this.minIntervalMs - Date.now();
    if (wait <= 0) {
      this.publishState(name, false);
      return;
    }
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (!this.stopped && this.entries.get(name) === entry) this.publishState(name, false);
    }, wait);
    entry.timer.unref();
  }

  private publishState(name: string, force: boolean): void {
    const entry = this.entries.get(name);
    const state = this.stateOf(name);
    if (!entry || !state) return;
    const json = JSON.stringify(state);
    if (!force && json === entry.lastState) return;
    entry.lastState = json;
    entry.lastSentAt = Date.now();
    this.send(stateTopic(this.opts.topics, name), state, 'state');
  }

  private refresh(): void {
    for (const [name, entry] of this.entries) {
      if (Date.now() - entry.lastSentAt >= this.refreshMs && !entry.timer) this.publishState(name, true);
    }
  }

  private send(topic: string, payload: object | '', what: string): void {
    this.opts.link.publish(topic, payload, { retain: true, qos: 1 })
      .catch((err: Error) => this.opts.log.warn({ topic, err: err.message }, `home assistant ${what} not published`));
  }
}

// Node lifecycle: notices agents that went away, marks their nodes NotReady, taints
// them, and evicts their pods once the pods' tolerations run out, like upstream's node
// lifecycle controller with taint-based eviction. Liveness comes from the in-memory
// telemetry the bridge feeds (heartbeats never touch the store); timers, not polling,
// notice a heartbeat that stops.
//
// Division of labour with the bridge: the bridge writes Ready=True (and False) from
// what the agent reports; this controller only ever writes Unknown.
import { pino, type Logger } from 'pino';
import type { Node, NodeCondition, Pod, PodCondition, Taint } from '../../protocol/kube/types.js';
import { R, type ClusterClient } from '../apiserver/client.js';
import type { NodeTelemetry } from '../client/node-telemetry.js';
import { PRESSURE_TAINT_KEYS, pressureTaints } from './pressure-taints.js';
import { TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, toleratesTaint } from '../scheduler/taints.js';
import { ignoreNotFound, isConflict, isNotFound } from '../client/api-errors.js';
import type { ControlLoop } from '../client/control-loop.js';
import { EventRecorder } from '../client/event-recorder.js';
import { objectKey, type Informer } from '../client/informer.js';
import { WorkQueue } from '../client/work-queue.js';
import { SharedInformers } from '../client/shared-informers.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

export interface NodeLifecycleOptions {
  /** A node whose agent has been silent this long is NotReady. */
  nodeMonitorGracePeriodMs: number;
  /** tolerationSeconds for pods that carry no toleration of their own for not-ready/unreachable. */
  defaultTolerationSeconds: number;
  /**
   * How long an evicted pod on an unreachable node may stay Terminating before it is
   * deleted with grace 0 (its agent cannot confirm the stop). Default 0: at once.
   */
  podEvictionTimeoutMs?: number;
}

export interface NodeLifecycleDeps extends NodeLifecycleOptions {
  client: ClusterClient;
  telemetry: NodeTelemetry;
  log?: Logger;
  recorder?: EventRecorder;
  informers?: SharedInformers;
}

/** healthy: online and heard from recently; unhealthy: offline or silent too long; undetermined: not heard from yet, within grace. */
export type NodeHealth = 'healthy' | 'unhealthy' | 'undetermined';

const STOPPED_POSTING = 'Kubelet stopped posting node status.';
const NEVER_POSTED = 'Kubelet never posted node status.';
/** Taints this controller owns; anyone else's are left as they are. */
const CONDITION_TAINT_KEYS = new Set([TAINT_NOT_READY, TAINT_UNREACHABLE]);

function isDaemonSetPod(pod: Pod): boolean {
  return pod.metadata.ownerReferences?.some((o) => o.controller && o.kind === 'DaemonSet') === true;
}

/** When a graceful deletion was asked for, from its (whole-second) deadline. */
function deletionRequestedAt(pod: Pod): number | undefined {
  const deadline = pod.metadata.deletionTimestamp ? Date.parse(pod.metadata.deletionTimestamp) : NaN;
  return Number.isNaN(deadline) ? undefined : deadline - (pod.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
}

function readyOf(node: Node): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === 'Ready');
}

function sameTaintSet(a: readonly Taint[], b: readonly Taint[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((t) => b.some((u) => u.key === t.key && u.effect === t.effect && (u.value ?? '') === (t.value ?? '')));
}

export class NodeLifecycleController implements ControlLoop {
  readonly name = 'node-lifecycle';

  private readonly client: ClusterClient;
  private readonly telemetry: NodeTelemetry;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  private readonly informers: SharedInformers;
  private readonly ownsInformers: boolean;
  private readonly graceMs: number;
  private readonly defaultTolerationSeconds: number;
  private readonly forceDelayMs: number;
  private readonly queue: WorkQueue;
  private nodes?: Informer<Node>;
  private pods?: Informer<Pod>;
  private running = false;

  /** When this controller first saw each node: the baseline for nodes never heard from. */
  private readonly firstSeen = new Map<string, number>();
  private readonly lastHealth = new Map<string, NodeHealth>();
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();
  private readonly podsByNode = new Map<string, Set<string>>();
  private readonly podNode = new Map<string, string>();
  private readonly evictionTimers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  /** When this controller asked for each eviction (pod key → ms), for the force-delete delay. */
  private readonly evictedAt = new Map<string, number>();
  /** When a NoExecute taint without timeAdded was first seen (`node/key`). */
  private readonly taintSeen = new Map<string, number>();

  constructor(deps: NodeLifecycleDeps) {
    if (!(deps.nodeMonitorGracePeriodMs > 0)) throw new Error('nodeMonitorGracePeriodMs must be a positive number of milliseconds');
    if (!(deps.defaultTolerationSeconds >= 0)) throw new Error('defaultTolerationSeconds must be zero or more');
    if (deps.podEvictionTimeoutMs !== undefined && !(deps.podEvictionTimeoutMs >= 0)) throw new Error('podEvictionTimeoutMs must be zero or more');
    this.client = deps.client;
    this.telemetry = deps.telemetry;
    this.log = (deps.log ?? pino({ level: 'silent' })).child({ controller: 'node-lifecycle' });
    this.recorder = deps.recorder ?? new EventRecorder(deps.client, { component: 'node-controller' }, this.log);
    this.ownsInformers = !deps.informers;
    this.informers = deps.informers ?? new SharedInformers(deps.client);
    this.graceMs = deps.nodeMonitorGracePeriodMs;
    this.defaultTolerationSeconds = deps.defaultTolerationSeconds;
    this.forceDelayMs = deps.podEvictionTimeoutMs ?? 0;
    this.queue = new WorkQueue((key) => this.process(key), {
      concurrency: 2,
      onError: (key, err) => this.log.debug({ key, err: String(err) }, 'retrying'),
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.nodes = this.informers.get<Node>(R.nodes);
    this.pods = this.informers.get<Pod>(R.pods);
    this.nodes.on((type, node) => { if (this.running) this.onNode(type, node); });
    this.pods.on((type, pod) => { if (this.running) this.onPod(type, pod); });
    this.telemetry.on('change', this.onTelemetry);
    this.nodes.start();
    this.pods.start();
    for (const n of this.nodes.list()) this.onNode('ADDED', n);
    for (const p of this.pods.list()) this.onPod('ADDED', p);
  }

  stop(): void {
    this.running = false;
    this.telemetry.off('change', this.onTelemetry);
    this.queue.stop();
    for (const t of this.graceTimers.values()) clearTimeout(t);
    for (const e of this.evictionTimers.values()) clearTimeout(e.timer);
    this.graceTimers.clear();
    this.evictionTimers.clear();
    if (this.ownsInformers) this.informers.stop();
  }

  /** What the telemetry says about a node right now. */
  health(nodeName: string, now = Date.now()): NodeHealth {
    const entry = this.telemetry.get(nodeName);
    if (entry && !entry.online) return 'unhealthy';
    const since = Math.max(entry?.lastSeen ?? 0, this.firstSeen.get(nodeName) ?? now);
    if (now - since >= this.graceMs) return 'unhealthy';
    return entry ? 'healthy' : 'undetermined';
  }

  // ---- events ----

  private onNode(type: 'ADDED' | 'MODIFIED' | 'DELETED', node: Node): void {
    const name = node.metadata.name!;
    if (type === 'DELETED') {
      this.firstSeen.delete(name);
      this.lastHealth.delete(name);
      const t = this.graceTimers.get(name);
      if (t) clearTimeout(t);
      this.graceTimers.delete(name);
      for (const key of this.podsByNode.get(name) ?? []) this.cancelEviction(key);
      return;
    }
    if (!this.firstSeen.has(name)) this.firstSeen.set(name, Date.now());
    this.queue.add(`node:${name}`);
    for (const key of this.podsByNode.get(name) ?? []) this.planEviction(key);
  }

  private onPod(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: Pod): void {
    const key = objectKey(pod);
    const before = this.podNode.get(key);
    const nodeName = type === 'DELETED' ? undefined : pod.spec?.nodeName;
    if (before !== nodeName) {
      if (before) this.podsByNode.get(before)?.delete(key);
      if (nodeName) {
        let set = this.podsByNode.get(nodeName);
        if (!set) this.podsByNode.set(nodeName, (set = new Set()));
        set.add(key);
        this.podNode.set(key, nodeName);
      } else {
        this.podNode.delete(key);
      }
    }
    if (type === 'DELETED') this.evictedAt.delete(key);
    if (!nodeName) { this.cancelEviction(key); return; }
    this.planEviction(key);
  }

  private readonly onTelemetry = (nodeName: string): void => {
    if (!this.running || !this.nodes?.get(undefined, nodeName)) return;
    const health = this.health(nodeName);
    if (health !== this.lastHealth.get(nodeName)) this.queue.add(`node:${nodeName}`);
    else if (health !== 'unhealthy') this.armGraceTimer(nodeName);
  };

  /** One timer per node, due when its silence would exceed the grace period. */
  private armGraceTimer(nodeName: string): void {
    if (this.graceTimers.has(nodeName)) return;
    const entry = this.telemetry.get(nodeName);
    const since = Math.max(entry?.lastSeen ?? 0, this.firstSeen.get(nodeName) ?? Date.now());
    const wait = Math.max(0, since + this.graceMs - Date.now());
    this.graceTimers.set(nodeName, setTimeout(() => {
      this.graceTimers.delete(nodeName);
      if (!this.running) return;
      if (this.health(nodeName) !== this.lastHealth.get(nodeName)) this.queue.add(`node:${nodeName}`);
      else if (this.health(nodeName) !== 'unhealthy') this.armGraceTimer(nodeName); // heard from meanwhile
    }, wait + 1).unref());
  }

  // ---- work ----

  private async process(key: string): Promise<void> {
    const sep = key.indexOf(':');
    const kind = key.slice(0, sep);
    const rest = key.slice(sep + 1);
    if (kind === 'node') await this.reconcileNode(rest);
    else if (kind === 'evict') await this.evict(rest);
  }

  private async reconcileNode(name: string): Promise<void> {
    const node = this.client.get<Node>(R.nodes, undefined, name);
    if (!node) return;
    const health = this.health(name);
    const previous = this.lastHealth.get(name);
    if (health !== 'unhealthy') this.armGraceTimer(name);

    if (health === 'unhealthy' && readyOf(node)?.status !== 'Unknown') {
      await this.markUnknown(node);
      if (previous !== 'unhealthy') {
        this.recorder.event({ kind: 'Node', apiVersion: 'v1', name, uid: node.metadata.uid }, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      }
      await this.markPodsNotReady(name);
    }

    const fresh = this.client.get<Node>(R.nodes, undefined, name);
    if (fresh) await this.syncTaints(fresh, health);
    this.lastHealth.set(name, health);
    for (const podKey of this.podsByNode.get(name) ?? []) this.planEviction(podKey);
  }

  /** Every condition becomes Unknown; a node that never reported gets Ready=Unknown. */
  private async markUnknown(node: Node): Promise<void> {
    const now = rfc3339Seconds();
    const updated = structuredClone(node) as Node;
    const status = (updated.status ??= {});
    const conditions = status.conditions ?? [];
    if (!conditions.some((c) => c.type === 'Ready')) {
      conditions.push({ type: 'Ready', status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: NEVER_POSTED, lastHeartbeatTime: now, lastTransitionTime: now });
    }
    status.conditions = conditions.map((c): NodeCondition => (c.status === 'Unknown'
      ? c
      : { ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: STOPPED_POSTING, lastTransitionTime: now }));
    try {
      await this.client.update(R.nodes, updated, 'status');
    } catch (err) {
      if (isNotFound(err)) return;
      throw err; // a conflict retries from the fresh object
    }
  }

  private async markPodsNotReady(nodeName: string): Promise<void> {
    const now = rfc3339Seconds();
    for (const key of [...(this.podsByNode.get(nodeName) ?? [])]) {
      const pod = this.pods?.getByKey(key);
      if (!pod || pod.spec.nodeName !== nodeName) continue;
      const conditions = pod.status?.conditions ?? [];
      const ready = conditions.find((c) => c.type === 'Ready');
      if (ready?.status === 'False') continue;
      const next: PodCondition[] = [...conditions.filter((c) => c.type !== 'Ready'), { ...(ready ?? { type: 'Ready' }), status: 'False', lastTransitionTime: now }];
      await ignoreNotFound(this.client.patch(R.pods, pod.metadata.namespace, pod.metadata.name!, { status: { conditions: next } }, 'status'));
      this.recorder.event(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
    }
  }

  /** unreachable while unhealthy, not-ready while the bridge says Ready=False, unschedulable while cordoned. */
  private async syncTaints(node: Node, health: NodeHealth): Promise<void> {
    const current = node.spec?.taints ?? [];
    const ready = readyOf(node)?.status;
    let conditionKey: string | undefined;
    if (health === 'unhealthy') conditionKey = TAINT_UNREACHABLE;
    else if (health === 'healthy' && ready === 'False') conditionKey = TAINT_NOT_READY;
    const wanted: Taint[] = [];
    if (conditionKey) wanted.push({ key: conditionKey, effect: 'NoSchedule' }, { key: conditionKey, effect: 'NoExecute' });
    if (node.spec?.unschedulable) wanted.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
    if (health === 'healthy') wanted.push(...pressureTaints(node));

    const owned = (t: Taint) => (CONDITION_TAINT_KEYS.has(t.key) && health !== 'undetermined') || (t.key === TAINT_UNSCHEDULABLE && t.effect === 'NoSchedule')
      || (PRESSURE_TAINT_KEYS.has(t.key) && t.effect === 'NoSchedule' && health === 'healthy');
    const now = rfc3339Seconds();
    const next: Taint[] = current.filter((t) => !owned(t));
    for (const w of wanted) {
      const existing = current.find((t) => t.key === w.key && t.effect === w.effect);
      next.push(existing ?? { ...w, timeAdded: now });
    }
    if (sameTaintSet(current, next)) return;
    const updated = structuredClone(node) as Node;
    updated.spec = { ...(updated.spec ?? {}), taints: next };
    if (next.length === 0) delete updated.spec.taints;
    try {
      await this.client.update(R.nodes, updated);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }

  // ---- eviction ----

  /**
   * When the pod must leave its node (ms since epoch), or undefined if never. Taints
   * that describe a health the node no longer has (it came back, the write is on its
   * way) are ignored.
   */
  evictionDeadline(pod: Pod, node: Node, now = Date.now()): number | undefined {
    const name = node.metadata.name!;
    const health = this.health(name, now);
    let deadline = Infinity;
    for (const taint of node.spec?.taints ?? []) {
      if (taint.effect !== 'NoExecute') continue;
      const conditionTaint = CONDITION_TAINT_KEYS.has(taint.key);
      if (conditionTaint && health === 'healthy' && !(taint.key === TAINT_NOT_READY && readyOf(node)?.status === 'False')) continue;
      if (conditionTaint && isDaemonSetPod(pod)) continue;
      const matching = (pod.spec.tolerations ?? []).filter((t) => toleratesTaint(t, taint));
      let seconds: number | undefined;
      if (matching.length === 0) {
        if (!conditionTaint) return now; // an untolerated NoExecute taint: out at once
        seconds = this.defaultTolerationSeconds;
      } else {
        const limits = matching.map((t) => t.tolerationSeconds).filter((s): s is number => typeof s === 'number');
        if (limits.length === 0) continue; // tolerated forever
        seconds = Math.max(0, Math.min(...limits));
      }
      deadline = Math.min(deadline, this.taintStart(name, taint, now) + seconds * 1000);
    }
    return deadline === Infinity ? undefined : deadline;
  }

  private taintStart(nodeName: string, taint: Taint, now: number): number {
    const added = taint.timeAdded ? Date.parse(taint.timeAdded) : NaN;
    if (!Number.isNaN(added)) return added;
    const k = `${nodeName}/${taint.key}`;
    let seen = this.taintSeen.get(k);
    if (seen === undefined) this.taintSeen.set(k, (seen = now));
    return seen;
  }

  private planEviction(podKey: string): void {
    const pod = this.pods?.getByKey(podKey);
    const node = pod?.spec.nodeName ? this.nodes?.get(undefined, pod.spec.nodeName) : undefined;
    const at = pod && node ? this.evictionDeadline(pod, node) : undefined;
    if (at === undefined) { this.cancelEviction(podKey); return; }
    const existing = this.evictionTimers.get(podKey);
    if (existing?.at === at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.evictionTimers.delete(podKey);
      this.queue.add(`evict:${podKey}`);
    }, Math.max(0, at - Date.now())).unref();
    this.evictionTimers.set(podKey, { at, timer });
  }

  private cancelEviction(podKey: string): void {
    const e = this.evictionTimers.get(podKey);
    if (!e) return;
    clearTimeout(e.timer);
    this.evictionTimers.delete(podKey);
  }

  private async evict(podKey: string): Promise<void> {
    const pod = this.pods?.getByKey(podKey);
    if (!pod?.spec.nodeName) return;
    const nodeName = pod.spec.nodeName;
    const node = this.client.get<Node>(R.nodes, undefined, nodeName);
    if (!node) return;
    const now = Date.now();
    const at = this.evictionDeadline(pod, node, now);
    if (at === undefined || at > now) { this.planEviction(podKey); return; }
    const ns = pod.metadata.namespace;
    const name = pod.metadata.name!;
    const preconditions = { uid: pod.metadata.uid };
    if (!pod.metadata.deletionTimestamp) {
      this.recorder.event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${ns}/${name}`);
      this.log.info({ pod: podKey, node: nodeName }, 'evicting');
      try {
        await this.client.delete(R.pods, ns, name, { preconditions });
        this.evictedAt.set(podKey, Date.now());
      } catch (err) {
        if (isNotFound(err) || isConflict(err)) return; // gone, or a different pod by now
        throw err;
      }
    }
    // Nobody on an unreachable node can confirm the stop; force it so a replacement may start.
    if (this.health(nodeName) !== 'unhealthy') return;
    const since = this.evictedAt.get(podKey) ?? deletionRequestedAt(pod) ?? now;
    const wait = since + this.forceDelayMs - Date.now();
    if (this.forceDelayMs > 0 && wait > 0) {
      setTimeout(() => this.queue.add(`evict:${podKey}`), wait).unref();
      return;
    }
    try {
      await this.client.delete(R.pods, ns, name, { gracePeriodSeconds: 0, preconditions });
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }
}

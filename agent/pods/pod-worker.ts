// One worker per pod, the kubelet's pod worker: each pass observes the pod's containers
// and sandbox, asks computePodActions (pod-actions.ts) what to do, and carries the plan out
// (the kubelet's SyncPod): sandbox, volumes, init containers in order, app containers,
// restarts with back-off, termination. Passes are level-triggered, so a missed message or
// an agent restart heals itself.
import type pino from 'pino';
import type { Container, Pod, PodStatus } from '../../protocol/kube/types.js';
import type { DesiredPod, NodeEvent, PodStatusUpdate } from '../../protocol/mqtt/payloads.js';
import type { ContainerRuntime, RuntimeContainer, SandboxInfo } from '../runtime/container-runtime.js';
import type { Backoff } from './backoff.js';
import type { Clock } from './clock.js';
import type { EventFn, ImagePuller } from './image-puller.js';
import { LABEL, podIdentity, type PodIdentity } from './container-labels.js';
import {
  DEFAULT_GRACE_SECONDS, computePodActions, computeTerminationActions, gracePeriodOf, instancesOf, isDead, isLive, shouldRestart, splitInstances, willRestart,
  type Instances, type PodPlan,
} from './pod-actions.js';
import { PodActionExecutor } from './pod-action-executor.js';
import { PodProbes } from './pod-probes.js';
import { PodStatusReporter } from './pod-status-reporter.js';
import type { NodeSpecContext, StartContext } from './runtime-specs.js';
import { VolumeError, prepareVolumes, removePodDir, type PreparedVolumes, type WrittenVolumes } from './volumes.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

export { DEFAULT_GRACE_SECONDS, gracePeriodOf };
import { EVICTED_REASON, disruptionCondition } from './disk-eviction.js';
import { podPullCredentials } from '../images/pull-credentials.js';

export interface PodWorkerDeps {
  nodeName: string;
  dataDir: string;
  runtime: ContainerRuntime;
  log: pino.Logger;
  clock: Clock;
  network?: string;
  hostIP(): string | undefined;
  crashBackoff: Backoff;
  puller: ImagePuller;
  /** A container that ran at least this long before exiting starts its back-off over. */
  backoffResetMs: number;
  /** Generation of the desired set in force, written on what the worker creates. */
  generation(): number;
  dns(): { clusterDomain: string; serverIP?: string } | undefined;
  kubernetesService?: { host: number | string; port: number };
  emitStatus(u: PodStatusUpdate): void;
  emitEvent(e: NodeEvent): void;
  /** The worker listed its pod's containers itself (the manager keeps its view current with it). */
  onListed?(uid: string, list: RuntimeContainer[], takenAt: number): void;
  /** Every container and the sandbox of the pod are gone. */
  onGone(w: PodWorker): void;
}

/**
 * How a pod ended on this node for good without being deleted: evicted for node pressure,
 * refused at admission, or found so in its API status (after an agent restart).
 */
interface Ending { kind: 'evict' | 'reject' | 'recovered'; message: string; graceSeconds: number; done: boolean; waiters: (() => void)[] }

/** The kubelet never runs a pod again once it reported it evicted (or refused it). */
function evictedStatus(pod: Pod): boolean {
  return pod.status?.phase === 'Failed' && pod.status.reason === EVICTED_REASON;
}

/** The manager's relist of this pod's containers (and, on a full relist, its sandboxes), taken at takenAt (the clock's now). */
export interface Snapshot { takenAt: number; list: RuntimeContainer[]; sandboxes?: SandboxInfo[] }

export interface TriggerHint {
  snapshot?: Snapshot;
  /** Also re-read the sandbox (from snapshot.sandboxes, else the runtime) instead of trusting the cached one. */
  full?: boolean;
}

export class PodWorker {
  readonly uid: string;
  readonly id: PodIdentity;
  desired?: DesiredPod;
  /** The pod's file volumes as last written (volumes.ts). */
  private readonly writtenVolumes: WrittenVolumes = new Map();
  /** JSON of `desired` as last given to update(). */
  private desiredText?: string;
  /** Set once the pod is to be removed; its value is the grace period in seconds. */
  private terminateGrace?: number;
  private gone = false;
  private stopped = false;
  private dirty = false;
  private loopActive = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wakeTimer?: NodeJS.Timeout;
  private wakeAt = Infinity;

  private readonly exec: PodActionExecutor;
  private readonly probes: PodProbes;
  /** Container ids to kill on the next pass, with the Killing message. */
  private readonly killRequests = new Map<string, string>();
  /** Containers being stopped for termination, to shorten their grace if asked. */
  private readonly stopping = new Set<string>();
  private readonly status: PodStatusReporter;
  private snapshot?: Snapshot;
  private fullPending = true;
  /** Clock time at the end of the last pass that changed the runtime: older snapshots are stale. */
  private lastActionAt = 0;
  private ending?: Ending;

  constructor(private readonly deps: PodWorkerDeps, desired: DesiredPod | undefined, orphan?: PodIdentity) {
    this.desired = desired;
    this.id = desired ? podIdentity(desired.pod) : orphan!;
    this.uid = this.id.uid;
    this.probes = new PodProbes({
      runtime: deps.runtime,
      clock: deps.clock,
      onChange: () => this.trigger(),
      onKill: (id, message) => { this.killRequests.set(id, message); this.trigger(); },
      eventFn: (c) => this.eventFn(c, false),
    });
    this.exec = new PodActionExecutor({
      id: this.id,
      runtime: deps.runtime,
      puller: deps.puller,
      crashBackoff: deps.crashBackoff,
      killRequests: this.killRequests,
      node: () => this.nodeContext(),
      event: (type, reason, message) => this.event(type, reason, message),
      eventFn: (c, init) => this.eventFn(c, init),
      wakeIn: (ms) => this.wakeIn(ms),
      dropProbes: (id) => this.probes.drop(id),
    });
    this.status = new PodStatusReporter({
      id: this.id,
      runtime: deps.runtime,
      clock: deps.clock,
      crashBackoff: deps.crashBackoff,
      probes: this.probes,
      waits: this.exec.waits,
      generation: () => this.desired?.pod.metadata.generation,
      emitStatus: (u) => deps.emitStatus(u),
    }, desired?.pod.status?.startTime);
  }

  private nodeContext(): NodeSpecContext {
    const node: NodeSpecContext = { nodeName: this.deps.nodeName, generation: this.deps.generation() };
    if (this.deps.network) node.network = this.deps.network;
    const dns = this.deps.dns();
    if (dns) node.dns = dns;
    if (this.deps.kubernetesService) node.kubernetesService = this.deps.kubernetesService;
    return node;
  }

  get isTerminating(): boolean {
    return this.terminateGrace !== undefined;
  }

  /** A newer spec for the pod (same uid). */
  update(desired: DesiredPod): void {
    // every desired set carries every pod: keep the text of the last one to compare with
    const text = JSON.stringify(desired);
    const before = this.desiredText ?? (this.desired ? JSON.stringify(this.desired) : '');
    this.desired = desired;
    this.desiredText = text;
    if (text !== before) this.trigger();
  }

  /** Stop the pod's containers (SIGTERM, then kill after graceSeconds) and remove everything. */
  terminate(graceSeconds: number): void {
    const current = this.terminateGrace;
    if (current !== undefined && graceSeconds >= current) return;
    this.terminateGrace = graceSeconds;
    // already stopping with a longer grace: shorten it, like a second `kubectl delete --grace-period`
    for (const id of this.stopping) void this.deps.runtime.stop(id, graceSeconds).catch(() => undefined);
    this.trigger();
  }

  /** Evicted, refused or found evicted: the pod never runs here again. */
  get hasEnded(): boolean {
    return this.ending !== undefined || (this.desired !== undefined && evictedStatus(this.desired.pod));
  }

  /**
   * Node-pressure eviction (the kubelet's evictPod): the pod's containers are killed with
   * the given grace, it is reported Failed with reason Evicted, and its containers, sandbox
   * and volumes are removed. Resolves once that is done.
   */
  evict(message: string, graceSeconds: number): Promise<void> {
    if (this.ending) return this.ending.done ? Promise.resolve() : new Promise((r) => this.ending!.waiters.push(r));
    this.ending = { kind: 'evict', message, graceSeconds, done: false, waiters: [] };
    this.event('Warning', EVICTED_REASON, message);
    const done = new Promise<void>((r) => this.ending!.waiters.push(r));
    this.trigger();
    return done;
  }

  /** Admission refused the pod (node pressure): it is reported Failed and never started. */
  reject(reason: string, message: string): void {
    if (this.ending) return;
    this.ending = { kind: 'reject', message, graceSeconds: 0, done: false, waiters: [] };
    this.event('Warning', reason, message.replace(/^Pod was rejected: /, ''));
    this.trigger();
  }

  trigger(hint?: TriggerHint): void {
    if (hint?.full) this.fullPending = true;
    if (hint?.snapshot && (!this.snapshot || hint.snapshot.takenAt > this.snapshot.takenAt)) this.snapshot = hint.snapshot;
    this.dirty = true;
    if (this.stopped || this.loopActive || this.gone) return;
    this.loopActive = true;
    this.loopDone = this.loop().finally(() => {
      this.loopActive = false;
      if (this.dirty && !this.stopped && !this.gone) this.trigger();
    });
  }

  /** Stops timers and probes; containers keep running. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.probes.stopAll();
    await this.loopDone;
  }

  resendStatus(): void {
    if (!this.gone) this.status.resend();
  }

  /** Newest instance of a container and the one before, for logs and exec. */
  async instances(container: string): Promise<Instances> {
    const all = await this.deps.runtime.list({ [LABEL.podUid]: this.uid, [LABEL.container]: container });
    return splitInstances(all);
  }

  /** Ids of the running containers of this pod, by container name. */
  async runningContainers(): Promise<RuntimeContainer[]> {
    return (await this.deps.runtime.list({ [LABEL.podUid]: this.uid })).filter((c) => c.state === 'running');
  }

  private async loop(): Promise<void> {
    while (this.dirty && !this.stopped && !this.gone) {
      this.dirty = false;
      try {
        const full = this.fullPending;
        const snap = this.snapshot;
        this.fullPending = false;
        this.snapshot = undefined;
        if (this.terminateGrace !== undefined || !this.desired) await this.syncTerminating();
        else if (this.hasEnded) await this.syncEnded(this.desired);
        else await this.syncRunning(this.desired, full, snap && snap.takenAt >= this.lastActionAt ? snap : undefined);
      } catch (err) {
        this.lastActionAt = this.deps.clock.now();
        this.fullPending = true;
        this.deps.log.error({ err, pod: this.id.name, namespace: this.id.namespace }, 'pod sync failed');
        this.wakeIn(2000);
      }
    }
  }

  private wakeIn(ms: number): void {
    if (this.stopped) return;
    const at = this.deps.clock.now() + ms;
    if (this.wakeTimer && at >= this.wakeAt) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(() => { this.wakeTimer = undefined; this.wakeAt = Infinity; this.trigger(); }, Math.max(0, ms) + 5);
    this.wakeTimer.unref();
  }

  private eventFn(c: Container, init: boolean): EventFn {
    return (type, reason, message, at) => this.event(type, reason, message, `spec.${init ? 'initContainers' : 'containers'}{${c.name}}`, at);
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string, at?: number): void {
    const involvedObject: NodeEvent['involvedObject'] = { kind: 'Pod', namespace: this.id.namespace, name: this.id.name, uid: this.uid };
    if (fieldPath) involvedObject.fieldPath = fieldPath;
    this.deps.emitEvent({ involvedObject, type, reason, message, time: new Date(at ?? this.deps.clock.now()).toISOString() });
  }

  // ---- running pod -------------------------------------------------------------

  /** One pass for a pod that should run: observe, plan, act. `known` is a fresh relist of its containers, if any. */
  private async syncRunning(dp: DesiredPod, full: boolean, known: Snapshot | undefined): Promise<void> {
    const spec = dp.pod.spec;
    this.status.startTime ??= rfc3339Seconds(this.deps.clock.now());
    let all = known?.list ?? await this.listOwn();
    const hostIP = this.deps.hostIP();
    const sandboxes = spec.hostNetwork ? [] : await this.observeSandboxes(full, known?.sandboxes);
    let plan = this.plan(dp, all, sandboxes);
    // the images of containers about to start are checked (and pulled) while the sandbox is being made
    const initFirst = !!spec.initContainers?.length;
    for (const c of plan.warm) this.deps.puller.prefetch(c, `${this.uid}/${c.name}`, this.eventFn(c, initFirst), podPullCredentials(dp));

    let sandbox: SandboxInfo | undefined;
    let podIP: string | undefined;
    if (plan.sandbox.kind === 'host') {
      podIP = hostIP;
    } else {
      const box = await this.exec.applySandbox(dp, plan);
      sandbox = box.sandbox;
      if (box.changed) this.lastActionAt = this.deps.clock.now();
      if (box.replaced) all = await this.listOwn();
      // the pod has a new sandbox: plan its containers against it and what is left of them
      if (plan.sandbox.kind === 'create' && sandbox) plan = this.plan(dp, all, [sandbox]);
      podIP = sandbox?.ip;
      if (!sandbox && !plan.finished) { this.status.publish(dp, all, { sandboxReady: false, podIP, hostIP }); return; }
    }

    let volumes: PreparedVolumes | undefined;
    if (!plan.finished) {
      try {
        volumes = await prepareVolumes(this.deps.dataDir, dp, { podIP, hostIP, written: this.writtenVolumes });
      } catch (err) {
        if (!(err instanceof VolumeError)) throw err;
        this.event('Warning', 'FailedMount', `MountVolume.SetUp failed: ${err.message}`);
        this.status.publish(dp, all, { sandboxReady: true, podIP, hostIP });
        this.wakeIn(10_000);
        return;
      }
    }

    let acted = false;
    this.exec.passStarted = [];
    const ctx: StartContext = { dp, podIP, hostIP, volumes: volumes ?? new Map() };
    if (sandbox) ctx.sandbox = sandbox;
    for (const action of plan.actions) acted = (await this.exec.execute(action, ctx)) || acted;

    if (acted) {
      // what this pass did is done: lists from now on are current
      this.lastActionAt = this.deps.clock.now();
      // only new containers: one inspect of them instead of a whole relist of the pod
      const started = this.exec.passStarted;
      const takenAt = this.deps.clock.now();
      const fresh = started?.length ? await Promise.all(started.map((id) => this.deps.runtime.inspect(id))) : undefined;
      if (fresh && fresh.every((c) => c !== undefined)) {
        all = [...all, ...fresh as RuntimeContainer[]];
        this.deps.onListed?.(this.uid, all, takenAt);
      } else {
        all = await this.listOwn();
      }
      // a container that died within this pass gets its back-off (and wake-up) on the next one,
      // at once: no relist needs to notice what this pass already saw
      const policy = spec.restartPolicy ?? 'Always';
      if (plan.initDone && !plan.finished && spec.containers.some((c) => {
        const cur = instancesOf(all, c.name).current;
        return cur !== undefined && isDead(cur) && !this.exec.waits.has(c.name) && shouldRestart(policy, cur);
      })) this.dirty = true;
    }
    this.probes.sync(dp, all, podIP);
    this.status.publish(dp, all, { sandboxReady: !!sandbox || !!spec.hostNetwork, podIP, hostIP, initDone: plan.initDone, initFailed: plan.initFailed });
  }

  private plan(dp: DesiredPod, containers: RuntimeContainer[], sandboxes: SandboxInfo[]): PodPlan {
    const backoff = this.deps.crashBackoff;
    return computePodActions({
      pod: dp.pod,
      containers,
      sandboxes,
      killRequests: this.killRequests,
      backoffDelay: (key) => backoff.delay(key) || undefined,
      backoffResetMs: this.deps.backoffResetMs,
      now: this.deps.clock.now(),
    });
  }

  /** This pod's containers from the runtime; the manager's view is updated with them. */
  private async listOwn(): Promise<RuntimeContainer[]> {
    const takenAt = this.deps.clock.now();
    const list = await this.deps.runtime.list({ [LABEL.podUid]: this.uid });
    this.deps.onListed?.(this.uid, list, takenAt);
    return list;
  }

  /** The pod's sandboxes: the cached running one between full passes, else read again. */
  private async observeSandboxes(full: boolean, known?: SandboxInfo[]): Promise<SandboxInfo[]> {
    // sandboxes are costly to inspect (podman: two calls each): between full passes the
    // cached one is trusted to be running, whatever its state read when it was made
    if (!full && this.exec.cachedSandbox) return [{ ...this.exec.cachedSandbox, running: true }];
    // the manager's full relist read every sandbox of the node at once; an IP it lacks is kept from the cache
    return (known ?? await this.deps.runtime.listSandboxes({ [LABEL.podUid]: this.uid }))
      .map((b) => (b.ip === undefined && b.id === this.exec.cachedSandbox?.id && this.exec.cachedSandbox.ip ? { ...b, ip: this.exec.cachedSandbox.ip } : b));
  }

  // ---- status ------------------------------------------------------------------

  /** The waiting reason last reported for a container, if any. */
  waitingReason(name: string): string | undefined {
    return this.status.waitingReason(name);
  }

  /** True when this dead instance will be followed by a new one (logs --previous picks it then). */
  willRestartContainer(name: string, cur: RuntimeContainer): boolean {
    const dp = this.desired;
    const c = dp && [...(dp.pod.spec.initContainers ?? []), ...dp.pod.spec.containers].find((x) => x.name === name);
    return !!c && willRestart(dp!.pod, c, cur);
  }

  // ---- eviction ---------------------------------------------------------------

  /**
   * An evicted (or refused) pod: live containers are stopped, the terminal status goes out
   * once they are, then everything the pod had here is removed, as the kubelet removes an
   * evicted pod's content at once (ShouldPodContentBeRemoved): the space is the point.
   */
  private async syncEnded(dp: DesiredPod): Promise<void> {
    const e = this.ending ??= { kind: 'recovered', message: dp.pod.status?.message ?? '', graceSeconds: 0, done: false, waiters: [] };
    if (e.done) return;
    const { runtime } = this.deps;
    this.probes.stopAll();
    let all = await runtime.list({ [LABEL.podUid]: this.uid });
    const live = all.filter(isLive);
    if (live.length) {
      for (const c of live) this.stopping.add(c.id);
      try {
        await Promise.all(live.map((c) => runtime.stop(c.id, e.graceSeconds)));
      } finally {
        for (const c of live) this.stopping.delete(c.id);
      }
      all = await runtime.list({ [LABEL.podUid]: this.uid });
    }
    if (e.kind === 'evict') {
      this.status.publish(dp, all, { sandboxReady: false, podIP: undefined, hostIP: this.deps.hostIP(), initDone: true, finalise: (s) => {
        const now = rfc3339Seconds(this.deps.clock.now());
        return { ...s, phase: 'Failed', reason: EVICTED_REASON, message: e.message, conditions: [...(s.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget'), disruptionCondition(e.message, now)] };
      } });
    } else if (e.kind === 'reject') {
      const status: PodStatus = { phase: 'Failed', reason: EVICTED_REASON, message: e.message };
      if (dp.pod.status?.qosClass) status.qosClass = dp.pod.status.qosClass;
      this.status.publishFixed(status);
    }
    for (const c of all) await runtime.remove(c.id);
    for (const b of await runtime.listSandboxes({ [LABEL.podUid]: this.uid })) await runtime.removeSandbox(b.id);
    this.exec.cachedSandbox = undefined;
    await removePodDir(this.deps.dataDir, this.uid);
    this.deps.onListed?.(this.uid, [], this.deps.clock.now());
    this.deps.crashBackoff.forgetPrefix(`${this.uid}/`);
    this.deps.puller.forgetPrefix(`${this.uid}/`);
    e.done = true;
    for (const w of e.waiters.splice(0)) w();
  }

  // ---- termination ------------------------------------------------------------

  private async syncTerminating(): Promise<void> {
    const { runtime } = this.deps;
    this.probes.stopAll();
    this.exec.cachedSandbox = undefined;
    const plan = computeTerminationActions(await runtime.list({ [LABEL.podUid]: this.uid }), this.terminateGrace ?? DEFAULT_GRACE_SECONDS);
    for (const c of plan.stop) {
      this.event('Normal', 'Killing', `Stopping container ${c.container}`, `spec.${c.init ? 'initContainers' : 'containers'}{${c.container}}`);
      this.stopping.add(c.id);
    }
    try {
      await Promise.all(plan.stop.map((c) => runtime.stop(c.id, plan.graceSeconds)));
    } finally {
      for (const c of plan.stop) this.stopping.delete(c.id);
    }
    for (const id of plan.remove) await runtime.remove(id);
    for (const b of await runtime.listSandboxes({ [LABEL.podUid]: this.uid })) await runtime.removeSandbox(b.id);
    await removePodDir(this.deps.dataDir, this.uid);
    this.deps.crashBackoff.forgetPrefix(`${this.uid}/`);
    this.deps.puller.forgetPrefix(`${this.uid}/`);
    if (this.stopped) return;
    this.gone = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.deps.emitStatus({ uid: this.uid, namespace: this.id.namespace, name: this.id.name, gone: true });
    this.deps.onGone(this);
  }
}

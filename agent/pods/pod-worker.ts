// One worker per pod, the kubelet's pod worker: each pass compares the pod's spec with
// the containers the runtime has for it and takes the next steps (sandbox, volumes,
// init containers in order, app containers, restarts with back-off, termination).
// Passes are level-triggered, so a missed message or an agent restart heals itself.
import type pino from 'pino';
import type { Container, Pod, PodStatus } from '../../protocol/kube/types.js';
import type { DesiredPod, NodeEvent, PodStatusUpdate } from '../../protocol/mqtt/payloads.js';
import { RuntimeError, type ContainerRuntime, type ContainerSpec, type RuntimeContainer, type SandboxInfo, type SandboxSpec } from '../runtime/types.js';
import { goDuration, type Backoff } from './backoff.js';
import { isoSeconds, type Clock } from './clock.js';
import { ConfigError, expandList, resolveEnv } from './env.js';
import type { EventFn, ImagePuller } from './image-puller.js';
import { podPullCredentials } from '../images/pull-credentials.js';
import { LABEL, containerName, podDescription, podIdentity, podLabels, sandboxName, type PodIdentity } from './labels.js';
import { ContainerProbes } from './probes.js';
import { buildPodStatus, type ContainerView, type Waiting } from './pod-status.js';
import { parseQuantity } from '../../protocol/kube/quantity.js';
import { containerSpecHash } from './spec-hash.js';
import { VolumeError, containerMounts, prepareVolumes, removePodDir, type PreparedVolumes } from './volumes.js';
import { EVICTED_REASON, disruptionCondition } from './disk-eviction.js';

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

export const DEFAULT_GRACE_SECONDS = 30;

/** The grace period of a pod being deleted: deletionGracePeriodSeconds wins. */
export function gracePeriodOf(pod: Pod | undefined): number {
  const g = pod?.metadata.deletionGracePeriodSeconds ?? pod?.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
  return Math.max(0, g);
}

/** Newest first, by the attempt number in the restart-count label. */
function byAttemptDesc(a: RuntimeContainer, b: RuntimeContainer): number {
  const d = Number(b.labels[LABEL.restartCount] ?? 0) - Number(a.labels[LABEL.restartCount] ?? 0);
  return d !== 0 ? d : (b.startedAt ?? '').localeCompare(a.startedAt ?? '');
}

function isDead(c: RuntimeContainer): boolean {
  return c.state === 'exited' || (c.state === 'created' && c.error !== undefined);
}

function isLive(c: RuntimeContainer): boolean {
  return c.state === 'running' || c.state === 'paused' || (c.state === 'created' && c.error === undefined);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface Instances { current?: RuntimeContainer; previous?: RuntimeContainer; older: RuntimeContainer[] }

/**
 * How a pod ended on this node for good without being deleted: evicted for node pressure,
 * refused at admission, or found so in its API status (after an agent restart).
 */
interface Ending { kind: 'evict' | 'reject' | 'recovered'; message: string; graceSeconds: number; done: boolean; waiters: (() => void)[] }

/** The kubelet never runs a pod again once it reported it evicted (or refused it). */
function evictedStatus(pod: Pod): boolean {
  return pod.status?.phase === 'Failed' && pod.status.reason === EVICTED_REASON;
}

/** The manager's relist of this pod's containers (and, on a full relist, its sandboxes), taken at takenAt (Date.now()). */
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
  /** Set once the pod is to be removed; its value is the grace period in seconds. */
  private terminateGrace?: number;
  private gone = false;
  private stopped = false;
  private dirty = false;
  private loopActive = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wakeTimer?: NodeJS.Timeout;
  private wakeAt = Infinity;

  private readonly waits = new Map<string, Waiting>();
  private readonly probes = new Map<string, ContainerProbes>();
  /** Container ids to kill on the next pass, with the Killing message. */
  private readonly killRequests = new Map<string, string>();
  private readonly backoffEventFor = new Map<string, string>();
  /** Containers being stopped for termination, to shorten their grace if asked. */
  private readonly stopping = new Set<string>();
  private lastStatus?: PodStatus;
  private lastStatusJSON = '';
  private snapshot?: Snapshot;
  private fullPending = true;
  /** Date.now() at the end of the last pass that changed the runtime: older snapshots are stale. */
  private lastActionAt = 0;
  private cachedSandbox?: SandboxInfo;
  private startTime?: string;
  /** Containers this pass started; undefined once it did anything else (then the pod is relisted). */
  private passStarted?: string[];
  private ending?: Ending;

  constructor(private readonly deps: PodWorkerDeps, desired: DesiredPod | undefined, orphan?: PodIdentity) {
    this.desired = desired;
    this.id = desired ? podIdentity(desired.pod) : orphan!;
    this.uid = this.id.uid;
    this.startTime = desired?.pod.status?.startTime;
  }

  get isTerminating(): boolean {
    return this.terminateGrace !== undefined;
  }

  /** A newer spec for the pod (same uid). */
  update(desired: DesiredPod): void {
    const before = this.desired ? JSON.stringify(this.desired) : '';
    this.desired = desired;
    if (JSON.stringify(desired) !== before) this.trigger();
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
    for (const p of this.probes.values()) p.stop();
    this.probes.clear();
    await this.loopDone;
  }

  resendStatus(): void {
    if (this.lastStatus && !this.gone) this.deps.emitStatus(this.statusUpdate(this.lastStatus));
  }

  /** Newest instance of a container and the one before, for logs and exec. */
  async instances(container: string): Promise<Instances> {
    const all = await this.deps.runtime.list({ [LABEL.podUid]: this.uid, [LABEL.container]: container });
    return this.split(all);
  }

  /** Ids of the running containers of this pod, by container name. */
  async runningContainers(): Promise<RuntimeContainer[]> {
    return (await this.deps.runtime.list({ [LABEL.podUid]: this.uid })).filter((c) => c.state === 'running');
  }

  private split(list: RuntimeContainer[]): Instances {
    const sorted = [...list].sort(byAttemptDesc);
    return { current: sorted[0], previous: sorted[1], older: sorted.slice(2) };
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
        this.lastActionAt = Date.now();
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

  private statusUpdate(status: PodStatus): PodStatusUpdate {
    const u: PodStatusUpdate = { uid: this.uid, namespace: this.id.namespace, name: this.id.name, status };
    const gen = this.desired?.pod.metadata.generation;
    if (gen !== undefined) u.observedGeneration = gen;
    return u;
  }

  // ---- running pod -------------------------------------------------------------

  /** One pass for a pod that should run. `known` is a fresh relist of its containers, if any. */
  private async syncRunning(dp: DesiredPod, full: boolean, known: Snapshot | undefined): Promise<void> {
    const { runtime } = this.deps;
    const pod = dp.pod;
    const spec = pod.spec;
    this.startTime ??= isoSeconds(this.deps.clock.now());
    let all = known?.list ?? await this.listOwn();
    const policy = spec.restartPolicy ?? 'Always';

    const hostIP = this.deps.hostIP();
    let sandbox: SandboxInfo | undefined;
    let podIP: string | undefined;
    const finished = this.podFinished(dp, all);
    if (!finished) {
      // the images of containers about to start are checked (and pulled) while the sandbox is being made
      const init = !!spec.initContainers?.length;
      const first = init ? [spec.initContainers![0]!] : spec.containers;
      for (const c of first) {
        if (!all.some((x) => x.labels[LABEL.container] === c.name)) this.deps.puller.prefetch(c, `${this.uid}/${c.name}`, this.eventFn(c, init), podPullCredentials(dp));
      }
    }
    if (spec.hostNetwork) {
      podIP = hostIP;
    } else {
      const box = await this.ensureSandbox(dp, all, finished, full, known?.sandboxes);
      sandbox = box.sandbox;
      if (box.changed) this.lastActionAt = Date.now();
      if (box.replaced) all = await this.listOwn();
      podIP = sandbox?.ip;
      if (!sandbox && !finished) { this.publish(dp, all, false, podIP, hostIP, false, false); return; }
    }

    let volumes: PreparedVolumes | undefined;
    if (!finished) {
      try {
        volumes = await prepareVolumes(this.deps.dataDir, dp, { podIP, hostIP });
      } catch (err) {
        if (!(err instanceof VolumeError)) throw err;
        this.event('Warning', 'FailedMount', `MountVolume.SetUp failed: ${err.message}`);
        this.publish(dp, all, true, podIP, hostIP, false, false);
        this.wakeIn(10_000);
        return;
      }
    }

    let acted = false;
    this.passStarted = [];
    const groups = new Map<string, Instances>();
    for (const name of new Set(all.map((c) => c.labels[LABEL.container] ?? ''))) {
      const g = this.split(all.filter((c) => c.labels[LABEL.container] === name));
      groups.set(name, g);
      for (const old of g.older) { await runtime.remove(old.id); acted = true; this.passStarted = undefined; } // keep one dead instance, like the kubelet
    }
    const ctx = { dp, sandbox, podIP, hostIP, volumes: volumes ?? new Map() };

    // init containers, in order, each to a successful exit
    const inits = spec.initContainers ?? [];
    let initDone = inits.length === 0 || spec.containers.some((c) => groups.get(c.name)?.current);
    let initFailed = false;
    if (!initDone && !finished) {
      initDone = true;
      for (const ic of inits) {
        const cur = groups.get(ic.name)?.current;
        if (cur && isDead(cur) && cur.exitCode === 0 && !cur.error) continue;
        initDone = false;
        if (!cur) { acted = (await this.startContainer(ic, true, 0, ctx)) || acted; break; }
        if (isLive(cur) || !isDead(cur)) break;
        if (policy === 'Never') { initFailed = true; break; }
        acted = (await this.restartContainer(ic, true, cur, groups.get(ic.name)?.previous, ctx)) || acted;
        break;
      }
    } else if (!initDone) {
      initFailed = inits.some((ic) => { const c = groups.get(ic.name)?.current; return c && isDead(c) && c.exitCode !== 0; });
    }

    if (initDone && !finished) {
      for (const c of spec.containers) {
        const cur = groups.get(c.name)?.current;
        if (!cur) { acted = (await this.startContainer(c, false, 0, ctx)) || acted; continue; }
        if (cur.state === 'running') {
          const killMsg = this.killRequests.get(cur.id)
            ?? (cur.labels[LABEL.specHash] !== containerSpecHash(c) ? `Container ${c.name} definition changed, will be restarted` : undefined);
          if (killMsg) {
            this.killRequests.delete(cur.id);
            this.eventFn(c, false)('Normal', 'Killing', killMsg);
            this.dropProbes(cur.id);
            await runtime.stop(cur.id, gracePeriodOf(pod));
            acted = true;
            this.passStarted = undefined;
          }
          continue;
        }
        if (isDead(cur) && this.shouldRestart(policy, cur)) acted = (await this.restartContainer(c, false, cur, groups.get(c.name)?.previous, ctx)) || acted;
      }
    }

    if (acted) {
      // what this pass did is done: lists from now on are current
      this.lastActionAt = Date.now();
      // only new containers: one inspect of them instead of a whole relist of the pod
      const started = this.passStarted;
      const takenAt = Date.now();
      const fresh = started?.length ? await Promise.all(started.map((id) => runtime.inspect(id))) : undefined;
      if (fresh && fresh.every((c) => c !== undefined)) {
        all = [...all, ...fresh as RuntimeContainer[]];
        this.deps.onListed?.(this.uid, all, takenAt);
      } else {
        all = await this.listOwn();
      }
      // a container that died within this pass gets its back-off (and wake-up) on the next one,
      // at once: no relist needs to notice what this pass already saw
      if (initDone && !finished && spec.containers.some((c) => {
        const cur = this.split(all.filter((x) => x.labels[LABEL.container] === c.name)).current;
        return cur !== undefined && isDead(cur) && !this.waits.has(c.name) && this.shouldRestart(policy, cur);
      })) this.dirty = true;
    }
    this.syncProbes(dp, all, podIP);
    this.publish(dp, all, !!sandbox || !!spec.hostNetwork, podIP, hostIP, initDone, initFailed);
  }

  /** This pod's containers from the runtime; the manager's view is updated with them. */
  private async listOwn(): Promise<RuntimeContainer[]> {
    const takenAt = Date.now();
    const list = await this.deps.runtime.list({ [LABEL.podUid]: this.uid });
    this.deps.onListed?.(this.uid, list, takenAt);
    return list;
  }

  private shouldRestart(policy: string, c: RuntimeContainer): boolean {
    if (policy === 'Always') return true;
    if (policy === 'OnFailure') return (c.exitCode ?? 1) !== 0 || c.error !== undefined;
    return false;
  }

  /** True when nothing is left to run: restartPolicy does not bring any container back. */
  private podFinished(dp: DesiredPod, all: RuntimeContainer[]): boolean {
    const policy = dp.pod.spec.restartPolicy ?? 'Always';
    if (policy === 'Always') return false;
    const latest = (name: string) => this.split(all.filter((c) => c.labels[LABEL.container] === name)).current;
    if (policy === 'Never') {
      const failedInit = (dp.pod.spec.initContainers ?? []).some((ic) => { const c = latest(ic.name); return c && isDead(c) && c.exitCode !== 0; })
        && !dp.pod.spec.containers.some((c) => latest(c.name));
      if (failedInit) return true;
    }
    return dp.pod.spec.containers.every((c) => {
      const cur = latest(c.name);
      return cur !== undefined && isDead(cur) && !this.shouldRestart(policy, cur);
    });
  }

  /** The pod's running sandbox, created when missing; replaced = an old one died and was removed. */
  private async ensureSandbox(dp: DesiredPod, all: RuntimeContainer[], finished: boolean, full: boolean, known?: SandboxInfo[]): Promise<{ sandbox?: SandboxInfo; replaced: boolean; changed: boolean }> {
    const { runtime } = this.deps;
    // sandboxes are costly to inspect (podman: two calls each): trust the cache between full passes
    if (!full && this.cachedSandbox) return { sandbox: this.cachedSandbox, replaced: false, changed: false };
    // the manager's full relist read every sandbox of the node at once; an IP it lacks is kept from the cache
    const boxes = (known ?? await runtime.listSandboxes({ [LABEL.podUid]: this.uid }))
      .map((b) => (b.ip === undefined && b.id === this.cachedSandbox?.id && this.cachedSandbox.ip ? { ...b, ip: this.cachedSandbox.ip } : b));
    const running = boxes.filter((b) => b.running);
    for (const extra of running.slice(1)) await runtime.removeSandbox(extra.id);
    this.cachedSandbox = running[0];
    if (running[0]) return { sandbox: running[0], replaced: false, changed: running.length > 1 };
    if (finished) return { sandbox: boxes[0], replaced: false, changed: false };
    const replaced = boxes.length > 0;
    if (replaced) {
      // the sandbox died: its containers lost their network, start the pod over
      this.event('Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      for (const c of all) if (isLive(c)) await runtime.stop(c.id, 0);
      for (const b of boxes) await runtime.removeSandbox(b.id);
    }
    const pod = dp.pod;
    const ports: SandboxSpec['ports'] = [];
    for (const c of pod.spec.containers) {
      for (const p of c.ports ?? []) {
        if (!p.hostPort) continue;
        const m: SandboxSpec['ports'][number] = { hostPort: p.hostPort, containerPort: p.containerPort, protocol: (p.protocol ?? 'TCP').toLowerCase() === 'udp' ? 'udp' : 'tcp' };
        if (p.hostIP) m.hostIP = p.hostIP;
        ports.push(m);
      }
    }
    const spec: SandboxSpec = {
      name: sandboxName(this.id),
      labels: { ...podLabels(this.id, this.deps.nodeName), [LABEL.kind]: 'sandbox', [LABEL.desiredGeneration]: String(this.deps.generation()), [LABEL.terminationGrace]: String(gracePeriodOf(pod)) },
      hostname: (pod.spec.hostname ?? this.id.name).slice(0, 63),
      hostNetwork: false,
      ports,
    };
    if (this.deps.network) spec.network = this.deps.network;
    const dns = this.deps.dns();
    const policy = pod.spec.dnsPolicy ?? 'ClusterFirst';
    if (dns?.serverIP && (policy === 'ClusterFirst' || policy === 'ClusterFirstWithHostNet')) {
      const d = dns.clusterDomain;
      spec.dns = { servers: [dns.serverIP], searches: [`${this.id.namespace}.svc.${d}`, `svc.${d}`, d], options: ['ndots:5'] };
    }
    try {
      this.cachedSandbox = await runtime.createSandbox(spec);
      return { sandbox: this.cachedSandbox, replaced, changed: true };
    } catch (err) {
      this.event('Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${errorText(err)}`);
      this.wakeIn(5000);
      return { replaced, changed: true };
    }
  }

  /** The CrashLoopBackOff reason for a dead instance while back-off delays its restart. */
  private crashLoopWaiting(name: string, cur: RuntimeContainer): Waiting | undefined {
    const key = `${this.uid}/${name}`;
    const finishedAt = Date.parse(cur.finishedAt ?? '') || this.deps.clock.now();
    if (!this.deps.crashBackoff.inBackoff(key, finishedAt)) return undefined;
    return { reason: 'CrashLoopBackOff', message: `back-off ${goDuration(this.deps.crashBackoff.delay(key))} restarting failed container=${name} pod=${podDescription(this.id)}` };
  }

  /** Starts the next instance after `cur` died, unless back-off says wait. `before` is the instance before cur. */
  private async restartContainer(c: Container, init: boolean, cur: RuntimeContainer, before: RuntimeContainer | undefined, ctx: StartContext): Promise<boolean> {
    const key = `${this.uid}/${c.name}`;
    const now = this.deps.clock.now();
    const finishedAt = Date.parse(cur.finishedAt ?? '') || now;
    const startedAt = Date.parse(cur.startedAt ?? '');
    if (!Number.isNaN(startedAt) && finishedAt - startedAt >= this.deps.backoffResetMs) this.deps.crashBackoff.reset(key);
    const backoff = this.deps.crashBackoff;
    if (backoff.inBackoff(key, finishedAt)) {
      const delay = backoff.delay(key);
      this.waits.set(c.name, { reason: 'CrashLoopBackOff', message: `back-off ${goDuration(delay)} restarting failed container=${c.name} pod=${podDescription(this.id)}` });
      if (this.backoffEventFor.get(key) !== cur.id) {
        this.backoffEventFor.set(key, cur.id);
        this.eventFn(c, init)('Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${podDescription(this.id)}`);
      }
      this.wakeIn(backoff.remaining(key, finishedAt));
      return false;
    }
    backoff.next(key);
    if (before) { await this.deps.runtime.remove(before.id); this.passStarted = undefined; } // cur becomes the one dead instance kept
    const attempt = Number(cur.labels[LABEL.restartCount] ?? 0) + 1;
    return this.startContainer(c, init, attempt, ctx);
  }

  /** Pulls, resolves, creates and starts one container. False when it could not (status says why). */
  private async startContainer(c: Container, init: boolean, attempt: number, ctx: StartContext): Promise<boolean> {
    const { runtime } = this.deps;
    const event = this.eventFn(c, init);
    const pulled = await this.deps.puller.ensure(c, `${this.uid}/${c.name}`, event, podPullCredentials(ctx.dp));
    if (!pulled.ok) {
      this.waits.set(c.name, { reason: pulled.reason, message: pulled.message });
      this.wakeIn(pulled.retryInMs !== undefined ? pulled.retryInMs : 10_000);
      return false;
    }
    let spec: ContainerSpec;
    try {
      spec = this.containerSpec(c, init, attempt, ctx);
    } catch (err) {
      if (!(err instanceof ConfigError) && !(err instanceof VolumeError) && !(err instanceof RangeError)) throw err;
      this.waits.set(c.name, { reason: 'CreateContainerConfigError', message: err.message });
      event('Warning', 'Failed', `Error: ${err.message}`);
      this.wakeIn(10_000);
      return false;
    }
    try {
      const id = await runtime.run(spec);
      this.passStarted?.push(id);
    } catch (err) {
      this.passStarted = undefined;
      const message = err instanceof RuntimeError ? (err.stderr || err.message) : errorText(err);
      this.waits.set(c.name, { reason: 'CreateContainerError', message });
      event('Warning', 'Failed', `Error: ${message}`);
      const key = `${this.uid}/${c.name}`;
      this.deps.crashBackoff.next(key);
      this.wakeIn(this.deps.crashBackoff.delay(key));
      return true; // a failed run may leave a container behind
    }
    this.waits.delete(c.name);
    event('Normal', 'Created', `Created container ${c.name}`);
    event('Normal', 'Started', `Started container ${c.name}`);
    return true;
  }

  private containerSpec(c: Container, init: boolean, attempt: number, ctx: StartContext): ContainerSpec {
    const dp = ctx.dp;
    const svc = this.kubernetesService(dp);
    const envCtx = { desired: dp, container: c, podIP: ctx.podIP, hostIP: ctx.hostIP, ...(svc ? { kubernetesService: svc } : {}) };
    const env = resolveEnv(envCtx);
    const spec: ContainerSpec = {
      name: containerName(this.id, c.name, attempt),
      image: c.image,
      pullPolicy: 'Never', // the puller has already applied the pod's policy
      env,
      labels: {
        ...podLabels(this.id, this.deps.nodeName),
        [LABEL.container]: c.name,
        [LABEL.specHash]: containerSpecHash(c),
        [LABEL.restartCount]: String(attempt),
        [LABEL.kind]: init ? 'init' : 'app',
        [LABEL.desiredGeneration]: String(this.deps.generation()),
        [LABEL.terminationGrace]: String(gracePeriodOf(dp.pod)),
      },
      mounts: containerMounts(c, ctx.volumes),
    };
    const command = expandList(c.command, env);
    const args = expandList(c.args, env);
    if (command) spec.command = command;
    if (args) spec.args = args;
    if (c.workingDir) spec.workingDir = c.workingDir;
    if (ctx.sandbox) spec.sandboxId = ctx.sandbox.id;
    const limits = c.resources?.limits ?? {};
    try {
      if (limits.cpu) spec.cpus = parseQuantity(limits.cpu);
      if (limits.memory) spec.memoryBytes = Math.round(parseQuantity(limits.memory));
    } catch (err) {
      throw new ConfigError(errorText(err));
    }
    if (c.securityContext?.runAsUser !== undefined) spec.user = String(c.securityContext.runAsUser);
    if (c.securityContext?.privileged) spec.privileged = true;
    if (c.tty) spec.tty = true;
    if (c.stdin) spec.stdin = true;
    return spec;
  }

  private kubernetesService(dp: DesiredPod): { host: string; port: number } | undefined {
    if (this.deps.kubernetesService) return { host: String(this.deps.kubernetesService.host), port: this.deps.kubernetesService.port };
    const url = dp.serviceAccount?.apiServer;
    if (!url) return undefined;
    try {
      const u = new URL(url);
      return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) };
    } catch {
      return undefined;
    }
  }

  // ---- probes ------------------------------------------------------------------

  private syncProbes(dp: DesiredPod, all: RuntimeContainer[], podIP: string | undefined): void {
    const running = new Map<string, RuntimeContainer>();
    for (const rc of all) if (rc.state === 'running' && rc.labels[LABEL.kind] !== 'init') running.set(rc.id, rc);
    for (const id of [...this.probes.keys()]) if (!running.has(id)) this.dropProbes(id);
    for (const [id, rc] of running) {
      if (this.probes.has(id)) continue;
      const c = dp.pod.spec.containers.find((x) => x.name === rc.labels[LABEL.container]);
      if (!c || !(c.livenessProbe || c.readinessProbe || c.startupProbe)) continue;
      const target = { containerId: id, container: c, startedAt: Date.parse(rc.startedAt ?? '') || this.deps.clock.now(), podIP, hostNetwork: !!dp.pod.spec.hostNetwork };
      this.probes.set(id, new ContainerProbes(this.deps.runtime, target, {
        onChange: () => this.trigger(),
        onKill: (_kind, message) => { this.killRequests.set(id, message); this.trigger(); },
        event: this.eventFn(c, false),
      }, () => this.deps.clock.now()));
    }
  }

  private dropProbes(id: string): void {
    this.probes.get(id)?.stop();
    this.probes.delete(id);
  }

  // ---- status ------------------------------------------------------------------

  private publish(dp: DesiredPod, all: RuntimeContainer[], sandboxReady: boolean, podIP: string | undefined, hostIP: string | undefined, initDone: boolean, initFailed: boolean, finalise?: (s: PodStatus) => PodStatus): void {
    const view = (c: Container): ContainerView => {
      const g = this.split(all.filter((x) => x.labels[LABEL.container] === c.name));
      const probes = g.current ? this.probes.get(g.current.id) : undefined;
      const v: ContainerView = {
        spec: c,
        restartCount: Number(g.current?.labels[LABEL.restartCount] ?? 0),
        ready: probes ? probes.ready : true,
        started: probes ? probes.started : true,
      };
      if (g.current) v.current = g.current;
      if (g.previous) v.previous = g.previous;
      const w = this.waits.get(c.name);
      // a waiting reason outlives the container only while it is not running again
      if (w && !(g.current && isLive(g.current))) v.waiting = w;
      // dead and due for a restart: while back-off holds it, say so (the kubelet's CrashLoopBackOff);
      // otherwise the restart is imminent and the terminated state stands until it happens
      if (g.current && isDead(g.current) && !w && this.willRestart(dp, c, g.current)) {
        const crash = this.crashLoopWaiting(c.name, g.current);
        if (crash) v.waiting = crash;
      }
      return v;
    };
    const status = buildPodStatus({
      pod: dp.pod,
      runtimeName: this.deps.runtime.name,
      podIP,
      hostIP,
      startTime: this.startTime!,
      sandboxReady,
      init: (dp.pod.spec.initContainers ?? []).map(view),
      app: dp.pod.spec.containers.map(view),
      initDone,
      initFailed,
      previous: this.lastStatus ?? dp.pod.status, // keeps transition times across agent restarts
      now: isoSeconds(this.deps.clock.now()),
    });
    const final = finalise ? finalise(status) : status;
    const json = JSON.stringify(final);
    if (json === this.lastStatusJSON) return;
    this.lastStatus = final;
    this.lastStatusJSON = json;
    this.deps.emitStatus(this.statusUpdate(final));
  }

  /** True when this dead instance will be followed by a new one (logs --previous picks it then). */
  willRestartContainer(name: string, cur: RuntimeContainer): boolean {
    const dp = this.desired;
    const c = dp && [...(dp.pod.spec.initContainers ?? []), ...dp.pod.spec.containers].find((x) => x.name === name);
    return !!c && this.willRestart(dp!, c, cur);
  }

  /** The waiting reason last reported for a container, if any. */
  waitingReason(name: string): string | undefined {
    const all = [...(this.lastStatus?.initContainerStatuses ?? []), ...(this.lastStatus?.containerStatuses ?? [])];
    return all.find((s) => s.name === name)?.state.waiting?.reason ?? this.waits.get(name)?.reason;
  }

  private willRestart(dp: DesiredPod, c: Container, cur: RuntimeContainer): boolean {
    const init = (dp.pod.spec.initContainers ?? []).some((x) => x.name === c.name);
    const policy = dp.pod.spec.restartPolicy ?? 'Always';
    if (init) return cur.exitCode !== 0 && policy !== 'Never';
    return this.shouldRestart(policy, cur);
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
    for (const p of this.probes.values()) p.stop();
    this.probes.clear();
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
      this.publish(dp, all, false, undefined, this.deps.hostIP(), true, false, (s) => {
        const now = isoSeconds(this.deps.clock.now());
        return { ...s, phase: 'Failed', reason: EVICTED_REASON, message: e.message, conditions: [...(s.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget'), disruptionCondition(e.message, now)] };
      });
    } else if (e.kind === 'reject') {
      const status: PodStatus = { phase: 'Failed', reason: EVICTED_REASON, message: e.message };
      if (dp.pod.status?.qosClass) status.qosClass = dp.pod.status.qosClass;
      this.lastStatus = status;
      this.lastStatusJSON = JSON.stringify(status);
      this.deps.emitStatus(this.statusUpdate(status));
    }
    for (const c of all) await runtime.remove(c.id);
    for (const b of await runtime.listSandboxes({ [LABEL.podUid]: this.uid })) await runtime.removeSandbox(b.id);
    this.cachedSandbox = undefined;
    await removePodDir(this.deps.dataDir, this.uid);
    this.deps.onListed?.(this.uid, [], Date.now());
    this.deps.crashBackoff.forgetPrefix(`${this.uid}/`);
    this.deps.puller.forgetPrefix(`${this.uid}/`);
    e.done = true;
    for (const w of e.waiters.splice(0)) w();
  }

  // ---- termination ------------------------------------------------------------

  private async syncTerminating(): Promise<void> {
    const { runtime } = this.deps;
    for (const p of this.probes.values()) p.stop();
    this.probes.clear();
    this.cachedSandbox = undefined;
    const all = await runtime.list({ [LABEL.podUid]: this.uid });
    const grace = this.terminateGrace ?? DEFAULT_GRACE_SECONDS;
    const live = all.filter(isLive);
    for (const c of live) {
      const name = c.labels[LABEL.container] ?? c.name;
      const init = c.labels[LABEL.kind] === 'init';
      this.event('Normal', 'Killing', `Stopping container ${name}`, `spec.${init ? 'initContainers' : 'containers'}{${name}}`);
      this.stopping.add(c.id);
    }
    try {
      await Promise.all(live.map((c) => runtime.stop(c.id, grace)));
    } finally {
      for (const c of live) this.stopping.delete(c.id);
    }
    for (const c of all) await runtime.remove(c.id);
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

interface StartContext {
  dp: DesiredPod;
  sandbox?: SandboxInfo;
  podIP?: string;
  hostIP?: string;
  volumes: PreparedVolumes;
}

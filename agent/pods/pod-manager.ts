// The kubelet core: holds the node's desired pod set (saved on disk for autonomy), runs
// one PodWorker per pod, follows the runtime's events to notice container exits (and
// relists it then, plus slowly for safety), batches status updates, and relays logs/exec
// requests.
import { join } from 'node:path';
import type pino from 'pino';
import type { Pod } from '../../protocol/kube/types.js';
import type { DesiredPod, DesiredPodsPayload, NodeEvent, PodStatusUpdate, PodUsage, RequestPayload, ResponseChunk } from '../../protocol/mqtt/payloads.js';
import type { ContainerRuntime, EventWatch, RuntimeContainer, RuntimeEvent, SandboxInfo } from '../runtime/types.js';
import { Backoff } from './backoff.js';
import { systemClock, type Clock } from './clock.js';
import { DesiredStore } from './desired-store.js';
import { ImagePuller, type ImagePullerOptions } from './image-puller.js';
import { LABEL, podIdentity } from './labels.js';
import { DEFAULT_GRACE_SECONDS, PodWorker, gracePeriodOf } from './pod-worker.js';
import { RequestRelay } from './logs-exec-relay.js';
import { removeLocalVolume } from './claim-volumes.js';

export type { PodUsage };

/** Quiet time after the last desired set before orphan sandboxes are looked for. */
const ORPHAN_SWEEP_DELAY_MS = 3000;

export interface PodManagerOptions {
  nodeName: string;
  dataDir: string;
  /** Where local-path volumes live; the only place a remove-volume request may delete from. */
  storageDir?: string;
  runtime: ContainerRuntime;
  log: pino.Logger;
  /** Batched (every statusBatchMs) by the manager. */
  onStatus(updates: PodStatusUpdate[]): void;
  onEvent(e: NodeEvent): void;
  hostIP(): string | undefined;
  /** Pod network name for the runtime (per-node pod CIDR network), optional; a function is read for each new pod. */
  network?: string | (() => string | undefined);
  /** Cluster DNS for ClusterFirst pods (the agent's own server); default: what the desired set says. */
  dns?: () => { clusterDomain: string; serverIP?: string } | undefined;
  /** The API server as pods reach it (KUBERNETES_SERVICE_HOST/PORT); default: from the service-account apiServer URL. */
  kubernetesService?: { host: string; port: number };
  /** Crash and image-pull back-off: first delay (default 10 s), cap (5 min), reset after running this long (10 min). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  backoffResetMs?: number;
  /** Every pod is re-synced this often from the last relist (default 10 s; 30 s with an event stream). */
  resyncMs?: number;
  /** Without an event stream from the runtime, it is relisted this often to notice exits (default 2 s). */
  relistMs?: number;
  /**
   * With an event stream, the relist runs on events and this often for safety (default 120 s).
   * A relist this old (or older) also re-reads every pod's sandbox.
   */
  safetyRelistMs?: number;
  /** Status updates are gathered this long before onStatus (default 100 ms); a pod's first update goes out at once. */
  statusBatchMs?: number;
  clock?: Clock;
  /** How pulls find credentials and report image use (registries config, image GC). */
  pulls?: ImagePullerOptions;
  /**
   * Admission of a pod new to the node (the kubelet's eviction admission handler): a
   * message refuses it, and the pod is reported Failed with reason Evicted.
   */
  admit?: (pod: Pod) => string | undefined;
}

/** A pod the eviction manager may pick: it runs here and is not being deleted or evicted. */
export interface EvictionCandidate { uid: string; pod: Pod; containerIds: Map<string, string> }

export class PodManager {
  private readonly store: DesiredStore;
  private readonly clock: Clock;
  private readonly crashBackoff: Backoff;
  readonly puller: ImagePuller;
  private readonly relay: RequestRelay;
  private readonly workers = new Map<string, PodWorker>();
  /** Pods reported gone that the controller still lists (deletion not yet finished on its side). */
  private readonly gone = new Set<string>();
  private desired?: DesiredPodsPayload;
  private generation = -Infinity;
  /** True once a set arrived from the controller in this process (not only from disk). */
  private live = false;
  private started = false;
  private stopped = false;
  private applying: Promise<void> = Promise.resolve();
  private pendingStatus = new Map<string, PodStatusUpdate>();
  private statusTimer?: NodeJS.Timeout;
  private resyncTimer?: NodeJS.Timeout;
  private relistTimer?: NodeJS.Timeout;
  private orphanTimer?: NodeJS.Timeout;
  private relisting?: Promise<void>;
  private fingerprints = new Map<string, string>();
  /** The last relist, by pod uid, and when it was taken (kept current by the workers' own lists). */
  private lastRelist?: { takenAt: number; byPod: Map<string, RuntimeContainer[]>; sandboxes?: SandboxInfo[] };
  /** When a worker's own list replaced its pod's part of the last relist. */
  private readonly listedAt = new Map<string, number>();
  private events?: EventWatch;
  /** A relist asked for while one runs; `full` also re-reads sandboxes. */
  private relistWanted?: { full: boolean };
  private lastFullRelistAt = 0;
  /** Pods whose status went out at least once: later updates are batched. */
  private readonly reported = new Set<string>();
  /** Phase and readiness last sent at once, per pod. */
  private readonly lastPhase = new Map<string, string>();

  constructor(private readonly opts: PodManagerOptions) {
    this.store = new DesiredStore(opts.dataDir);
    this.clock = opts.clock ?? systemClock;
    const backoff = { baseMs: opts.backoffBaseMs ?? 10_000, maxMs: opts.backoffMaxMs ?? 300_000 };
    this.crashBackoff = new Backoff(backoff, this.clock);
    this.puller = new ImagePuller(opts.runtime, new Backoff(backoff, this.clock), this.clock, opts.pulls);
    this.relay = new RequestRelay(opts.runtime, { find: (uid, ns, name) => this.findWorker(uid, ns, name) }, opts.log);
  }

  /** Loads the desired set saved in dataDir (if any) and reconciles at once. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    let saved: DesiredPodsPayload | undefined;
    try {
      saved = await this.store.load();
    } catch (err) {
      this.opts.log.error({ err, file: this.store.file }, 'saved desired pod set unreadable; waiting for the controller');
    }
    if (saved && saved.generation >= this.generation) {
      this.desired = saved;
      this.generation = saved.generation;
      this.apply(saved);
    }
    this.events = this.opts.runtime.watchEvents?.((e) => this.onRuntimeEvent(e));
    // with an event stream nothing changes unseen: the safety passes can be rarer
    const resyncMs = this.opts.resyncMs ?? (this.events ? 30_000 : 10_000);
    this.resyncTimer = setInterval(() => this.resync(), resyncMs);
    this.resyncTimer.unref();
    this.scheduleRelist(0);
  }

  /**
   * New desired set from the controller, already checked at the protocol boundary
   * (parseDesiredPods): persisted before it is acted on; older generations are ignored.
   */
  setDesired(p: DesiredPodsPayload): Promise<void> {
    this.opts.log.debug({ generation: p.generation, pods: p.pods.map((d) => d.pod.metadata.name) }, 'desired pod set received');
    const run = this.applying.then(async () => {
      if (this.stopped) return;
      if (p.generation < this.generation) {
        this.opts.log.info({ generation: p.generation, current: this.generation }, 'older desired pod set ignored');
        return;
      }
      await this.store.save(p);
      this.opts.log.debug({ generation: p.generation }, 'desired pod set saved');
      this.desired = p;
      this.generation = p.generation;
      this.live = true;
      this.apply(p);
      this.scheduleOrphanSweep();
    });
    this.applying = run.catch(() => undefined);
    return run;
  }

  /** Stops the loops; containers keep running. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    clearTimeout(this.relistTimer);
    clearTimeout(this.orphanTimer);
    this.events?.stop();
    this.relay.cancelAll();
    await this.applying;
    await this.relisting;
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    this.flushStatus();
    clearTimeout(this.statusTimer);
  }

  handleRequest(req: RequestPayload, reply: (chunk: ResponseChunk) => void): void {
    if (req?.op === 'remove-volume') {
      const { transaction, path } = req;
      const storageDir = this.opts.storageDir ?? join(this.opts.dataDir, 'storage');
      removeLocalVolume(storageDir, path).then(
        () => { this.opts.log.info({ path }, 'volume directory removed'); reply({ transaction, seq: 0, done: true }); },
        (err) => reply({ transaction, seq: 0, done: true, error: err instanceof Error ? err.message : String(err) }),
      );
      return;
    }
    this.relay.handle(req, reply);
  }

  /** Per-pod real usage for metrics. */
  async usage(): Promise<PodUsage[]> {
    // the last relist (kept current by events and the workers' own lists) knows what runs:
    // no second `ps` + `inspect` per heartbeat
    const r = this.lastRelist;
    const recent = r && this.clock.now() - r.takenAt <= 2 * this.relistPeriod() + 1000;
    const listed = recent ? [...r.byPod.values()].flat() : await this.opts.runtime.list({ [LABEL.node]: this.opts.nodeName });
    const running = listed.filter((c) => c.state === 'running');
    const stats = await this.opts.runtime.stats(running.map((c) => c.id));
    const byPod = new Map<string, PodUsage>();
    for (const c of running) {
      const uid = c.labels[LABEL.podUid];
      const s = stats.get(c.id);
      if (!uid || !s || !this.workers.has(uid)) continue;
      let u = byPod.get(uid);
      if (!u) {
        u = { uid, namespace: c.labels[LABEL.podNamespace] ?? 'default', name: c.labels[LABEL.podName] ?? '', containers: [] };
        byPod.set(uid, u);
      }
      u.containers.push({ name: c.labels[LABEL.container] ?? c.name, cpuCores: s.cpuCores, memoryBytes: s.memoryBytes });
    }
    return [...byPod.values()];
  }

  /** Re-sends the current status of every pod (after a reconnect). */
  resendAllStatus(): void {
    for (const w of this.workers.values()) w.resendStatus();
    for (const uid of this.gone) {
      const dp = this.desired?.pods.find((p) => p.pod.metadata.uid === uid);
      if (dp) this.queueStatus({ ...podIdentity(dp.pod), gone: true });
    }
  }

  /** The generation of the desired set in force (for tests and diagnostics). */
  get currentGeneration(): number {
    return this.generation;
  }

  // ---- desired set -------------------------------------------------------------

  private apply(p: DesiredPodsPayload): void {
    const wanted = new Map<string, DesiredPod>();
    for (const dp of p.pods) wanted.set(dp.pod.metadata.uid!, dp);
    for (const uid of [...this.gone]) if (!wanted.has(uid)) this.gone.delete(uid);
    for (const [uid, dp] of wanted) {
      if (this.gone.has(uid)) continue;
      let w = this.workers.get(uid);
      if (!w) {
        w = this.newWorker(dp);
        this.workers.set(uid, w);
        const refusal = this.admission(dp);
        if (refusal) {
          this.opts.log.warn({ pod: dp.pod.metadata.name, namespace: dp.pod.metadata.namespace, reason: refusal }, 'pod refused at admission');
          w.reject('Evicted', refusal);
          continue;
        }
        // A pod new to this process has nothing the last full relist did not show (only its
        // worker creates things for it): start from that instead of asking the runtime again.
        const r = this.lastRelist;
        w.trigger(r?.sandboxes
          ? { snapshot: { takenAt: r.takenAt, list: r.byPod.get(uid) ?? [], sandboxes: r.sandboxes.filter((b) => b.labels[LABEL.podUid] === uid) }, full: true }
          : undefined);
      } else {
        w.update(dp); // passes again only when the pod changed
      }
      if (dp.pod.metadata.deletionTimestamp) w.terminate(gracePeriodOf(dp.pod));
    }
    for (const [uid, w] of this.workers) {
      if (!wanted.has(uid)) w.terminate(gracePeriodOf(w.desired?.pod));
    }
  }

  /** Only a pod that never started here is refused: nothing of it runs, and it has no status yet. */
  private admission(dp: DesiredPod): string | undefined {
    const r = this.lastRelist;
    if (!this.opts.admit || !r?.sandboxes || dp.pod.metadata.deletionTimestamp) return undefined;
    const uid = dp.pod.metadata.uid!;
    const phase = dp.pod.status?.phase;
    if ((phase && phase !== 'Pending') || r.byPod.get(uid)?.length || r.sandboxes.some((b) => b.labels[LABEL.podUid] === uid)) return undefined;
    return this.opts.admit(dp.pod);
  }

  /** The pods the eviction manager may choose from, with the ids of their running containers. */
  evictionCandidates(): EvictionCandidate[] {
    const out: EvictionCandidate[] = [];
    const r = this.lastRelist;
    for (const [uid, w] of this.workers) {
      const pod = w.desired?.pod;
      if (!pod || w.isTerminating || w.hasEnded || pod.metadata.deletionTimestamp) continue;
      const running = (r?.byPod.get(uid) ?? []).filter((c) => c.state === 'running');
      if (!running.length) continue;
      const containerIds = new Map<string, string>();
      for (const c of running) containerIds.set(c.labels[LABEL.container] ?? c.name, c.id);
      out.push({ uid, pod, containerIds });
    }
    return out;
  }

  /** Evicts one pod (node pressure); resolves once its containers are gone or after timeoutMs. */
  async evict(uid: string, message: string, graceSeconds: number, timeoutMs = 30_000): Promise<boolean> {
    const w = this.workers.get(uid);
    if (!w || w.isTerminating || w.hasEnded) return false;
    this.opts.log.warn({ pod: w.id.name, namespace: w.id.namespace, message }, 'evicting pod');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([w.evict(message, graceSeconds), new Promise<void>((r) => { timer = setTimeout(r, timeoutMs); timer.unref(); })]);
    clearTimeout(timer);
    return true;
  }

  private newWorker(dp: DesiredPod | undefined, orphan?: { uid: string; name: string; namespace: string }): PodWorker {
    const o = this.opts;
    const network = typeof o.network === 'function' ? o.network() : o.network;
    return new PodWorker({
      nodeName: o.nodeName,
      dataDir: o.dataDir,
      runtime: o.runtime,
      log: o.log,
      clock: this.clock,
      ...(network ? { network } : {}),
      hostIP: () => o.hostIP(),
      crashBackoff: this.crashBackoff,
      puller: this.puller,
      backoffResetMs: o.backoffResetMs ?? 600_000,
      generation: () => this.generation,
      dns: () => o.dns?.() ?? this.desired?.dns,
      ...(o.kubernetesService ? { kubernetesService: o.kubernetesService } : {}),
      emitStatus: (u) => this.queueStatus(u),
      onListed: (uid, list, takenAt) => this.noteListed(uid, list, takenAt),
      emitEvent: (e) => { try { o.onEvent(e); } catch (err) { o.log.error({ err }, 'onEvent failed'); } },
      onGone: (w) => {
        if (this.workers.get(w.uid) === w) this.workers.delete(w.uid);
        this.fingerprints.delete(w.uid);
        this.lastRelist?.byPod.delete(w.uid);
        this.listedAt.delete(w.uid);
        this.reported.delete(w.uid);
        this.lastPhase.delete(w.uid);
        if (this.desired?.pods.some((p) => p.pod.metadata.uid === w.uid)) this.gone.add(w.uid);
      },
    }, dp, orphan);
  }

  private findWorker(uid: string, namespace: string, name: string): PodWorker | undefined {
    if (uid) return this.workers.get(uid);
    for (const w of this.workers.values()) if (w.id.namespace === namespace && w.id.name === name && !w.isTerminating) return w;
    return undefined;
  }

  // ---- status batching ----------------------------------------------------------

  private queueStatus(u: PodStatusUpdate): void {
    this.pendingStatus.set(u.uid, u);
    // A pod's first status, a new phase and a readiness change are what users and controllers
    // wait for (rollouts, endpoints, ordered StatefulSets): no batching delay, as upstream's
    // status manager sends them at once.
    const phase = `${u.status?.phase ?? ''}/${readyOf(u)}`;
    if (!this.reported.has(u.uid) || phase !== this.lastPhase.get(u.uid)) {
      this.reported.add(u.uid);
      this.lastPhase.set(u.uid, phase);
      clearTimeout(this.statusTimer);
      this.statusTimer = undefined;
      this.flushStatus();
      return;
    }
    if (this.statusTimer || this.stopped) return;
    this.statusTimer = setTimeout(() => { this.statusTimer = undefined; this.flushStatus(); }, this.opts.statusBatchMs ?? 100);
  }

  private flushStatus(): void {
    if (this.pendingStatus.size === 0) return;
    const updates = [...this.pendingStatus.values()];
    this.pendingStatus = new Map();
    this.opts.log.debug({ pods: updates.map((u) => ({ uid: u.uid, phase: u.status?.phase })) }, 'pod statuses sent');
    try {
      this.opts.onStatus(updates);
    } catch (err) {
      this.opts.log.error({ err }, 'onStatus failed');
    }
  }

  // ---- relist: notice exits, adopt and collect orphans ------------------------

  /** Every pod passes again from the last relist: no runtime calls unless something is due. */
  private resync(): void {
    if (this.stopped) return;
    const r = this.lastRelist;
    for (const [uid, w] of this.workers) {
      w.trigger(r ? { snapshot: { takenAt: Math.max(r.takenAt, this.listedAt.get(uid) ?? 0), list: r.byPod.get(uid) ?? [] } } : undefined);
    }
  }

  private relistPeriod(): number {
    return this.events ? (this.opts.safetyRelistMs ?? 120_000) : (this.opts.relistMs ?? 2000);
  }

  /** Exits, OOM kills and removals of this node's containers make the manager look again. */
  private onRuntimeEvent(e: RuntimeEvent): void {
    if (this.stopped) return;
    if (e.type === 'restarted') { this.requestRelist(true); return; }
    const node = e.labels?.[LABEL.node];
    if (node !== undefined && node !== this.opts.nodeName) return;
    if (e.labels && node === undefined) return; // labelled, but not by us
    const known = this.lastRelist && [...this.lastRelist.byPod.values()].some((l) => l.some((c) => c.id === e.id));
    // a sandbox (or a container the manager never saw, e.g. from an unlabelled stream) means a full look
    this.requestRelist(e.labels?.[LABEL.kind] === 'sandbox' || (!e.labels && !known));
  }

  /** A relist as soon as possible; requests during one are merged into the next. */
  private requestRelist(full: boolean): void {
    if (this.relisting) {
      this.relistWanted = { full: full || (this.relistWanted?.full ?? false) };
      return;
    }
    this.relistWanted = { full: full || (this.relistWanted?.full ?? false) };
    this.scheduleRelist(10); // a burst of events (a pod's containers exiting together) is one relist
  }

  private scheduleRelist(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.relistTimer);
    this.relistTimer = setTimeout(() => {
      const wanted = this.relistWanted;
      this.relistWanted = undefined;
      const full = (wanted?.full ?? false) || this.clock.now() - this.lastFullRelistAt >= (this.opts.safetyRelistMs ?? 120_000);
      this.relisting = this.relist(full)
        .catch((err) => this.opts.log.warn({ err }, 'runtime relist failed'))
        .finally(() => {
          this.relisting = undefined;
          this.scheduleRelist(this.relistWanted ? 10 : this.relistPeriod());
        });
    }, ms);
    this.relistTimer.unref();
  }

  /** A worker listed its own pod: the manager's view takes it, so no relist is needed for it. */
  private noteListed(uid: string, list: RuntimeContainer[], takenAt: number): void {
    const r = this.lastRelist;
    if (!r || Math.max(r.takenAt, this.listedAt.get(uid) ?? 0) > takenAt || !this.workers.has(uid)) return;
    r.byPod.set(uid, list);
    this.listedAt.set(uid, takenAt);
    this.fingerprints.set(uid, fingerprint(list));
  }

  private async relist(full: boolean): Promise<void> {
    const takenAt = this.clock.now();
    const [all, boxes] = await Promise.all([
      this.opts.runtime.list({ [LABEL.node]: this.opts.nodeName }),
      full ? this.opts.runtime.listSandboxes({ [LABEL.node]: this.opts.nodeName }) : Promise.resolve(undefined),
    ]);
    if (this.stopped) return;
    if (full) this.lastFullRelistAt = takenAt;
    const byPod = new Map<string, RuntimeContainer[]>();
    for (const c of all) {
      const uid = c.labels[LABEL.podUid];
      if (!uid) continue;
      let list = byPod.get(uid);
      if (!list) byPod.set(uid, (list = []));
      list.push(c);
    }
    const sandboxesOf = (uid: string): SandboxInfo[] | undefined => boxes?.filter((b) => b.labels[LABEL.podUid] === uid);
    const next = new Map<string, string>();
    for (const [uid, list] of byPod) {
      const fp = fingerprint(list);
      next.set(uid, fp);
      const w = this.workers.get(uid);
      if (w) {
        const sandboxes = sandboxesOf(uid);
        if (sandboxes) w.trigger({ snapshot: { takenAt, list, sandboxes }, full: true });
        else if (this.fingerprints.get(uid) !== fp) w.trigger({ snapshot: { takenAt, list } });
      } else {
        this.collectOrphan(uid, list);
      }
    }
    for (const [uid, w] of this.workers) {
      if (next.has(uid)) continue;
      const sandboxes = sandboxesOf(uid);
      if (sandboxes) w.trigger({ snapshot: { takenAt, list: [], sandboxes }, full: true });
      else if (this.fingerprints.has(uid)) w.trigger({ snapshot: { takenAt, list: [] } });
    }
    this.fingerprints = next;
    this.listedAt.clear();
    const sandboxes = boxes ?? this.lastRelist?.sandboxes;
    this.lastRelist = sandboxes ? { takenAt, byPod, sandboxes } : { takenAt, byPod };
  }

  /** Sandboxes left without a desired pod (containers are handled by relist). */
  /**
   * Orphan sandboxes are looked for once desired sets stop coming for a moment: the
   * listing takes the runtime's lock (podman's) and would slow the pod starts a new set asks for.
   */
  private scheduleOrphanSweep(): void {
    clearTimeout(this.orphanTimer);
    this.orphanTimer = setTimeout(() => { this.orphanTimer = undefined; void this.collectOrphanSandboxes(); }, ORPHAN_SWEEP_DELAY_MS);
    this.orphanTimer.unref();
  }

  private async collectOrphanSandboxes(): Promise<void> {
    try {
      const boxes = await this.opts.runtime.listSandboxes({ [LABEL.node]: this.opts.nodeName });
      for (const b of boxes) {
        const uid = b.labels[LABEL.podUid];
        if (!uid || this.workers.has(uid) || this.stopped) continue;
        if (this.desired?.pods.some((p) => p.pod.metadata.uid === uid)) continue;
        const createdBy = Number(b.labels[LABEL.desiredGeneration] ?? 0);
        if (!this.live && !(createdBy < this.generation)) continue;
        const left = await this.opts.runtime.list({ [LABEL.podUid]: uid });
        if (left.length === 0) await this.opts.runtime.removeSandbox(b.id);
      }
    } catch (err) {
      this.opts.log.warn({ err }, 'sandbox cleanup failed');
    }
  }

  /**
   * Containers of a pod the desired set does not hold. They are removed only when an
   * explicit set says so: one received from the controller since start, or a saved set
   * newer than the one that created them. While offline the saved set is the truth.
   */
  private collectOrphan(uid: string, list: RuntimeContainer[]): void {
    if (this.desired?.pods.some((p) => p.pod.metadata.uid === uid)) return; // a gone pod still listed
    const createdBy = Math.max(...list.map((c) => Number(c.labels[LABEL.desiredGeneration] ?? 0)));
    if (!this.live && !(createdBy < this.generation)) return;
    const first = list[0]!;
    const id = { uid, name: first.labels[LABEL.podName] ?? '', namespace: first.labels[LABEL.podNamespace] ?? 'default' };
    this.opts.log.info({ pod: id.name, namespace: id.namespace, uid }, 'removing containers of a pod no longer desired');
    const w = this.newWorker(undefined, id);
    this.workers.set(uid, w);
    const grace = Number(first.labels[LABEL.terminationGrace] ?? DEFAULT_GRACE_SECONDS);
    w.terminate(Number.isFinite(grace) ? grace : DEFAULT_GRACE_SECONDS);
  }
}

function fingerprint(list: RuntimeContainer[]): string {
  return list.map((c) => `${c.id}:${c.state}:${c.exitCode ?? ''}`).sort().join(',');
}

function readyOf(u: PodStatusUpdate): string {
  return u.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? '';
}

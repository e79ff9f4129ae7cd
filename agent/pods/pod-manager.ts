// The kubelet core: holds the node's desired pod set (saved on disk for autonomy), runs
// one PodWorker per pod, has the relister (pod-relister.ts) notice container exits and
// orphans, batches status updates (pod-status-batcher.ts), and relays logs/exec requests.
import { join } from 'node:path';
import type pino from 'pino';
import type { Pod } from '../../protocol/kube/types.js';
import type { DesiredPod, DesiredPodsPayload, NodeEvent, PodStatusUpdate, PodUsage, RequestPayload, ResponseChunk } from '../../protocol/mqtt/payloads.js';
import type { ContainerRuntime, RuntimeContainer } from '../runtime/container-runtime.js';
import { Backoff } from './backoff.js';
import { systemClock, type Clock } from './clock.js';
import { DesiredStore } from './desired-store.js';
import { ImagePuller, type ImagePullerOptions } from './image-puller.js';
import { LABEL, podIdentity } from './container-labels.js';
import { DEFAULT_GRACE_SECONDS, PodWorker, gracePeriodOf } from './pod-worker.js';
import { RequestRelay } from './logs-exec-relay.js';
import { removeLocalVolume } from './claim-mounts.js';
import { PodRelister } from './pod-relister.js';
import { PodStatusBatcher } from './pod-status-batcher.js';

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
   * With an event stream, the relist runs on events and this often for safety (default 300 s).
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
  /** The newest set handed to setDesired, applied or still queued. */
  private newest?: DesiredPodsPayload;
  private readonly statuses: PodStatusBatcher;
  private resyncTimer?: NodeJS.Timeout;
  private readonly relister: PodRelister;
  private orphanTimer?: NodeJS.Timeout;

  constructor(private readonly opts: PodManagerOptions) {
    this.store = new DesiredStore(opts.dataDir);
    this.clock = opts.clock ?? systemClock;
    const backoff = { baseMs: opts.backoffBaseMs ?? 10_000, maxMs: opts.backoffMaxMs ?? 300_000 };
    this.crashBackoff = new Backoff(backoff, this.clock);
    this.puller = new ImagePuller(opts.runtime, new Backoff(backoff, this.clock), this.clock, opts.pulls);
    this.statuses = new PodStatusBatcher({ batchMs: opts.statusBatchMs ?? 100, send: (u) => opts.onStatus(u), log: opts.log, stopped: () => this.stopped });
    this.relister = new PodRelister({
      nodeName: opts.nodeName,
      runtime: opts.runtime,
      clock: this.clock,
      log: opts.log,
      ...(opts.relistMs !== undefined ? { relistMs: opts.relistMs } : {}),
      ...(opts.safetyRelistMs !== undefined ? { safetyRelistMs: opts.safetyRelistMs } : {}),
      workers: this.workers,
      onOrphan: (uid, list) => this.collectOrphan(uid, list),
      stopped: () => this.stopped,
    });
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
    this.relister.start();
    // with an event stream nothing changes unseen: the safety passes can be rarer
    const resyncMs = this.opts.resyncMs ?? (this.relister.hasEventStream ? 30_000 : 10_000);
    this.resyncTimer = setInterval(() => this.resync(), resyncMs);
    this.resyncTimer.unref();
  }

  /**
   * New desired set from the controller, already checked at the protocol boundary
   * (parseDesiredPods): persisted before it is acted on; older generations are ignored.
   */
  setDesired(p: DesiredPodsPayload): Promise<void> {
    this.opts.log.debug({ generation: p.generation, pods: p.pods.map((d) => d.pod.metadata.name) }, 'desired pod set received');
    if (!this.newest || p.generation >= this.newest.generation) this.newest = p;
    const run = this.applying.then(async () => {
      if (this.stopped) return;
      // Each set is whole: one queued behind this one, at least as new, replaces it unsaved.
      if (this.newest !== p && this.newest!.generation >= p.generation) return;
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
    this.relister.stop();
    clearTimeout(this.orphanTimer);
    this.relay.cancelAll();
    await this.applying;
    await this.relister.settled;
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    this.statuses.stop();
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
    const r = this.relister.last;
    const recent = r && this.clock.now() - r.takenAt <= 2 * this.relister.period() + 1000;
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
      if (dp) this.statuses.queue({ ...podIdentity(dp.pod), gone: true });
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
        const r = this.relister.last;
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
    const r = this.relister.last;
    if (!this.opts.admit || !r?.sandboxes || dp.pod.metadata.deletionTimestamp) return undefined;
    const uid = dp.pod.metadata.uid!;
    const phase = dp.pod.status?.phase;
    if ((phase && phase !== 'Pending') || r.byPod.get(uid)?.length || r.sandboxes.some((b) => b.labels[LABEL.podUid] === uid)) return undefined;
    return this.opts.admit(dp.pod);
  }

  /** The pods the eviction manager may choose from, with the ids of their running containers. */
  evictionCandidates(): EvictionCandidate[] {
    const out: EvictionCandidate[] = [];
    const r = this.relister.last;
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
      emitStatus: (u) => this.statuses.queue(u),
      onListed: (uid, list, takenAt) => this.relister.noteListed(uid, list, takenAt),
      emitEvent: (e) => { try { o.onEvent(e); } catch (err) { o.log.error({ err }, 'onEvent failed'); } },
      onGone: (w) => {
        if (this.workers.get(w.uid) === w) this.workers.delete(w.uid);
        this.relister.forget(w.uid);
        this.statuses.forget(w.uid);
        if (this.desired?.pods.some((p) => p.pod.metadata.uid === w.uid)) this.gone.add(w.uid);
      },
    }, dp, orphan);
  }

  private findWorker(uid: string, namespace: string, name: string): PodWorker | undefined {
    if (uid) return this.workers.get(uid);
    for (const w of this.workers.values()) if (w.id.namespace === namespace && w.id.name === name && !w.isTerminating) return w;
    return undefined;
  }

  // ---- resync, and orphans the relist found --------------------------------------

  /** Every pod passes again from the last relist: no runtime calls unless something is due. */
  private resync(): void {
    if (this.stopped) return;
    for (const [uid, w] of this.workers) {
      const snapshot = this.relister.snapshotOf(uid);
      w.trigger(snapshot ? { snapshot } : undefined);
    }
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

// The node's view of what runs, as the kubelet's pod lifecycle event generator keeps it
// (pkg/kubelet/pleg/generic.go): the runtime is relisted when its event stream reports an
// exit, OOM kill or removal of this node's containers (plus slowly for safety, or often
// when it has no event stream), and each worker whose pod's containers changed since the
// last relist passes again with the fresh list. Containers of pods without a worker are
// handed back as orphans.
import type pino from 'pino';
import type { ContainerRuntime, EventWatch, RuntimeContainer, RuntimeEvent, SandboxInfo } from '../runtime/container-runtime.js';
import type { Clock } from './clock.js';
import { LABEL } from './container-labels.js';
import type { PodWorker, Snapshot } from './pod-worker.js';

/** One relist of the node: containers by pod uid and, from the last full relist, every sandbox. */
export interface Relist { takenAt: number; byPod: Map<string, RuntimeContainer[]>; sandboxes?: SandboxInfo[] }

/** The safety relist beside an event stream: each costs a few runtime CLI calls (about a second of podman CPU on the 2-core test machine). */
const SAFETY_RELIST_MS = 300_000;

export interface PodRelisterOptions {
  nodeName: string;
  runtime: ContainerRuntime;
  clock: Clock;
  log: pino.Logger;
  /** Without an event stream, the period of the relist (default 2 s). */
  relistMs?: number;
  /**
   * With an event stream, the period of the safety relist, and the age after which a relist
   * re-reads sandboxes (default 300 s, upstream's generic PLEG period beside the evented
   * one: eventedPlegRelistPeriod in pkg/kubelet/kubelet.go).
   */
  safetyRelistMs?: number;
  /** The pod workers, by pod uid. */
  workers: ReadonlyMap<string, PodWorker>;
  /** Containers found for a pod that has no worker. */
  onOrphan(uid: string, list: RuntimeContainer[]): void;
  stopped(): boolean;
}

export class PodRelister {
  private relistTimer?: NodeJS.Timeout;
  private relisting?: Promise<void>;
  private fingerprints = new Map<string, string>();
  /** The last relist, and when it was taken (kept current by the workers' own lists). */
  private lastRelist?: Relist;
  /** When a worker's own list replaced its pod's part of the last relist. */
  private readonly listedAt = new Map<string, number>();
  private events?: EventWatch;
  /** A relist asked for while one runs; `full` also re-reads sandboxes. */
  private relistWanted?: { full: boolean };
  private lastFullRelistAt = 0;

  constructor(private readonly opts: PodRelisterOptions) {}

  /** Follows the runtime's event stream, if it has one, and relists at once. */
  start(): void {
    this.events = this.opts.runtime.watchEvents?.((e) => this.onRuntimeEvent(e));
    this.scheduleRelist(0);
  }

  /** Stops the timer and the event stream; `settled` is the relist still running, if any. */
  stop(): void {
    clearTimeout(this.relistTimer);
    this.events?.stop();
  }

  get settled(): Promise<void> | undefined {
    return this.relisting;
  }

  get hasEventStream(): boolean {
    return !!this.events;
  }

  /** The last relist (undefined before the first one). */
  get last(): Relist | undefined {
    return this.lastRelist;
  }

  /** How often the runtime is relisted when nothing asks for it. */
  period(): number {
    return this.events ? (this.opts.safetyRelistMs ?? SAFETY_RELIST_MS) : (this.opts.relistMs ?? 2000);
  }

  /** A pod's containers as the last relist (or its worker's own newer list) saw them. */
  snapshotOf(uid: string): Snapshot | undefined {
    const r = this.lastRelist;
    return r ? { takenAt: Math.max(r.takenAt, this.listedAt.get(uid) ?? 0), list: r.byPod.get(uid) ?? [] } : undefined;
  }

  /** A worker listed its own pod: the view takes it, so no relist is needed for it. */
  noteListed(uid: string, list: RuntimeContainer[], takenAt: number): void {
    const r = this.lastRelist;
    if (!r || Math.max(r.takenAt, this.listedAt.get(uid) ?? 0) > takenAt || !this.opts.workers.has(uid)) return;
    r.byPod.set(uid, list);
    this.listedAt.set(uid, takenAt);
    this.fingerprints.set(uid, fingerprint(list));
  }

  /** A pod is gone from the node. */
  forget(uid: string): void {
    this.fingerprints.delete(uid);
    this.lastRelist?.byPod.delete(uid);
    this.listedAt.delete(uid);
  }

  /** Exits, OOM kills and removals of this node's containers make the relister look again. */
  private onRuntimeEvent(e: RuntimeEvent): void {
    if (this.opts.stopped()) return;
    if (e.type === 'restarted') { this.requestRelist(true); return; }
    const node = e.labels?.[LABEL.node];
    if (node !== undefined && node !== this.opts.nodeName) return;
    if (e.labels && node === undefined) return; // labelled, but not by us
    const known = this.lastRelist && [...this.lastRelist.byPod.values()].some((l) => l.some((c) => c.id === e.id));
    // a sandbox (or a container never seen, e.g. from an unlabelled stream) means a full look
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
    if (this.opts.stopped()) return;
    clearTimeout(this.relistTimer);
    this.relistTimer = setTimeout(() => {
      const wanted = this.relistWanted;
      this.relistWanted = undefined;
      const full = (wanted?.full ?? false) || this.opts.clock.now() - this.lastFullRelistAt >= (this.opts.safetyRelistMs ?? SAFETY_RELIST_MS);
      this.relisting = this.relist(full)
        .catch((err) => this.opts.log.warn({ err }, 'runtime relist failed'))
        .finally(() => {
          this.relisting = undefined;
          this.scheduleRelist(this.relistWanted ? 10 : this.period());
        });
    }, ms);
    this.relistTimer.unref();
  }

  private async relist(full: boolean): Promise<void> {
    const { runtime, nodeName, workers } = this.opts;
    const takenAt = this.opts.clock.now();
    const [all, boxes] = await Promise.all([
      runtime.list({ [LABEL.node]: nodeName }),
      full ? runtime.listSandboxes({ [LABEL.node]: nodeName }) : Promise.resolve(undefined),
    ]);
    if (this.opts.stopped()) return;
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
      const w = workers.get(uid);
      if (w) {
        const sandboxes = sandboxesOf(uid);
        if (sandboxes) w.trigger({ snapshot: { takenAt, list, sandboxes }, full: true });
        else if (this.fingerprints.get(uid) !== fp) w.trigger({ snapshot: { takenAt, list } });
      } else {
        this.opts.onOrphan(uid, list);
      }
    }
    for (const [uid, w] of workers) {
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
}

function fingerprint(list: RuntimeContainer[]): string {
  return list.map((c) => `${c.id}:${c.state}:${c.exitCode ?? ''}`).sort().join(',');
}

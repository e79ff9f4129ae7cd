// Pods waiting for a node, in three places like upstream's queue: `active` (try now, in
// arrival order), `backoff` (failed recently; a timer brings them back) and
// `unschedulable` (no node fits; they wait for the cluster to change, with a timeout
// as a safety net). Nothing polls: every move is an event or a timer.

export interface SchedulingQueueOptions {
  /** Wait after the first failed attempt; doubles per attempt. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** An unschedulable pod is retried after this long even if nothing seemed to change. */
  unschedulableTimeoutMs?: number;
}

interface Attempts { count: number; last: number }

export class SchedulingQueue {
  private readonly active = new Set<string>();
  private readonly unschedulable = new Map<string, NodeJS.Timeout>();
  private readonly backoff = new Map<string, NodeJS.Timeout>();
  private readonly attempts = new Map<string, Attempts>();
  private stopped = false;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly unschedulableTimeoutMs: number;

  /** `onActive` is called whenever a pod becomes ready to try. */
  constructor(private readonly onActive: () => void, opts: SchedulingQueueOptions = {}) {
    this.initialBackoffMs = opts.initialBackoffMs ?? 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.unschedulableTimeoutMs = opts.unschedulableTimeoutMs ?? 60_000;
  }

  get length(): number { return this.active.size; }

  /** A new or changed pending pod. One already waiting keeps its back-off. */
  add(key: string): void {
    if (this.stopped || this.active.has(key) || this.backoff.has(key)) return;
    if (this.unschedulable.has(key)) { this.moveFromUnschedulable(key); return; }
    this.activate(key);
  }

  isUnschedulable(key: string): boolean {
    return this.unschedulable.has(key);
  }

  pop(): string | undefined {
    const key = this.active.values().next().value;
    if (key !== undefined) this.active.delete(key);
    return key;
  }

  /** No node fits: wait for a cluster change (or the timeout). */
  markUnschedulable(key: string): void {
    if (this.stopped) return;
    this.countAttempt(key);
    this.clear(key);
    this.unschedulable.set(key, setTimeout(() => this.moveFromUnschedulable(key), this.unschedulableTimeoutMs).unref());
  }

  /** Something went wrong (a failed bind): try again after the back-off. */
  retryLater(key: string): void {
    if (this.stopped) return;
    this.countAttempt(key);
    this.clear(key);
    this.scheduleBackoff(key);
  }

  /** Nodes or pods changed in a way that may make room: every waiting pod gets another go. */
  moveAllUnschedulable(): void {
    for (const key of [...this.unschedulable.keys()]) this.moveFromUnschedulable(key);
  }

  /** The pod is placed or gone. */
  delete(key: string): void {
    this.clear(key);
    this.attempts.delete(key);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.unschedulable.values()) clearTimeout(t);
    for (const t of this.backoff.values()) clearTimeout(t);
    this.unschedulable.clear();
    this.backoff.clear();
    this.active.clear();
  }

  private countAttempt(key: string): void {
    const a = this.attempts.get(key);
    this.attempts.set(key, { count: (a?.count ?? 0) + 1, last: Date.now() });
  }

  private moveFromUnschedulable(key: string): void {
    const t = this.unschedulable.get(key);
    if (!t) return;
    clearTimeout(t);
    this.unschedulable.delete(key);
    this.scheduleBackoff(key);
  }

  private scheduleBackoff(key: string): void {
    const a = this.attempts.get(key);
    const wait = a ? Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** (a.count - 1)) - (Date.now() - a.last) : 0;
    if (wait <= 0) { this.activate(key); return; }
    this.backoff.set(key, setTimeout(() => { this.backoff.delete(key); this.activate(key); }, wait).unref());
  }

  private activate(key: string): void {
    if (this.stopped) return;
    this.active.add(key);
    this.onActive();
  }

  private clear(key: string): void {
    this.active.delete(key);
    const u = this.unschedulable.get(key);
    if (u) { clearTimeout(u); this.unschedulable.delete(key); }
    const b = this.backoff.get(key);
    if (b) { clearTimeout(b); this.backoff.delete(key); }
  }
}

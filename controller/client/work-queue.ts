// A de-duplicating work queue with per-key exponential back-off, like client-go's
// rate-limited queue: a key is processed by one worker at a time, and a key added while
// it is being processed runs again afterwards.

export class WorkQueue {
  private readonly queued = new Set<string>();
  private readonly active = new Set<string>();
  private readonly dirtyWhileActive = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private running = 0;
  private stopped = false;

  constructor(
    private readonly handler: (key: string) => Promise<void>,
    private readonly opts: { concurrency?: number; baseDelayMs?: number; maxDelayMs?: number; onError?: (key: string, err: unknown) => void } = {},
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    if (this.active.has(key)) { this.dirtyWhileActive.add(key); return; }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.pump();
  }

  /** Adds after a delay (requeue-after). */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    this.timers.set(key, setTimeout(() => { this.timers.delete(key); this.add(key); }, delayMs).unref());
  }

  /** Retries with exponential back-off after a failure. */
  retry(key: string): void {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const base = this.opts.baseDelayMs ?? 50;
    const max = this.opts.maxDelayMs ?? 30_000;
    this.addAfter(key, Math.min(max, base * 2 ** (n - 1)));
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  get length(): number { return this.queued.size; }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.queued.clear();
  }

  private pump(): void {
    const limit = this.opts.concurrency ?? 1;
    while (this.running < limit && this.queued.size > 0) {
      const key = this.queued.values().next().value as string;
      this.queued.delete(key);
      this.active.add(key);
      this.running++;
      void this.process(key);
    }
  }

  private async process(key: string): Promise<void> {
    try {
      await this.handler(key);
      this.forget(key);
    } catch (err) {
      this.opts.onError?.(key, err);
      this.retry(key);
    } finally {
      this.running--;
      this.active.delete(key);
      if (this.dirtyWhileActive.delete(key)) this.add(key);
      this.pump();
    }
  }
}

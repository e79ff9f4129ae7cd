// Per-key exponential back-off, the kubelet's rule: the first failure is retried at
// once; every retry after that waits base, 2×base, ... up to max. A key that ran
// long enough without failing starts over.
import type { Clock } from './clock.js';

export interface BackoffOptions { baseMs: number; maxMs: number }

interface Entry { delayMs: number; updatedAt: number }

export class Backoff {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly opts: BackoffOptions, private readonly clock: Clock) {}

  /** Current delay for the key, 0 when it has none. */
  delay(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  /** True while less than the current delay has passed since `since` (ms epoch). */
  inBackoff(key: string, since: number): boolean {
    const e = this.entries.get(key);
    return e !== undefined && this.clock.now() - since < e.delayMs;
  }

  /** Milliseconds left until `since + delay`, 0 when not backing off. */
  remaining(key: string, since: number): number {
    const e = this.entries.get(key);
    return e ? Math.max(0, since + e.delayMs - this.clock.now()) : 0;
  }

  /** Records one more retry: the next one waits twice as long. */
  next(key: string): void {
    const e = this.entries.get(key);
    const delayMs = e ? Math.min(e.delayMs * 2, this.opts.maxMs) : this.opts.baseMs;
    this.entries.set(key, { delayMs, updatedAt: this.clock.now() });
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets every key that starts with the prefix (a pod that went away). */
  forgetPrefix(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}

/** Go's time.Duration format (10s, 1m20s, 5m0s, 250ms), as in kubelet messages. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const totalS = ms / 1000;
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const s = +(totalS % 60).toFixed(3);
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

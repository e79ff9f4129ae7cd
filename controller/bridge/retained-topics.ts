// What the three MQTT publishers (desired pods, Service routing, ingress routes) share:
// changes are coalesced over a short debounce, each topic's whole retained payload is
// rendered and hashed, and only topics whose content changed are sent; a topic that should
// hold nothing is cleared once. Level-triggered like a controller's work queue
// (client-go util/workqueue): a failed publication forgets what was sent and comes back.
import { createHash } from 'node:crypto';

/**
 * What one topic should hold: the text whose hash says "unchanged" (the payload less its
 * generation), and the payload, built only when it is sent.
 */
export interface Retained<P> { identity: string; payload: () => P }

export interface RetainedTopicsOptions<P> {
  /** What each of `keys` should hold now; a key left out or mapped to undefined is cleared. */
  render: (keys: readonly string[]) => Map<string, Retained<P> | undefined>;
  /** Sends one topic's payload retained; `''` clears it. */
  publish: (key: string, payload: P | '') => Promise<unknown>;
  /** Coalesces bursts (a Deployment scaling up) into one publication per topic. */
  debounceMs: number;
  /** Least time between two publications to one topic (0: none). */
  minIntervalMs?: number;
  /** Wait before a failed publication is tried again. */
  retryMs?: number;
  log: { warn: (o: object, m: string) => void };
  /** Log text for a failed publication, and the field naming the topic's key in it. */
  failure: { message: string; keyField?: string };
}

/**
 * Runs `fn` after `ms`; with 0, once this turn's I/O is done (setImmediate) rather than
 * after the 1 ms a zero timeout really takes: changes made in one turn still coalesce.
 */
function later(ms: number, fn: () => void): { cancel(): void } {
  if (ms <= 0) {
    const h = setImmediate(fn);
    return { cancel: () => clearImmediate(h) };
  }
  const h = setTimeout(fn, ms);
  return { cancel: () => clearTimeout(h) };
}

/** Hash last sent; CLEARED once the topic was emptied. */
const CLEARED = '';

export class RetainedTopics<P> {
  private readonly sent = new Map<string, string>();
  private readonly dirty = new Set<string>();
  private readonly lastPublished = new Map<string, number>();
  private timer?: { cancel(): void };
  private timerAt = 0;
  private publishing = Promise.resolve();
  private stopped = false;
  /** Publications made (clears included), for tests and metrics. */
  published = 0;

  constructor(private readonly o: RetainedTopicsOptions<P>) {}

  /** `key`'s content may have changed: render and compare it after the debounce. */
  changed(key: string): void {
    if (this.stopped) return;
    this.dirty.add(key);
    this.schedule(Math.max(this.o.debounceMs, this.wait(key)));
  }

  /** Empties `key`'s topic at once and forgets it (its node is gone). */
  clear(key: string): void {
    this.sent.delete(key);
    this.lastPublished.delete(key);
    void this.o.publish(key, '').then(() => { this.published++; }, () => undefined);
  }

  /** Forgets what was sent, so the next render of each key is published again (after a broker reconnect). */
  resend(keys: Iterable<string>): void {
    this.sent.clear();
    for (const k of keys) this.changed(k);
  }

  /** Resolves once every change seen so far has been published (or found unchanged). */
  async flushed(): Promise<void> {
    while (this.timer) await new Promise((r) => setTimeout(r, Math.max(1, this.o.debounceMs)));
    await this.publishing;
  }

  start(): void {
    this.stopped = false;
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** How long until `key` may be published again. */
  private wait(key: string): number {
    const last = this.lastPublished.get(key);
    return last === undefined ? 0 : Math.max(0, last + (this.o.minIntervalMs ?? 0) - Date.now());
  }

  /** Runs the flush at `now + delayMs`, or earlier if one is already due sooner. */
  private schedule(delayMs: number): void {
    const at = Date.now() + delayMs;
    if (this.timer && this.timerAt <= at) return;
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = later(delayMs, () => {
      this.timer = undefined;
      const due = [...this.dirty].filter((k) => this.wait(k) === 0);
      for (const k of due) this.dirty.delete(k);
      const now = Date.now();
      if (this.o.minIntervalMs) for (const k of due) this.lastPublished.set(k, now);
      if (due.length) this.publishing = this.publishing.then(() => this.flush(due));
      if (this.dirty.size) this.schedule(Math.min(...[...this.dirty].map((k) => this.wait(k))));
    });
  }

  private async flush(keys: string[]): Promise<void> {
    if (this.stopped) return;
    const wanted = this.o.render(keys);
    // Topics rendered from one payload share its identity string: hash it once.
    let lastIdentity: string | undefined;
    let lastHash = '';
    await Promise.all(keys.map(async (key) => {
      const want = wanted.get(key);
      let hash = CLEARED;
      if (want) {
        if (want.identity !== lastIdentity) {
          lastIdentity = want.identity;
          lastHash = createHash('sha1').update(want.identity).digest('hex');
        }
        hash = lastHash;
      }
      // Identical content is not sent again; the generation alone does not count.
      if (this.sent.get(key) === hash) return;
      this.sent.set(key, hash);
      try {
        await this.o.publish(key, want ? want.payload() : '');
        this.published++;
      } catch (err) {
        this.sent.delete(key);
        const field = this.o.failure.keyField;
        this.o.log.warn({ ...(field ? { [field]: key } : {}), err: String(err) }, this.o.failure.message);
        setTimeout(() => this.changed(key), this.o.retryMs ?? 1000).unref();
      }
    }));
  }
}

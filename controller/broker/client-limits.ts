// Per-client limits of the embedded broker, so that one node cannot exhaust the
// controller: a largest packet per topic kind (the protocol's payload limits), a cap on the
// retained bytes each node keeps in the broker, and a publish rate (token buckets for
// messages and bytes). Join and login failures are limited per source address, with a
// lockout that is logged once. The controller's own client is not limited.
import type { Topics } from '../../protocol/mqtt/topics.js';
import { PAYLOAD_LIMITS } from '../../protocol/mqtt/validate.js';
import type { BrokerIdentity } from './credentials.js';

const MiB = 1024 * 1024;
/** Retained bytes one node may keep (status, availability, pod statuses: a few KiB each). */
export const RETAINED_BYTES_PER_NODE = 2 * MiB;
/** Sustained and burst publish rates per client. */
export const PUBLISH_RATE = { messagesPerSecond: 100, messageBurst: 500, bytesPerSecond: 1 * MiB, byteBurst: 4 * MiB };
/** Failed logins per source address per minute before it is locked out (k3s-like). */
export const LOGIN_FAILURES_PER_MINUTE = 50;

class Bucket {
  private tokens: number;
  private at = Date.now();
  constructor(private readonly rate: number, private readonly burst: number) { this.tokens = burst; }
  take(n: number): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate);
    this.at = now;
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }
}

export class PublishLimits {
  private readonly retained = new Map<string, Map<string, number>>();
  private readonly buckets = new WeakMap<object, { msgs: Bucket; bytes: Bucket }>();

  constructor(private readonly topics: Topics) {}

  /** Why this publish is refused, or undefined when it may go through. */
  check(client: object, identity: BrokerIdentity, topic: string, size: number, retain: boolean): string | undefined {
    if (identity.role === 'controller') return undefined;
    const parsed = this.topics.parse(topic);
    const kind = parsed?.kind;
    const limit = kind && kind in PAYLOAD_LIMITS ? PAYLOAD_LIMITS[kind as keyof typeof PAYLOAD_LIMITS] : 64 * 1024;
    if (size > limit) return `payload of ${size} bytes exceeds ${limit} for ${kind ?? 'this topic'}`;
    let b = this.buckets.get(client);
    if (!b) this.buckets.set(client, (b = { msgs: new Bucket(PUBLISH_RATE.messagesPerSecond, PUBLISH_RATE.messageBurst), bytes: new Bucket(PUBLISH_RATE.bytesPerSecond, PUBLISH_RATE.byteBurst) }));
    if (!b.msgs.take(1) || !b.bytes.take(size)) return 'publish rate limit exceeded';
    if (retain && (identity.role === 'node' || identity.role === 'user')) {
      // Home-lab clients (MQTT API users) keep retained values too, under the same cap.
      const who = identity.role === 'node' ? `node ${identity.node}` : `user ${identity.user}`;
      const mine = this.retained.get(who) ?? new Map<string, number>();
      const total = [...mine.values()].reduce((a, v) => a + v, 0) - (mine.get(topic) ?? 0) + size;
      if (total > RETAINED_BYTES_PER_NODE) return `retained bytes of ${who} would reach ${total}, over ${RETAINED_BYTES_PER_NODE}`;
      if (size === 0) mine.delete(topic);
      else mine.set(topic, size);
      this.retained.set(who, mine);
    }
    return undefined;
  }
}

export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly lockedLogged = new Set<string>();

  constructor(private readonly log: { warn: (o: object, m: string) => void }, private readonly limit = LOGIN_FAILURES_PER_MINUTE) {}

  private recent(address: string): number[] {
    const cutoff = Date.now() - 60_000;
    const list = (this.failures.get(address) ?? []).filter((t) => t > cutoff);
    if (list.length) this.failures.set(address, list);
    else { this.failures.delete(address); this.lockedLogged.delete(address); }
    return list;
  }

  /** True while this address has used up its failures for the minute. */
  locked(address: string): boolean {
    return this.recent(address).length >= this.limit;
  }

  fail(address: string): void {
    const list = this.recent(address);
    list.push(Date.now());
    this.failures.set(address, list);
    if (list.length >= this.limit && !this.lockedLogged.has(address)) {
      this.lockedLogged.add(address);
      this.log.warn({ address, failures: list.length }, 'mqtt logins from this address locked out for a minute');
    }
    if (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value as string);
  }
}

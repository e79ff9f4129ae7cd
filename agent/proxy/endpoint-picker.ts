// Chooses the endpoint for a new connection: round robin, or the client's previous
// endpoint while its session affinity lasts. Endpoint changes only affect later picks.
import type { Endpoint } from './service-rules.js';

const key = (e: Endpoint) => `${e.ip}:${e.port}`;

export class EndpointPicker {
  private endpoints: Endpoint[] = [];
  private next = 0;
  private readonly sticky = new Map<string, { endpoint: string; at: number }>();
  private affinityMs = 0;

  constructor(private readonly now: () => number = Date.now) {}

  update(endpoints: Endpoint[], affinitySeconds?: number): void {
    this.endpoints = endpoints.slice();
    this.affinityMs = (affinitySeconds ?? 0) * 1000;
    if (!this.affinityMs) this.sticky.clear();
    if (this.next >= this.endpoints.length) this.next = 0;
  }

  get size(): number {
    return this.endpoints.length;
  }

  /** The endpoint for a connection from clientIP, skipping `exclude` (endpoints that just failed). */
  pick(clientIP: string, exclude: ReadonlySet<string> = new Set()): Endpoint | undefined {
    const now = this.now();
    if (this.affinityMs) {
      const s = this.sticky.get(clientIP);
      if (s && now - s.at < this.affinityMs && !exclude.has(s.endpoint)) {
        const e = this.endpoints.find((x) => key(x) === s.endpoint);
        if (e) { s.at = now; return e; }
      }
      if (this.sticky.size > 10_000) this.expire(now);
    }
    for (let i = 0; i < this.endpoints.length; i++) {
      const e = this.endpoints[(this.next + i) % this.endpoints.length]!;
      if (exclude.has(key(e))) continue;
      this.next = (this.next + i + 1) % this.endpoints.length;
      if (this.affinityMs) this.sticky.set(clientIP, { endpoint: key(e), at: now });
      return e;
    }
    return undefined;
  }

  private expire(now: number): void {
    for (const [ip, s] of this.sticky) if (now - s.at >= this.affinityMs) this.sticky.delete(ip);
  }
}

export { key as endpointKey };

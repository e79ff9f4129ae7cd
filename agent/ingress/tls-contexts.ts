// Certificates by SNI name: an exact host first, then a `*.` wildcard of one label.
// Each Secret's PEM becomes one SecureContext, built once per publication.
import { createSecureContext, type SecureContext } from 'node:tls';
import type { IngressCertificate } from '../../protocol/mqtt/ingress-payload.js';

export class TlsContexts {
  private exact = new Map<string, SecureContext>();
  private wildcard = new Map<string, SecureContext>();

  /** Replaces every certificate; returns the ones that could not be loaded, with why. */
  set(certs: IngressCertificate[]): { secret: string; error: string }[] {
    const exact = new Map<string, SecureContext>();
    const wildcard = new Map<string, SecureContext>();
    const bad: { secret: string; error: string }[] = [];
    for (const c of certs) {
      let ctx: SecureContext;
      try {
        ctx = createSecureContext({ cert: c.cert, key: c.key });
      } catch (err) {
        bad.push({ secret: c.secret, error: (err as Error).message });
        continue;
      }
      for (const h of c.hosts) {
        // The first Ingress (oldest, as the routes) to claim a name keeps it.
        if (h.startsWith('*.')) { if (!wildcard.has(h.slice(2))) wildcard.set(h.slice(2), ctx); }
        else if (!exact.has(h)) exact.set(h, ctx);
      }
    }
    this.exact = exact;
    this.wildcard = wildcard;
    return bad;
  }

  get size(): number {
    return this.exact.size + this.wildcard.size;
  }

  lookup(servername: string): SecureContext | undefined {
    const name = servername.toLowerCase();
    const hit = this.exact.get(name);
    if (hit) return hit;
    const dot = name.indexOf('.');
    return dot >= 0 ? this.wildcard.get(name.slice(dot + 1)) : undefined;
  }
}

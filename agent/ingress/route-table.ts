// Matching a request to an Ingress rule, with upstream's precedence: the most specific
// host first (an exact host, then a `*.`-wildcard of one label, then rules without a
// host), then within that host the longest matching path, Exact before Prefix at equal
// length; between equal rules of different Ingresses the oldest Ingress wins (as
// ingress-nginx does). ImplementationSpecific is matched as Prefix. Requests no rule
// takes go to the oldest Ingress's defaultBackend, if any. A miss says what it missed.
import type { IngressBackendRef, IngressPayload, IngressRouteSet } from '../../protocol/mqtt/ingress-payload.js';

export interface RouteEntry {
  ingress: IngressRouteSet;
  host?: string;
  path: string;
  exact: boolean;
  backend: IngressBackendRef;
  /** How the rule reads in error pages. */
  describe: string;
}

export type RouteMatch =
  | { kind: 'route'; entry: RouteEntry }
  | { kind: 'miss'; host: string; path: string; reason: string };

/** True when a Prefix path matches element-wise: `/foo` matches `/foo` and `/foo/bar`, not `/foobar`. */
export function prefixMatches(prefix: string, path: string): boolean {
  const p = prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (p === '/') return true;
  return path === p || path.startsWith(p + '/') || (path === p + '/');
}

const byAge = (a: IngressRouteSet, b: IngressRouteSet) =>
  a.created.localeCompare(b.created) || `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`);

function describe(ing: IngressRouteSet, host: string | undefined, path: string, type: string): string {
  return `Ingress ${ing.namespace}/${ing.name} rule host=${host ?? '*'} path=${path} (${type})`;
}

/** Host names are case-insensitive and the port is not part of the match. */
export function normalizeHost(header: string | undefined): string {
  if (!header) return '';
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon >= 0 && /^\d+$/.test(h.slice(colon + 1)) ? h.slice(0, colon) : h.replace(/\.$/, '');
}

export class RouteTable {
  private readonly exactHosts = new Map<string, RouteEntry[]>();
  private readonly wildcardHosts = new Map<string, RouteEntry[]>();
  private readonly anyHost: RouteEntry[] = [];
  private readonly defaultBackend?: RouteEntry;
  /** True when some Ingress wants plain HTTP redirected to https (the common case skips the lookup). */
  readonly redirects: boolean;
  readonly ingresses: IngressRouteSet[];

  constructor(payload: IngressPayload | undefined) {
    this.ingresses = [...(payload?.ingresses ?? [])].sort(byAge);
    for (const ing of this.ingresses) {
      for (const rule of ing.rules) {
        for (const p of rule.paths) {
          const exact = p.pathType === 'Exact';
          const entry: RouteEntry = { ingress: ing, ...(rule.host ? { host: rule.host } : {}), path: p.path, exact, backend: p.backend, describe: describe(ing, rule.host, p.path, p.pathType) };
          if (!rule.host) this.anyHost.push(entry);
          else if (rule.host.startsWith('*.')) push(this.wildcardHosts, rule.host.slice(2), entry);
          else push(this.exactHosts, rule.host, entry);
        }
      }
      if (ing.defaultBackend && !this.defaultBackend) this.defaultBackend = { ingress: ing, path: '/', exact: false, backend: ing.defaultBackend, describe: `Ingress ${ing.namespace}/${ing.name} defaultBackend` };
    }
    this.redirects = this.ingresses.some((i) => i.sslRedirect);
    // Longest path first, Exact before Prefix at equal length; the sort is stable, so age decides ties.
    const order = (a: RouteEntry, b: RouteEntry) => b.path.length - a.path.length || Number(b.exact) - Number(a.exact);
    for (const list of [...this.exactHosts.values(), ...this.wildcardHosts.values(), this.anyHost]) list.sort(order);
  }

  get size(): number {
    return this.ingresses.length;
  }

  /** The Ingress that has TLS for this host and wants plain HTTP redirected, if any. */
  redirectFor(host: string): IngressRouteSet | undefined {
    return this.ingresses.find((i) => i.sslRedirect && i.tlsHosts.some((h) => h === host || (h.startsWith('*.') && wildcardParent(host) === h.slice(2))));
  }

  match(hostHeader: string | undefined, url: string): RouteMatch {
    const host = normalizeHost(hostHeader);
    const q = url.indexOf('?');
    const path = (q >= 0 ? url.slice(0, q) : url) || '/';
    // Exact host, then the one-label wildcard, then rules without a host; the first tier
    // that has rules decides (unless a defaultBackend catches what it misses).
    for (let tier = 0; tier < 3; tier++) {
      const entries = tier === 0 ? this.exactHosts.get(host) : tier === 1 ? this.wildcardHosts.get(wildcardParent(host)) : this.anyHost.length ? this.anyHost : undefined;
      if (!entries) continue;
      for (const e of entries) if (e.exact ? e.path === path : prefixMatches(e.path, path)) return { kind: 'route', entry: e };
      if (this.defaultBackend) break;
      const label = tier === 0 ? `host ${host}` : tier === 1 ? `host *.${wildcardParent(host)}` : 'rules without a host';
      const tried = entries.slice(0, 5).map((e) => `${e.path} (${e.exact ? 'Exact' : 'Prefix'}, Ingress ${e.ingress.namespace}/${e.ingress.name})`).join(', ');
      return { kind: 'miss', host, path, reason: `the ${label} has rules, but no path matches ${path}: ${tried}${entries.length > 5 ? ', ...' : ''}` };
    }
    if (this.defaultBackend) return { kind: 'route', entry: this.defaultBackend };
    const reason = this.ingresses.length === 0 ? 'no Ingress is served by this node' : `no Ingress rule matches host ${host || '(none)'}`;
    return { kind: 'miss', host, path, reason };
  }
}

function wildcardParent(host: string): string {
  const dot = host.indexOf('.');
  return dot >= 0 ? host.slice(dot + 1) : '';
}

function push<K, V>(map: Map<K, V[]>, key: K, v: V): void {
  const list = map.get(key);
  if (list) list.push(v);
  else map.set(key, [v]);
}

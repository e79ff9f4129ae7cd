// The cluster's names, built from the Service routing payload:
//   <svc>.<ns>.svc.<domain>           → ClusterIP, or the ready endpoint IPs when headless
//   <host>.<svc>.<ns>.svc.<domain>    → a ready endpoint with that hostname (StatefulSet pods)
//   <a-b-c-d>.<ns>.pod.<domain>       → a.b.c.d
// Anything else inside the domain does not exist; names outside it are not ours.
import type { ServiceRoutingPayload } from '../../protocol/mqtt/payloads.js';

export type Lookup =
  | { kind: 'outside' }
  | { kind: 'nxdomain' }
  | { kind: 'found'; ips: string[] };

export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

export class ClusterRecords {
  private services = new Map<string, string[]>();
  private hosts = new Map<string, string[]>();
  private namespaces = new Set<string>();
  private domainName: string;

  constructor(domain = DEFAULT_CLUSTER_DOMAIN) {
    this.domainName = normalise(domain);
  }

  get domain(): string {
    return this.domainName;
  }

  update(p: ServiceRoutingPayload): void {
    if (p.clusterDomain) this.domainName = normalise(p.clusterDomain);
    const services = new Map<string, string[]>();
    const namespaces = new Set<string>();
    const hosts = new Map<string, string[]>();
    for (const s of p.services) {
      namespaces.add(s.namespace.toLowerCase());
      if (s.headless || !s.clusterIP || s.clusterIP === 'None') {
        for (const e of s.ports.flatMap((port) => port.endpoints)) {
          if (!e.ready || !e.hostname) continue;
          const key = `${e.hostname}.${s.name}.${s.namespace}`.toLowerCase();
          const list = hosts.get(key) ?? [];
          if (!list.includes(e.ip)) list.push(e.ip);
          hosts.set(key, list);
        }
      }
      let ips: string[];
      if (s.headless || !s.clusterIP || s.clusterIP === 'None') {
        ips = [...new Set(s.ports.flatMap((port) => port.endpoints.filter((e) => e.ready).map((e) => e.ip)))];
      } else {
        ips = [s.clusterIP];
      }
      services.set(`${s.name}.${s.namespace}`.toLowerCase(), ips);
    }
    this.services = services;
    this.namespaces = namespaces;
    this.hosts = hosts;
  }

  lookup(rawName: string): Lookup {
    const name = normalise(rawName);
    const d = this.domainName;
    if (name !== d && !name.endsWith(`.${d}`)) return { kind: 'outside' };
    const labels = name === d ? [] : name.slice(0, -(d.length + 1)).split('.');
    // <domain>, svc.<domain>, <ns>.svc.<domain>, pod.<domain>: they exist, with no address.
    if (labels.length === 0) return { kind: 'found', ips: [] };
    const zone = labels[labels.length - 1];
    if (zone !== 'svc' && zone !== 'pod') return { kind: 'nxdomain' };
    if (labels.length === 1) return { kind: 'found', ips: [] };
    if (labels.length === 2) return this.namespaces.has(labels[0]!) || zone === 'pod' ? { kind: 'found', ips: [] } : { kind: 'nxdomain' };
    if (labels.length === 4 && zone === 'svc') {
      const ips = this.hosts.get(labels.slice(0, 3).join('.'));
      return ips ? { kind: 'found', ips } : { kind: 'nxdomain' };
    }
    if (labels.length !== 3) return { kind: 'nxdomain' };
    const [first, ns] = labels as [string, string, string];
    if (zone === 'svc') {
      const ips = this.services.get(`${first}.${ns}`);
      return ips ? { kind: 'found', ips } : { kind: 'nxdomain' };
    }
    const m = /^(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})$/.exec(first);
    if (!m || m.slice(1).some((o) => Number(o) > 255)) return { kind: 'nxdomain' };
    return { kind: 'found', ips: [m.slice(1).map(Number).join('.')] };
  }
}

function normalise(name: string): string {
  return name.toLowerCase().replace(/\.+$/, '');
}

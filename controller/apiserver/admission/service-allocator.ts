// ClusterIPs from the service CIDR and node ports from 30000-32767, allocated at admission
// from what the store holds (the store is the allocation table, so nothing else persists).
import type { KubeObject, Service } from '../../../protocol/kube/types.js';
import type { StoreBackend } from '../../store/backend.js';
import { invalid } from '../errors.js';

const NODE_PORT_MIN = 30000;
const NODE_PORT_MAX = 32767;

export function parseCidr(cidr: string): { base: number; size: number } {
  const m = cidr.match(/^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/);
  if (!m) throw new Error(`invalid IPv4 CIDR "${cidr}"`);
  const bits = Number(m[5]);
  const base = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const size = 2 ** (32 - bits);
  return { base: (base & ~(size - 1)) >>> 0, size };
}

export function ipToString(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

export function ipToNumber(ip: string): number {
  return ip.split('.').reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0);
}

export class ServiceAllocator {
  private readonly cidr: { base: number; size: number };
  private nextIp = 10;

  constructor(private readonly store: StoreBackend, serviceCIDR: string) {
    this.cidr = parseCidr(serviceCIDR);
  }

  /** The first usable address: the `kubernetes` Service's ClusterIP. */
  get apiServiceIP(): string { return ipToString(this.cidr.base + 1); }

  defaults(object: KubeObject, previous: KubeObject | undefined): void {
    const svc = object as Service;
    const old = previous as Service | undefined;
    const spec = (svc.spec ??= {});
    spec.type ??= 'ClusterIP';
    spec.sessionAffinity ??= 'None';
    if (old?.spec?.clusterIP && !spec.clusterIP) spec.clusterIP = old.spec.clusterIP;
    if (old?.spec?.clusterIPs && !spec.clusterIPs) spec.clusterIPs = old.spec.clusterIPs;
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
    spec.internalTrafficPolicy ??= 'Cluster';
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
    for (const p of spec.ports ?? []) {
      if (!p || typeof p !== 'object') continue;
      p.protocol ??= 'TCP';
      p.targetPort ??= p.port;
      const was = (old?.spec?.ports ?? []).find((o: { port: number; protocol?: string; nodePort?: number }) => o.port === p.port && (o.protocol ?? 'TCP') === p.protocol);
      if (!p.nodePort && was?.nodePort && (spec.type === 'NodePort' || spec.type === 'LoadBalancer')) p.nodePort = was.nodePort;
    }
  }

  allocate(object: KubeObject, previous: KubeObject | undefined): void {
    const svc = object as Service;
    const old = previous as Service | undefined;
    const spec = svc.spec!; // set by defaults()
    const name = svc.metadata.name ?? '';
    const others = (this.store.list('services') as Service[]).filter((s) => s.metadata.uid !== svc.metadata.uid && !(s.metadata.namespace === svc.metadata.namespace && s.metadata.name === name));
    if (spec.type !== 'ExternalName') {
      if (old?.spec?.clusterIP && spec.clusterIP !== old.spec.clusterIP) {
        throw invalid('Service', name, '', [{ reason: 'FieldValueInvalid', field: 'spec.clusterIPs[0]', message: 'Invalid value: []string{"' + spec.clusterIP + '"}: may not change once set' }]);
      }
      if (!spec.clusterIP) {
        spec.clusterIP = this.freeIp(new Set(others.map((s) => s.spec?.clusterIP).filter((ip): ip is string => !!ip)));
      } else if (spec.clusterIP !== 'None') {
        const n = ipToNumber(spec.clusterIP);
        if (n < this.cidr.base || n >= this.cidr.base + this.cidr.size) {
          throw invalid('Service', name, '', [{ reason: 'FieldValueInvalid', field: 'spec.clusterIPs', message: `Invalid value: []string{"${spec.clusterIP}"}: failed to allocate IP ${spec.clusterIP}: the provided IP (${spec.clusterIP}) is not in the valid range` }]);
        }
        if (!old && others.some((s) => s.spec?.clusterIP === spec.clusterIP)) {
          throw invalid('Service', name, '', [{ reason: 'FieldValueInvalid', field: 'spec.clusterIPs', message: `Invalid value: []string{"${spec.clusterIP}"}: failed to allocate IP ${spec.clusterIP}: provided IP is already allocated` }]);
        }
      }
      spec.clusterIPs = [spec.clusterIP];
    }
    const wantsNodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    const used = new Set<number>();
    for (const s of others) for (const p of s.spec?.ports ?? []) if (p.nodePort) used.add(p.nodePort);
    (spec.ports ?? []).forEach((p: { nodePort?: number }, i: number) => {
      if (!wantsNodePorts) { delete p.nodePort; return; }
      if (p.nodePort) {
        if (used.has(p.nodePort)) {
          throw invalid('Service', name, '', [{ reason: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, message: `Invalid value: ${p.nodePort}: provided port is already allocated` }]);
        }
      } else {
        p.nodePort = this.freeNodePort(used);
      }
      used.add(p.nodePort!);
    });
  }

  private freeIp(used: Set<string>): string {
    const usable = this.cidr.size - 2;
    for (let i = 0; i < usable; i++) {
      const offset = 2 + ((this.nextIp - 2 + i) % usable);
      const ip = ipToString(this.cidr.base + offset);
      if (!used.has(ip) && ip !== this.apiServiceIP) {
        this.nextIp = offset + 1;
        return ip;
      }
    }
    throw invalid('Service', '', '', [{ reason: 'FieldValueInvalid', field: 'spec.clusterIPs', message: 'failed to allocate a serviceIP: range is full' }]);
  }

  private freeNodePort(used: Set<number>): number {
    const span = NODE_PORT_MAX - NODE_PORT_MIN + 1;
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < span; i++) {
      const p = NODE_PORT_MIN + ((start + i) % span);
      if (!used.has(p)) return p;
    }
    throw invalid('Service', '', '', [{ reason: 'FieldValueInvalid', field: 'spec.ports', message: 'failed to allocate a nodePort: range is full' }]);
  }
}

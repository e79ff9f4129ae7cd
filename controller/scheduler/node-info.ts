// One node as the scheduler sees it: what it offers (allocatable, labels, taints) and
// running totals of what its pods take. Totals change incrementally as pods come and
// go, so judging a node for a pod never walks that node's pods.
import type { Node, Taint } from '../../protocol/kube/types.js';
import { cpuToMillis, memoryToBytes, parseQuantity } from '../../protocol/kube/quantity.js';
import type { HostPort, PodRequests } from './pod-requests.js';

/** Upstream kubelet's default max pods when a node does not say. */
export const DEFAULT_MAX_PODS = 110;

export interface Allocatable { milliCpu: number; memory: number; pods: number; scalar: Map<string, number> }

export interface PodUsage { requests: PodRequests; ports: HostPort[] }

function amount(resource: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    if (resource === 'cpu') return cpuToMillis(text);
    if (resource === 'memory') return memoryToBytes(text);
    return parseQuantity(text);
  } catch {
    return undefined;
  }
}

export function allocatableOf(node: Node): Allocatable {
  const q = node.status?.allocatable ?? node.status?.capacity ?? {};
  const scalar = new Map<string, number>();
  for (const [k, v] of Object.entries(q)) {
    if (k === 'cpu' || k === 'memory' || k === 'pods') continue;
    const n = amount(k, v);
    if (n !== undefined) scalar.set(k, n);
  }
  return {
    milliCpu: amount('cpu', q.cpu) ?? 0,
    memory: amount('memory', q.memory) ?? 0,
    pods: Math.floor(amount('pods', q.pods) ?? DEFAULT_MAX_PODS),
    scalar,
  };
}

/** Status of the node's Ready condition; absent when the node never reported. */
export function readyStatusOf(node: Node): 'True' | 'False' | 'Unknown' | undefined {
  return node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
}

export class NodeInfo {
  node?: Node;
  labels: Readonly<Record<string, string>> = {};
  taints: readonly Taint[] = [];
  unschedulable = false;
  ready: 'True' | 'False' | 'Unknown' | undefined;
  allocatable: Allocatable = { milliCpu: 0, memory: 0, pods: 0, scalar: new Map() };

  requestedMilliCpu = 0;
  requestedMemory = 0;
  requestedScalar = new Map<string, number>();
  nonZeroMilliCpu = 0;
  nonZeroMemory = 0;
  podCount = 0;
  /** `protocol/port` → host IP → how many pods hold it. */
  private readonly ports = new Map<string, Map<string, number>>();

  constructor(readonly name: string) {}

  setNode(node: Node): void {
    this.node = node;
    this.labels = node.metadata.labels ?? {};
    this.taints = node.spec?.taints ?? [];
    this.unschedulable = node.spec?.unschedulable === true;
    this.ready = readyStatusOf(node);
    this.allocatable = allocatableOf(node);
  }

  addPod(p: PodUsage): void { this.apply(p, 1); }
  removePod(p: PodUsage): void { this.apply(p, -1); }

  private apply(p: PodUsage, sign: 1 | -1): void {
    const r = p.requests;
    this.requestedMilliCpu += sign * r.milliCpu;
    this.requestedMemory += sign * r.memory;
    this.nonZeroMilliCpu += sign * r.nonZeroMilliCpu;
    this.nonZeroMemory += sign * r.nonZeroMemory;
    this.podCount += sign;
    if (r.scalar) for (const [k, v] of r.scalar) this.requestedScalar.set(k, (this.requestedScalar.get(k) ?? 0) + sign * v);
    for (const hp of p.ports) {
      const slot = `${hp.protocol}/${hp.port}`;
      let ips = this.ports.get(slot);
      if (!ips) this.ports.set(slot, (ips = new Map()));
      const n = (ips.get(hp.ip) ?? 0) + sign;
      if (n > 0) ips.set(hp.ip, n);
      else ips.delete(hp.ip);
      if (ips.size === 0) this.ports.delete(slot);
    }
  }

  /** Same protocol and port clash when either side binds all addresses or both bind the same one. */
  portsConflict(wanted: readonly HostPort[]): boolean {
    for (const hp of wanted) {
      const ips = this.ports.get(`${hp.protocol}/${hp.port}`);
      if (!ips) continue;
      if (hp.ip === '0.0.0.0' || ips.has('0.0.0.0') || ips.has(hp.ip)) return true;
    }
    return false;
  }

  get isEmpty(): boolean { return this.podCount === 0 && this.ports.size === 0; }
}

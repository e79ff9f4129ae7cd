// What a pod asks of a node, computed once per pod: resource requests (init containers
// count as their maximum, since they run one at a time before the app containers), the
// "non-zero" requests that scoring uses so request-less pods still spread, host ports,
// and the controlling owner used for spreading.
import type { Container, Pod } from '../../protocol/kube/types.js';
import { cpuToMillis, memoryToBytes, parseQuantity } from '../../protocol/kube/quantity.js';

/** Scoring stand-ins for containers that request nothing (upstream's defaults). */
export const DEFAULT_NON_ZERO_MILLI_CPU = 100;
export const DEFAULT_NON_ZERO_MEMORY = 200 * 1024 * 1024;

export interface HostPort { protocol: string; ip: string; port: number }

export interface PodRequests {
  milliCpu: number;
  memory: number;
  /** Other resources (ephemeral-storage, extended resources), in base units. */
  scalar?: Map<string, number>;
  nonZeroMilliCpu: number;
  nonZeroMemory: number;
}

function quantityOf(resource: string, text: string | undefined): number {
  if (text === undefined) return 0;
  try {
    if (resource === 'cpu') return cpuToMillis(text);
    if (resource === 'memory') return memoryToBytes(text);
    return parseQuantity(text);
  } catch {
    // The API server validates quantities; a bad one left over counts as nothing.
    return 0;
  }
}

interface ContainerAmounts { amounts: Map<string, number>; nonZeroCpu: number; nonZeroMem: number }

function containerAmounts(c: Container): ContainerAmounts {
  // Requests default to limits (the API server does this too; older objects may lack it).
  const merged = { ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) };
  const amounts = new Map<string, number>();
  for (const [name, text] of Object.entries(merged)) {
    const v = quantityOf(name, text);
    if (v > 0) amounts.set(name, v);
  }
  return {
    amounts,
    nonZeroCpu: merged.cpu === undefined ? DEFAULT_NON_ZERO_MILLI_CPU : amounts.get('cpu') ?? 0,
    nonZeroMem: merged.memory === undefined ? DEFAULT_NON_ZERO_MEMORY : amounts.get('memory') ?? 0,
  };
}

export function podRequests(pod: Pod): PodRequests {
  const sum = new Map<string, number>();
  let nonZeroMilliCpu = 0;
  let nonZeroMemory = 0;
  for (const c of pod.spec?.containers ?? []) {
    const a = containerAmounts(c);
    for (const [k, v] of a.amounts) sum.set(k, (sum.get(k) ?? 0) + v);
    nonZeroMilliCpu += a.nonZeroCpu;
    nonZeroMemory += a.nonZeroMem;
  }
  for (const c of pod.spec?.initContainers ?? []) {
    const a = containerAmounts(c);
    for (const [k, v] of a.amounts) if (v > (sum.get(k) ?? 0)) sum.set(k, v);
    nonZeroMilliCpu = Math.max(nonZeroMilliCpu, a.nonZeroCpu);
    nonZeroMemory = Math.max(nonZeroMemory, a.nonZeroMem);
  }
  let scalar: Map<string, number> | undefined;
  for (const [k, v] of sum) {
    if (k === 'cpu' || k === 'memory') continue;
    (scalar ??= new Map()).set(k, v);
  }
  return { milliCpu: sum.get('cpu') ?? 0, memory: sum.get('memory') ?? 0, scalar, nonZeroMilliCpu, nonZeroMemory };
}

/** Host ports the pod claims; with hostNetwork every container port is a host port. */
export function podHostPorts(pod: Pod): HostPort[] {
  const ports: HostPort[] = [];
  const hostNetwork = pod.spec?.hostNetwork === true;
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) {
      const port = p.hostPort ?? (hostNetwork ? p.containerPort : undefined);
      if (!port) continue;
      ports.push({ protocol: p.protocol ?? 'TCP', ip: p.hostIP || '0.0.0.0', port });
    }
  }
  return ports;
}

/** uid of the controlling owner (ReplicaSet, StatefulSet...), the unit pods spread by. */
export function controllerUid(pod: Pod): string | undefined {
  return pod.metadata.ownerReferences?.find((o) => o.controller)?.uid;
}

/** Finished pods hold nothing on their node. */
export function isPodFinished(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

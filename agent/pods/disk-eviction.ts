// Which pod the agent evicts when the disk stays full, and what it says about it, as the
// kubelet's eviction manager does (pkg/kubelet/eviction/helpers.go): pods whose disk use
// exceeds their ephemeral-storage request go first, then lower priority, then the largest
// use above the request; pods without usage figures rank before all others. Critical
// pods (system priority) are never evicted.
import type { Pod, PodCondition } from '../../protocol/kube/types.js';
import { parseQuantity } from '../../protocol/kube/quantity.js';

/** The pod status reason of every eviction and of pods refused under pressure. */
export const EVICTED_REASON = 'Evicted';
/** scheduling.SystemCriticalPriority: pods at or above it are not evicted. */
export const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;

/** What one container of a pod uses on disk: its writable layer and its log. */
export interface ContainerDiskUsage { rootfsBytes: number; logsBytes: number }

export interface PodDiskUsage {
  /** By container name (the newest instance). */
  containers: Map<string, ContainerDiskUsage>;
  /** The pod's local volumes (emptyDir, configMap, secret, downwardAPI, projected). */
  volumesBytes: number;
}

/** Which parts count for the starved filesystem (the kubelet's fsStatsType lists). */
export interface Measure { rootfs: boolean; logs: boolean; volumes: boolean }

/** One filesystem for images and the data dir: everything counts for either signal. */
export function measureFor(signal: 'nodefs.available' | 'imagefs.available', sharedFs: boolean): Measure {
  if (sharedFs) return { rootfs: true, logs: true, volumes: true };
  return signal === 'imagefs.available' ? { rootfs: true, logs: false, volumes: false } : { rootfs: false, logs: true, volumes: true };
}

export function podDiskBytes(u: PodDiskUsage, m: Measure): number {
  let n = m.volumes ? u.volumesBytes : 0;
  for (const c of u.containers.values()) n += (m.rootfs ? c.rootfsBytes : 0) + (m.logs ? c.logsBytes : 0);
  return n;
}

function requestBytes(value: string | undefined): number {
  if (!value) return 0;
  try { return parseQuantity(value); } catch { return 0; }
}

/** The pod's ephemeral-storage request: its containers' sum, or the largest init container's if bigger. */
export function ephemeralStorageRequest(pod: Pod): number {
  const key = 'ephemeral-storage';
  const sum = pod.spec.containers.reduce((n, c) => n + requestBytes(c.resources?.requests?.[key]), 0);
  const init = Math.max(0, ...(pod.spec.initContainers ?? []).map((c) => requestBytes(c.resources?.requests?.[key])));
  return Math.max(sum, init) + requestBytes((pod.spec as { overhead?: Record<string, string> }).overhead?.[key]);
}

export function isCriticalPod(pod: Pod): boolean {
  return (pod.spec.priority ?? 0) >= SYSTEM_CRITICAL_PRIORITY;
}

export interface Candidate { pod: Pod; usage?: PodDiskUsage }

/** Candidates in eviction order, first to go first. */
export function rankForDiskEviction<T extends Candidate>(pods: readonly T[], m: Measure): T[] {
  const bytes = (c: Candidate) => (c.usage ? podDiskBytes(c.usage, m) : 0);
  const cmpBool = (a: boolean, b: boolean) => (a === b ? 0 : a ? -1 : 1);
  return [...pods].sort((a, b) => {
    if (!a.usage || !b.usage) return cmpBool(!a.usage, !b.usage);
    const exceeds = cmpBool(bytes(a) > ephemeralStorageRequest(a.pod), bytes(b) > ephemeralStorageRequest(b.pod));
    if (exceeds) return exceeds;
    const pa = a.pod.spec.priority ?? 0;
    const pb = b.pod.spec.priority ?? 0;
    if (pa !== pb) return pa - pb;
    return (bytes(b) - ephemeralStorageRequest(b.pod)) - (bytes(a) - ephemeralStorageRequest(a.pod));
  });
}

/** resource.Quantity's String() for a BinarySI amount of bytes ("4Ki", "12345", "1k"). */
export function formatBytes(n: number): string {
  n = Math.trunc(n);
  if (n === 0) return '0';
  // below 1024 the API prints it as a decimal quantity
  if (Math.abs(n) < 1024) {
    const suffixes = ['', 'k'];
    let i = 0;
    while (i < 1 && n % 1000 === 0) { n /= 1000; i++; }
    return `${n}${suffixes[i]}`;
  }
  const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
  let i = 0;
  while (i < suffixes.length - 1 && n % 1024 === 0) { n /= 1024; i++; }
  return `${n}${suffixes[i]}`;
}

/**
 * The kubelet's eviction message: the starved resource, the threshold and what was
 * available, then each container using more than it requested.
 */
export function diskEvictionMessage(pod: Pod, usage: PodDiskUsage | undefined, thresholdBytes: number, availableBytes: number): string {
  let message = `The node was low on resource: ephemeral-storage. Threshold quantity: ${formatBytes(thresholdBytes)}, available: ${formatBytes(availableBytes)}. `;
  if (!usage) return message;
  for (const c of [...pod.spec.containers, ...(pod.spec.initContainers ?? [])]) {
    const u = usage.containers.get(c.name);
    if (!u) continue;
    const used = u.rootfsBytes + u.logsBytes;
    const requested = c.resources?.requests?.['ephemeral-storage'];
    if (used > requestBytes(requested)) {
      message += `Container ${c.name} was using ${formatBytes(used)}, request is ${requested ?? '0'}, has larger consumption of ephemeral-storage. `;
    }
  }
  return message;
}

/** The condition the kubelet adds to a pod it evicts. */
export function disruptionCondition(message: string, now: string): PodCondition {
  return { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message, lastProbeTime: null, lastTransitionTime: now };
}

/** The kubelet's admission refusal under node pressure (lifecycle handler of the eviction manager). */
export function pressureRejectionMessage(conditions: string[]): string {
  return `Pod was rejected: The node had condition: [${conditions.join(' ')}]. `;
}

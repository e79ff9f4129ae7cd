// Whether a node reading is worth a full status report or only a liveness beat. A status
// is a few kilobytes retained on the broker and may end in a Node write; a beat is a few
// dozen bytes. Usage moves a little all the time, so only moves that could change a
// scheduling decision or what `kubectl top` shows count.
import type { NodeStatusPayload } from '../protocol/mqtt/payloads.js';

/** Usage changes below these are noise for placement and for `kubectl top`. */
export const USAGE_THRESHOLDS = {
  /** Share of the node's capacity. */
  nodeFraction: 0.05,
  /**
   * Per container: 5 millicores, 4 MiB. Small, because the autoscaler compares usage with
   * requests that may be a few millicores: a stale reading would scale a workload.
   */
  containerCpuCores: 0.005,
  containerMemoryBytes: 4 * 1024 * 1024,
  temperatureC: 3,
} as const;

type Reading = Omit<NodeStatusPayload, 'time'>;

const json = (v: unknown) => JSON.stringify(v);

/** The first reason a full status is due, or undefined when a beat says enough. */
export function statusChangeReason(prev: Reading | undefined, next: Reading): string | undefined {
  if (!prev) return 'first report';
  if (prev.bootTime !== next.bootTime) return 'agent restarted';
  for (const key of ['capacity', 'allocatable', 'pressure', 'nodeInfo', 'addresses', 'labels', 'proxyMode', 'images', 'storageDir'] as const) {
    if (json(prev[key]) !== json(next[key])) return `${key} changed`;
  }
  const cap = next.capacity;
  if (Math.abs(prev.usage.cpuCores - next.usage.cpuCores) >= cap.cpuCores * USAGE_THRESHOLDS.nodeFraction) return 'cpu usage moved';
  if (Math.abs(prev.usage.memoryBytes - next.usage.memoryBytes) >= cap.memoryBytes * USAGE_THRESHOLDS.nodeFraction) return 'memory usage moved';
  if ((prev.temperatureC === undefined) !== (next.temperatureC === undefined)) return 'temperature sensor changed';
  if (prev.temperatureC !== undefined && next.temperatureC !== undefined
    && Math.abs(prev.temperatureC - next.temperatureC) >= USAGE_THRESHOLDS.temperatureC) return 'temperature moved';
  if (prev.pods.length !== next.pods.length) return 'pods changed';
  const before = new Map(prev.pods.map((p) => [p.uid, p]));
  for (const pod of next.pods) {
    const old = before.get(pod.uid);
    if (!old || old.containers.length !== pod.containers.length) return 'pods changed';
    for (const c of pod.containers) {
      const o = old.containers.find((x) => x.name === c.name);
      if (!o) return 'pods changed';
      if (Math.abs(o.cpuCores - c.cpuCores) >= USAGE_THRESHOLDS.containerCpuCores) return 'pod cpu usage moved';
      if (Math.abs(o.memoryBytes - c.memoryBytes) >= USAGE_THRESHOLDS.containerMemoryBytes) return 'pod memory usage moved';
    }
  }
  return undefined;
}

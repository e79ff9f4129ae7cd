// How much a feasible node is preferred, as a weighted sum of 0..100 scores. Most mirror
// upstream's default plugins; "realUsage" is pikube's own: Pis often run things outside
// the cluster, so what the agent measures matters as much as what pods requested.
import type { NodeTelemetry } from '../client/node-telemetry.js';
import type { NodeInfo } from './node-info.js';
import type { PodProfile } from './pod-profile.js';
import type { SchedulerCache } from './scheduler-cache.js';
import { countIntolerablePreferNoSchedule } from './taints.js';

export interface ScoreWeights {
  /** Prefer nodes with the most unrequested cpu and memory. */
  leastAllocated: number;
  /** Prefer nodes whose cpu and memory would be used in equal proportion. */
  balancedAllocation: number;
  /** Prefer nodes whose agent reports low real cpu and memory use. */
  realUsage: number;
  /** preferredDuringSchedulingIgnoredDuringExecution node affinity. */
  nodeAffinity: number;
  /** Avoid PreferNoSchedule taints the pod does not tolerate. */
  taintToleration: number;
  /** Spread pods of one controller across nodes. */
  spread: number;
}

export const DEFAULT_SCORE_WEIGHTS: Readonly<ScoreWeights> = {
  leastAllocated: 1,
  balancedAllocation: 1,
  realUsage: 1,
  nodeAffinity: 2,
  taintToleration: 3,
  spread: 2,
};

const MAX_SCORE = 100;
/** Added to every per-node pod count before spreading, so one pod more is a nudge, not a wall. */
const SPREAD_SMOOTHING = 2;

function leastAllocated(p: PodProfile, n: NodeInfo): number {
  const free = (alloc: number, requested: number) => (alloc <= 0 || requested >= alloc ? 0 : ((alloc - requested) * MAX_SCORE) / alloc);
  const cpu = free(n.allocatable.milliCpu, n.nonZeroMilliCpu + p.requests.nonZeroMilliCpu);
  const mem = free(n.allocatable.memory, n.nonZeroMemory + p.requests.nonZeroMemory);
  return Math.floor((cpu + mem) / 2);
}

function balancedAllocation(p: PodProfile, n: NodeInfo): number {
  const fraction = (alloc: number, requested: number) => (alloc <= 0 ? 1 : Math.min(1, requested / alloc));
  const cpu = fraction(n.allocatable.milliCpu, n.nonZeroMilliCpu + p.requests.nonZeroMilliCpu);
  const mem = fraction(n.allocatable.memory, n.nonZeroMemory + p.requests.nonZeroMemory);
  // Standard deviation of two values is half their distance.
  return Math.floor((1 - Math.abs(cpu - mem) / 2) * MAX_SCORE);
}

function realUsage(n: NodeInfo, telemetry: NodeTelemetry): number {
  const entry = telemetry.get(n.name);
  const usage = entry?.usage;
  if (!usage) return MAX_SCORE; // nothing measured yet: judge by requests alone
  const cpuCapacity = entry.capacity?.cpuCores || n.allocatable.milliCpu / 1000;
  const memCapacity = entry.capacity?.memoryBytes || n.allocatable.memory;
  const fraction = (used: number, capacity: number) => (capacity > 0 ? Math.min(1, Math.max(0, used / capacity)) : 1);
  const busy = (fraction(usage.cpuCores, cpuCapacity) + fraction(usage.memoryBytes, memCapacity)) / 2;
  return Math.floor((1 - busy) * MAX_SCORE);
}

/** Scores of `feasible` (same order), higher is better. */
export function scoreNodes(p: PodProfile, feasible: readonly NodeInfo[], cache: SchedulerCache, telemetry: NodeTelemetry, w: ScoreWeights): Float64Array {
  const total = new Float64Array(feasible.length);
  const affinityRaw = p.preferred.length > 0 && w.nodeAffinity > 0 ? new Float64Array(feasible.length) : undefined;
  const taintRaw = w.taintToleration > 0 ? new Float64Array(feasible.length) : undefined;
  const spreadCounts = p.owner && w.spread > 0 ? cache.ownerSpread(p.owner) : undefined;
  const spreadRaw = p.owner && w.spread > 0 ? new Float64Array(feasible.length) : undefined;
  let maxAffinity = 0, maxTaint = 0, maxSpread = 0, minSpread = Infinity;

  for (let i = 0; i < feasible.length; i++) {
    const n = feasible[i]!;
    let s = 0;
    if (w.leastAllocated > 0) s += w.leastAllocated * leastAllocated(p, n);
    if (w.balancedAllocation > 0) s += w.balancedAllocation * balancedAllocation(p, n);
    if (w.realUsage > 0) s += w.realUsage * realUsage(n, telemetry);
    total[i] = s;
    if (affinityRaw) {
      let sum = 0;
      for (const m of p.preferred) if (m.matches(n.labels, n.name)) sum += m.weight;
      affinityRaw[i] = sum;
      if (sum > maxAffinity) maxAffinity = sum;
    }
    if (taintRaw && n.taints.length > 0) {
      const c = countIntolerablePreferNoSchedule(n.taints, p.tolerations);
      taintRaw[i] = c;
      if (c > maxTaint) maxTaint = c;
    }
    if (spreadRaw) {
      const c = (spreadCounts?.get(n.name) ?? 0) + SPREAD_SMOOTHING;
      spreadRaw[i] = c;
      if (c > maxSpread) maxSpread = c;
      if (c < minSpread) minSpread = c;
    }
  }

  // Scores relative to the other candidates, like upstream's NormalizeScore steps.
  for (let i = 0; i < feasible.length; i++) {
    if (affinityRaw && maxAffinity > 0) total[i]! += w.nodeAffinity * Math.floor((affinityRaw[i]! * MAX_SCORE) / maxAffinity);
    if (taintRaw) total[i]! += w.taintToleration * (maxTaint > 0 ? Math.floor(((maxTaint - taintRaw[i]!) * MAX_SCORE) / maxTaint) : MAX_SCORE);
    if (spreadRaw) total[i]! += w.spread * Math.floor((MAX_SCORE * (maxSpread + minSpread - spreadRaw[i]!)) / maxSpread);
  }
  return total;
}

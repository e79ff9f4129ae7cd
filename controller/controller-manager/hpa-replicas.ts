// The arithmetic of upstream's HPA (pkg/controller/podautoscaler/replica_calculator.go and
// horizontal.go): usage ratio with tolerance, missing and unready pods, stabilisation
// windows and scaling policies. Pure functions, so they can be checked on their own.
import type { ScalingRules } from '../../protocol/kube/types.js';

export const TOLERANCE = 0.1;
/** CPU of a pod that started (or became ready) this recently is not trusted for scale up. */
export const CPU_INITIALIZATION_MS = 5 * 60_000;
export const INITIAL_READINESS_DELAY_MS = 30_000;

export interface PodSample {
  name: string;
  /** Usage in the metric's unit (cores, bytes), undefined when no reading exists. */
  usage?: number;
  /** Sum of the containers' requests in the same unit. */
  request: number;
  /** Not ready, or (CPU) too new to trust. */
  unready: boolean;
}

export interface Proposal { replicas: number; utilization?: number; averageValue?: number }

/**
 * Replicas for a utilisation target (percent of requests) or an average value target,
 * as upstream's GetResourceReplicas / GetRawMetricReplicas.
 */
export function proposeReplicas(current: number, samples: PodSample[], target: { utilization?: number; averageValue?: number }): Proposal {
  const measured = samples.filter((s) => s.usage !== undefined && !s.unready);
  const missing = samples.filter((s) => s.usage === undefined);
  const unready = samples.filter((s) => s.usage !== undefined && s.unready);
  // Only ready pods' readings decide: with none, nothing is proposed (not even from the
  // unready pods' start-up CPU), as upstream's GetResourceReplicas.
  if (!measured.length) throw new Error('did not receive metrics for targeted pods (pods might be unready)');
  const ratioOf = (pods: PodSample[], usageOf: (s: PodSample) => number) => {
    const usage = pods.reduce((n, s) => n + usageOf(s), 0);
    if (target.utilization !== undefined) {
      const requests = pods.reduce((n, s) => n + s.request, 0);
      if (requests <= 0) throw new Error('missing request for the resource');
      const utilization = (usage * 100) / requests;
      return { ratio: utilization / target.utilization, utilization, average: usage / pods.length };
    }
    const average = usage / pods.length;
    return { ratio: average / target.averageValue!, average, utilization: undefined as number | undefined };
  };
  const first = ratioOf(measured, (s) => s.usage!);
  const report = (replicas: number): Proposal => ({
    replicas, ...(first.utilization !== undefined ? { utilization: Math.round(first.utilization) } : {}), averageValue: first.average,
  });
  if (!missing.length && !unready.length) {
    if (Math.abs(first.ratio - 1) <= TOLERANCE) return report(current);
    return report(Math.ceil(first.ratio * measured.length));
  }
  // Fill in the pods we could not trust: conservatively, towards not scaling.
  const scaleUp = first.ratio > 1;
  const fill = (s: PodSample) => (scaleUp ? 0 : target.utilization !== undefined ? s.request : target.averageValue!);
  const all = [...measured, ...missing, ...(scaleUp ? unready : [])];
  const second = ratioOf(all, (s) => (s.usage !== undefined && !s.unready ? s.usage : fill(s)));
  if (Math.abs(second.ratio - 1) <= TOLERANCE || (scaleUp && second.ratio < 1) || (!scaleUp && second.ratio > 1)) return report(current);
  const desired = Math.ceil(second.ratio * all.length);
  // Never move against the direction the measured pods asked for.
  if ((scaleUp && desired < current) || (!scaleUp && desired > current)) return report(current);
  return report(desired);
}

export type { ScalingPolicy, ScalingRules } from '../../protocol/kube/types.js';

/** Upstream's defaults when the HPA has no behavior. */
export const DEFAULT_SCALE_UP: Required<ScalingRules> = {
  stabilizationWindowSeconds: 0, selectPolicy: 'Max',
  policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
};
export const DEFAULT_SCALE_DOWN: Required<ScalingRules> = {
  stabilizationWindowSeconds: 300, selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
};

export interface Recommendation { at: number; replicas: number }
export interface ScaleEvent { at: number; change: number }

/**
 * The stabilised, rate-limited replica count (upstream normalizeDesiredReplicasWithBehaviors):
 * scale up to the lowest and down to the highest recommendation in the window, then within
 * what the policies allow given recent scale events.
 */
export function normalize(current: number, desired: number, now: number, history: Recommendation[], events: ScaleEvent[], up: ScalingRules, down: ScalingRules, min: number, max: number): { replicas: number; limited: boolean; reason: string } {
  const upRules = { ...DEFAULT_SCALE_UP, ...up };
  const downRules = { ...DEFAULT_SCALE_DOWN, ...down };
  let upRec = desired, downRec = desired;
  for (const r of history) {
    if (r.at > now - upRules.stabilizationWindowSeconds * 1000) upRec = Math.min(upRec, r.replicas);
    if (r.at > now - downRules.stabilizationWindowSeconds * 1000) downRec = Math.max(downRec, r.replicas);
  }
  let stabilized = current;
  if (current < upRec) stabilized = upRec;
  else if (current > downRec) stabilized = downRec;
  let replicas = stabilized;
  let reason = stabilized === desired ? 'DesiredWithinRange' : 'ScaleDownStabilized';
  if (stabilized > current) {
    const limit = rateLimit(current, now, events, upRules, +1);
    if (replicas > limit) { replicas = limit; reason = 'ScaleUpLimit'; }
  } else if (stabilized < current) {
    const limit = rateLimit(current, now, events, downRules, -1);
    if (replicas < limit) { replicas = limit; reason = 'ScaleDownLimit'; }
  }
  let limited = false;
  if (replicas > max) { replicas = max; limited = true; reason = 'TooManyReplicas'; }
  if (replicas < min) { replicas = min; limited = true; reason = 'TooFewReplicas'; }
  return { replicas, limited, reason };
}

function rateLimit(current: number, now: number, events: ScaleEvent[], rules: Required<ScalingRules>, direction: 1 | -1): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const limits = rules.policies.map((p) => {
    const since = now - p.periodSeconds * 1000;
    const changed = events.filter((e) => e.at > since && Math.sign(e.change) === direction).reduce((n, e) => n + Math.abs(e.change), 0);
    const periodStart = current - direction * changed;
    if (direction > 0) return p.type === 'Pods' ? periodStart + p.value : Math.ceil(periodStart * (1 + p.value / 100));
    return p.type === 'Pods' ? periodStart - p.value : Math.ceil(periodStart * (1 - p.value / 100));
  });
  const pick = direction > 0 ? (rules.selectPolicy === 'Min' ? Math.min : Math.max) : (rules.selectPolicy === 'Min' ? Math.max : Math.min);
  const limit = pick(...limits);
  return direction > 0 ? Math.max(limit, current) : Math.min(limit, current);
}

// Taints and tolerations, with upstream's matching rules. Shared by the scheduler (which
// nodes may take a pod) and the node lifecycle controller (which pods must leave).
import type { Taint, Toleration } from '../../protocol/kube/types.js';

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

/**
 * An empty toleration effect matches every effect; an empty key with Exists matches
 * every taint; Exists ignores the value, Equal (the default) compares it.
 */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  const operator = t.operator ?? 'Equal';
  if (operator === 'Exists') return true;
  if (!t.key) return false; // an empty key is only valid with Exists
  return (t.value ?? '') === (taint.value ?? '');
}

export function tolerates(tolerations: readonly Toleration[] | undefined, taint: Taint): boolean {
  if (!tolerations) return false;
  for (const t of tolerations) if (toleratesTaint(t, taint)) return true;
  return false;
}

/** The first NoSchedule/NoExecute taint the pod does not tolerate. */
export function firstUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[] | undefined): Taint | undefined {
  for (const taint of taints) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (!tolerates(tolerations, taint)) return taint;
  }
  return undefined;
}

/** How many PreferNoSchedule taints the pod does not tolerate (used in scoring). */
export function countIntolerablePreferNoSchedule(taints: readonly Taint[], tolerations: readonly Toleration[] | undefined): number {
  let n = 0;
  for (const taint of taints) {
    if (taint.effect !== 'PreferNoSchedule') continue;
    // Only tolerations that name PreferNoSchedule (or no effect) count here, like upstream.
    const relevant = tolerations?.filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    if (!tolerates(relevant, taint)) n++;
  }
  return n;
}

export function sameTaint(a: Taint, b: Taint): boolean {
  return a.key === b.key && a.effect === b.effect;
}

// Deployment arithmetic shared by the rollout strategies: surge/unavailable budgets,
// revisions, conditions, and the status computed from the ReplicaSets.
import type { Deployment, DeploymentCondition, DeploymentStatus, KubeObject } from '../../protocol/kube/types.js';
import { scaledValue } from './int-or-percent.js';
import type { ReplicaSet } from './replicaset-controller.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
export const HASH_LABEL = 'pod-template-hash';

/** Annotations that belong to the deployment machinery and are not copied to ReplicaSets. */
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration', REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
  'deprecated.deployment.rollback.to',
]);

export type { Deployment, DeploymentCondition, DeploymentStatus } from '../../protocol/kube/types.js';

export const replicasOf = (d: Deployment): number => d.spec.replicas ?? 1;
export const rsReplicas = (rs: ReplicaSet): number => rs.spec.replicas ?? 0;
export const isRolling = (d: Deployment): boolean => (d.spec.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';

/** Upstream's ResolveFenceposts: surge rounds up, unavailable down; both zero means one unavailable. */
export function fenceposts(d: Deployment): { surge: number; unavailable: number } {
  const ru = d.spec.strategy?.rollingUpdate ?? {};
  const desired = replicasOf(d);
  const surge = scaledValue(ru.maxSurge, desired, true, '25%');
  let unavailable = scaledValue(ru.maxUnavailable, desired, false, '25%');
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function maxSurge(d: Deployment): number {
  return isRolling(d) ? fenceposts(d).surge : 0;
}

export function maxUnavailable(d: Deployment): number {
  if (!isRolling(d) || replicasOf(d) === 0) return 0;
  return Math.min(fenceposts(d).unavailable, replicasOf(d));
}

export function revisionOf(obj: KubeObject): number {
  const n = Number(obj.metadata.annotations?.[REVISION] ?? '0');
  return Number.isFinite(n) ? n : 0;
}

export function sumReplicas(sets: ReplicaSet[]): number {
  return sets.reduce((n, rs) => n + rsReplicas(rs), 0);
}

export function sumStatus(sets: ReplicaSet[], field: 'replicas' | 'readyReplicas' | 'availableReplicas'): number {
  return sets.reduce((n, rs) => n + (rs.status?.[field] ?? 0), 0);
}

/** Replicas the new ReplicaSet should have now (upstream's NewRSNewReplicas). */
export function newReplicaSetReplicas(d: Deployment, all: ReplicaSet[], newRS: ReplicaSet | undefined): number {
  if (!isRolling(d)) return replicasOf(d);
  const current = rsReplicas(newRS ?? ({ spec: { replicas: 0 } } as ReplicaSet));
  if (current >= replicasOf(d)) return current;
  const maxTotal = replicasOf(d) + maxSurge(d);
  const total = sumReplicas(all);
  if (total >= maxTotal) return current;
  return current + Math.min(maxTotal - total, replicasOf(d) - current);
}

/** Copies the deployment's own annotations onto a ReplicaSet; true if anything changed. */
export function copyAnnotations(d: Deployment, rs: ReplicaSet): boolean {
  let changed = false;
  rs.metadata.annotations ??= {};
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (NOT_COPIED.has(k) || rs.metadata.annotations[k] === v) continue;
    rs.metadata.annotations[k] = v;
    changed = true;
  }
  return changed;
}

/** Sets the desired/max replica annotations; true if anything changed. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  rs.metadata.annotations ??= {};
  const a = rs.metadata.annotations;
  if (a[DESIRED_REPLICAS] === String(desired) && a[MAX_REPLICAS] === String(max)) return false;
  a[DESIRED_REPLICAS] = String(desired);
  a[MAX_REPLICAS] = String(max);
  return true;
}

export function getCondition(status: DeploymentStatus | undefined, type: string): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** Upstream's SetDeploymentCondition: same status and reason keeps the old condition. */
export function setCondition(status: DeploymentStatus, cond: DeploymentCondition): void {
  const list = status.conditions ?? [];
  const cur = list.find((c) => c.type === cond.type);
  if (cur && cur.status === cond.status && cur.reason === cond.reason) return;
  if (cur && cur.status === cond.status) cond.lastTransitionTime = cur.lastTransitionTime;
  status.conditions = [...list.filter((c) => c.type !== cond.type), cond];
}

export function newCondition(type: string, status: DeploymentCondition['status'], reason: string, message: string): DeploymentCondition {
  const now = rfc3339Seconds();
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

/** All replicas updated and available, and the latest spec observed. */
export function isComplete(d: Deployment, s: DeploymentStatus): boolean {
  const want = replicasOf(d);
  return s.updatedReplicas === want && s.replicas === want && s.availableReplicas === want && (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

/** Some movement since the last recorded status. */
export function isProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) || newOld < oldOld
    || (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) || (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0);
}

export function hasProgressDeadline(d: Deployment): boolean {
  return d.spec.progressDeadlineSeconds !== undefined ? d.spec.progressDeadlineSeconds !== 2147483647 : true;
}

export function progressDeadlineSeconds(d: Deployment): number {
  return d.spec.progressDeadlineSeconds ?? 600;
}

export function isTimedOut(d: Deployment, s: DeploymentStatus, now = Date.now()): boolean {
  if (!hasProgressDeadline(d)) return false;
  const cond = getCondition(s, 'Progressing');
  if (!cond || cond.reason === 'NewReplicaSetAvailable' || cond.reason === 'ProgressDeadlineExceeded') return cond?.reason === 'ProgressDeadlineExceeded';
  const from = Date.parse(cond.lastUpdateTime ?? '') || now;
  return from + progressDeadlineSeconds(d) * 1000 < now;
}

/** Status counts straight from the ReplicaSets (upstream's calculateStatus). */
export function calculateStatus(d: Deployment, all: ReplicaSet[], newRS: ReplicaSet | undefined): DeploymentStatus {
  const available = sumStatus(all, 'availableReplicas');
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation ?? 1,
    replicas: sumStatus(all, 'replicas'),
    updatedReplicas: newRS?.status?.replicas ?? 0,
    readyReplicas: sumStatus(all, 'readyReplicas'),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, sumReplicas(all) - available),
    conditions: structuredClone(d.status?.conditions ?? []),
    ...(d.status?.collisionCount !== undefined ? { collisionCount: d.status.collisionCount } : {}),
  };
  if (available >= replicasOf(d) - maxUnavailable(d)) {
    setCondition(status, newCondition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'));
  } else {
    setCondition(status, newCondition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'));
  }
  return status;
}

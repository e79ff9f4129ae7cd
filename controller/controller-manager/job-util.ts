// Job helpers shared by the Job and CronJob controllers: conditions, finished state,
// completion indexes and upstream's pod-failure back-off.
import type { Job, JobCondition, Pod } from '../../protocol/kube/types.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
export const COMPLETION_INDEX_LABEL = 'batch.kubernetes.io/job-completion-index';

export type { Job, JobCondition } from '../../protocol/kube/types.js';

export function conditionTrue(job: Job, type: string): JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

/** Complete or Failed: nothing more will run. */
export function finishedCondition(job: Job): JobCondition | undefined {
  return conditionTrue(job, 'Complete') ?? conditionTrue(job, 'Failed');
}

/** When the job finished (ms), for TTL and history. */
export function finishedAt(job: Job): number | undefined {
  const c = finishedCondition(job);
  if (!c) return undefined;
  const t = Date.parse(job.status?.completionTime ?? c.lastTransitionTime ?? '');
  return Number.isNaN(t) ? undefined : t;
}

/** Sets a condition, keeping lastTransitionTime when the status does not change. */
export function setCondition(conditions: JobCondition[], next: JobCondition, now: number): JobCondition[] {
  const at = rfc3339Seconds(now);
  const old = conditions.find((c) => c.type === next.type);
  if (old && old.status === next.status && old.reason === next.reason && old.message === next.message) return conditions;
  const merged: JobCondition = { ...next, lastProbeTime: at, lastTransitionTime: old && old.status === next.status ? old.lastTransitionTime ?? at : at };
  return [...conditions.filter((c) => c.type !== next.type), merged];
}

export function completionIndex(pod: Pod): number | undefined {
  const v = pod.metadata.annotations?.[COMPLETION_INDEX_ANNOTATION] ?? pod.metadata.labels?.[COMPLETION_INDEX_LABEL];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

/** "1,3-5,7": upstream's completedIndexes text, runs of three or more collapsed. */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    if (j - i >= 2) parts.push(`${sorted[i]}-${sorted[j]}`);
    else for (let k = i; k <= j; k++) parts.push(String(sorted[k]));
    i = j + 1;
  }
  return parts.join(',');
}

export function parseIndexes(text: string | undefined): Set<number> {
  const out = new Set<number>();
  for (const part of (text ?? '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const from = Number(m[1]), to = m[2] !== undefined ? Number(m[2]) : from;
    for (let i = from; i <= to; i++) out.add(i);
  }
  return out;
}

/** Upstream's pod failure back-off: 10s doubled per failure, at most 6 minutes. */
export const BACKOFF_BASE_MS = 10_000;
export const BACKOFF_MAX_MS = 6 * 60_000;

export function backoffDelayMs(failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (failures - 1));
}

/** When the pod finished (ms): its last container's finishedAt, else its deletion or start. */
export function podFinishedAt(pod: Pod): number {
  let latest = 0;
  for (const cs of (pod.status?.containerStatuses ?? []) as { state?: { terminated?: { finishedAt?: string } } }[]) {
    const t = Date.parse(cs.state?.terminated?.finishedAt ?? '');
    if (!Number.isNaN(t) && t > latest) latest = t;
  }
  if (latest) return latest;
  const t = Date.parse(pod.metadata.deletionTimestamp ?? pod.status?.startTime ?? pod.metadata.creationTimestamp ?? '');
  return Number.isNaN(t) ? 0 : t;
}

export function restartsOf(pod: Pod): number {
  return ((pod.status?.containerStatuses ?? []) as { restartCount?: number }[]).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

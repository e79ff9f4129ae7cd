// pods/eviction (upstream pkg/registry/core/pod/storage/eviction.go): a pod covered by a
// PodDisruptionBudget is deleted only while the budget allows a disruption; the budget's
// disruptionsAllowed is spent first, so concurrent evictions cannot overdraw it.
// Otherwise 429, which `kubectl drain` waits on and retries.
import type { Pod, PodDisruptionBudget } from '../../protocol/kube/types.js';
import { selectorMatches } from '../../protocol/kube/labels.js';
import type { ApiCore, DeleteOpts } from './api-core.js';
import { ApiError } from './errors.js';
import { findResource } from './resources.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

const PODS = findResource('', 'pods')!;
const PDBS = findResource('policy', 'poddisruptionbudgets')!;

const isReady = (pod: Pod) => (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

function tooManyRequests(message: string, causes: { reason: string; message: string }[] = []): ApiError {
  return new ApiError(429, 'TooManyRequests', message, { causes });
}

export async function evictPod(core: ApiCore, namespace: string, name: string, deleteOptions: DeleteOpts, dryRun: boolean): Promise<void> {
  const pod = core.get(PODS, namespace, name) as Pod;
  const phase = pod.status?.phase;
  // Pods that are finished, never ran, or already going cost no availability.
  const free = phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || !!pod.metadata.deletionTimestamp;
  if (!free) {
    const budgets = (core.list(PDBS, namespace).items as PodDisruptionBudget[]).filter((b) => selectorMatches(b.spec?.selector, pod.metadata.labels));
    if (budgets.length > 1) {
      throw new ApiError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    }
    const budget = budgets[0];
    if (budget) await spendDisruption(core, budget, pod, dryRun);
  }
  await core.delete(PODS, namespace, name, { ...deleteOptions, dryRun });
}

async function spendDisruption(core: ApiCore, budget: PodDisruptionBudget, pod: Pod, dryRun: boolean): Promise<void> {
  const pdbName = budget.metadata.name!;
  const status = budget.status ?? {};
  // An unready pod may go when the budget is healthy anyway (or always, if the budget says so).
  if (!isReady(pod)) {
    if (budget.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') return;
    if ((status.currentHealthy ?? 0) >= (status.desiredHealthy ?? 0) && (status.observedGeneration ?? 0) >= (budget.metadata.generation ?? 1)) return;
  }
  if ((status.observedGeneration ?? 0) < (budget.metadata.generation ?? 1)) {
    throw tooManyRequests('Cannot evict pod as it would violate the pod\'s disruption budget.', [
      { reason: 'DisruptionBudget', message: `The disruption budget ${pdbName} is still being processed by the server.` },
    ]);
  }
  if ((status.disruptionsAllowed ?? 0) <= 0) {
    throw tooManyRequests('Cannot evict pod as it would violate the pod\'s disruption budget.', [
      { reason: 'DisruptionBudget', message: `The disruption budget ${pdbName} needs ${status.desiredHealthy ?? 0} healthy pods and has ${status.currentHealthy ?? 0} currently` },
    ]);
  }
  if (dryRun) return;
  try {
    await core.update(PDBS, budget.metadata.namespace, pdbName, {
      ...budget,
      status: {
        ...status,
        disruptionsAllowed: status.disruptionsAllowed! - 1, // above zero: checked before
        disruptedPods: { ...(status.disruptedPods ?? {}), [pod.metadata.name!]: rfc3339Seconds() },
      },
    }, 'status');
  } catch (err) {
    // Someone else spent from the budget at the same time: the client tries again.
    if (err instanceof ApiError && err.code === 409) throw tooManyRequests('Cannot evict pod as it would violate the pod\'s disruption budget.');
    throw err;
  }
}

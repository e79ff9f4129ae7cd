// Pod status reported by agents → the pods' status subresource; a terminating pod that
// its agent reports gone is removed for good.
import type { Pod, PodCondition } from '../../protocol/kube/types.js';
import type { PodStatusUpdate } from '../../protocol/mqtt/payloads.js';
import { R, type ClusterClient } from '../apiserver/client.js';

export interface PodStatusSyncOptions {
  client: ClusterClient;
  log: { warn: (o: object, m: string) => void; debug?: (o: object, m: string) => void };
}

export class PodStatusSync {
  constructor(private readonly opts: PodStatusSyncOptions) {}

  async apply(node: string, updates: PodStatusUpdate[]): Promise<void> {
    await Promise.all(updates.map((u) => this.one(node, u).catch((err) => {
      this.opts.log.warn({ node, pod: `${u.namespace}/${u.name}`, err: String(err) }, 'pod status not applied');
    })));
  }

  private async one(node: string, u: PodStatusUpdate): Promise<void> {
    const c = this.opts.client;
    const pod = c.get<Pod>(R.pods, u.namespace, u.name);
    // Reports about another incarnation of the name, or from a node the pod is not on, are stale.
    if (!pod || pod.metadata.uid !== u.uid || pod.spec.nodeName !== node) return;
    if (u.gone) {
      if (pod.metadata.deletionTimestamp) {
        await c.delete(R.pods, u.namespace, u.name, { gracePeriodSeconds: 0, preconditions: { uid: u.uid } });
      }
      return;
    }
    if (!u.status) return;
    const next = mergeStatus(pod, u.status);
    if (JSON.stringify(next) === JSON.stringify(pod.status)) return;
    const draft = structuredClone(pod) as Pod;
    draft.status = next;
    await c.update<Pod>(R.pods, draft, 'status');
  }
}

/** The agent owns everything but PodScheduled (the scheduler's) and fields it leaves out. */
function mergeStatus(pod: Pod, reported: NonNullable<Pod['status']>): NonNullable<Pod['status']> {
  const current = pod.status ?? {};
  const scheduled = (current.conditions ?? []).find((c) => c.type === 'PodScheduled');
  const conditions: PodCondition[] = (reported.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
  const merged = { ...current, ...reported } as NonNullable<Pod['status']>;
  merged.conditions = scheduled ? [scheduled, ...conditions] : conditions;
  merged.qosClass = current.qosClass ?? reported.qosClass;
  delete (merged as Record<string, unknown>).observedGeneration;
  return merged;
}

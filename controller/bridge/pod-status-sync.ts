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
  /**
   * The last status each node's agent reported per pod uid. When a node was marked
   * NotReady its pods' Ready conditions were set False by the controller; once the node
   * is Ready again these are what the agent last said, and they are put back.
   */
  private readonly lastReported = new Map<string, Map<string, PodStatusUpdate>>();

  constructor(private readonly opts: PodStatusSyncOptions) {}

  /** Re-applies the node's last reported pod statuses (after the node came back Ready). */
  async reapply(node: string): Promise<void> {
    const updates = [...(this.lastReported.get(node)?.values() ?? [])];
    if (updates.length) await this.apply(node, updates);
  }

  async apply(node: string, updates: PodStatusUpdate[]): Promise<void> {
    await Promise.all(updates.map((u) => this.one(node, u).catch((err) => {
      this.opts.log.warn({ node, pod: `${u.namespace}/${u.name}`, err: String(err) }, 'pod status not applied');
    })));
  }

  private async one(node: string, u: PodStatusUpdate): Promise<void> {
    const c = this.opts.client;
    const pod = c.get<Pod>(R.pods, u.namespace, u.name);
    // Reports about another incarnation of the name, or from a node the pod is not on, are stale.
    if (!pod || pod.metadata.uid !== u.uid || pod.spec.nodeName !== node) {
      this.lastReported.get(node)?.delete(u.uid);
      return;
    }
    let known = this.lastReported.get(node);
    if (!known) this.lastReported.set(node, (known = new Map()));
    if (u.gone) known.delete(u.uid);
    else if (u.status) known.set(u.uid, u);
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

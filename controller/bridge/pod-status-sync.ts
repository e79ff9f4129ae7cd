// Pod status reported by agents → the pods' status subresource; a terminating pod that
// its agent reports gone is removed for good.
import type { Pod, PodCondition } from '../../protocol/kube/types.js';
import type { PodStatusUpdate } from '../../protocol/mqtt/payloads.js';
import { R, type ClusterClient } from '../apiserver/client.js';
import { ApiError } from '../apiserver/errors.js';

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
    await Promise.all(updates.map((u) => this.inOrder(u.uid, () => this.one(node, u)).catch((err) => {
      this.opts.log.warn({ node, pod: `${u.namespace}/${u.name}`, err: String(err) }, 'pod status not applied');
    })));
  }

  /** Reports about one pod are applied one after another, so an older one never wins a race. */
  private readonly queues = new Map<string, Promise<void>>();
  private inOrder(uid: string, work: () => Promise<void>): Promise<void> {
    const run = (this.queues.get(uid) ?? Promise.resolve()).then(work, work);
    const tail = run.catch(() => undefined);
    this.queues.set(uid, tail);
    void tail.then(() => { if (this.queues.get(uid) === tail) this.queues.delete(uid); });
    return run;
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
    // Merged into the pod as it is at write time: a write that raced ours (the scheduler,
    // the node lifecycle controller) must not make the agent's report get lost, because
    // the agent sends a status again only when it changes.
    for (let attempt = 1; ; attempt++) {
      const latest = c.get<Pod>(R.pods, u.namespace, u.name);
      if (!latest || latest.metadata.uid !== u.uid) return;
      const next = mergeStatus(latest, u.status);
      if (JSON.stringify(next) === JSON.stringify(latest.status)) return;
      const draft = structuredClone(latest) as Pod;
      draft.status = next;
      try {
        await c.update<Pod>(R.pods, draft, 'status');
        return;
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 409) || attempt >= 5) throw err;
      }
    }
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

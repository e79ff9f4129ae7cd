// ReplicaSet controller: keeps spec.replicas active pods stamped from the template,
// adopting matching orphans and releasing pods whose labels stopped matching.
import type { Pod, ReplicaSet } from '../../protocol/kube/types.js';
import { R } from '../apiserver/client.js';
import { objectKey } from '../client/informer.js';
import { isNotFound, ignoreNotFound } from '../client/api-errors.js';
import { claimObjects, controllerRefOf, newControllerRef } from './controller-ref.js';
import { Expectations } from './expectations.js';
import { selectorMatches } from '../../protocol/kube/labels.js';
import { isPodActive, isPodAvailable, isPodReady, msUntilAvailable, readySince, restartCount } from './pod-state.js';
import { QueueController, type ControllerDeps } from './queue-controller.js';

export type { ReplicaSet } from '../../protocol/kube/types.js';

/** Most pods created or deleted in one pass; more follow on the next pass. */
const BURST = 500;

export class ReplicaSetController extends QueueController {
  readonly name = 'replicaset';
  private readonly expectations = new Expectations();

  constructor(deps: ControllerDeps) {
    super(deps, 'replicaset-controller');
  }

  private get sets() { return this.informers.get<ReplicaSet>(R.replicasets); }
  private get pods() { return this.informers.get<Pod>(R.pods); }

  protected register(): void {
    this.sets.on((_type, rs) => this.queue.add(objectKey(rs)));
    this.pods.on((type, pod, old) => this.onPod(type, pod, old));
    this.sets.start();
    this.pods.start();
    for (const rs of this.sets.list()) this.queue.add(objectKey(rs));
  }

  private onPod(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: Pod, old?: Pod): void {
    const ref = controllerRefOf(pod);
    const ns = pod.metadata.namespace!;
    if (ref?.kind === 'ReplicaSet') {
      const key = `${ns}/${ref.name}`;
      if (type === 'ADDED') this.expectations.creationObserved(key);
      if (type === 'DELETED' || (pod.metadata.deletionTimestamp && !old?.metadata.deletionTimestamp)) {
        this.expectations.deletionObserved(key, objectKey(pod));
      }
      this.queue.add(key);
    } else if (type !== 'DELETED') {
      // An orphan: any matching ReplicaSet may want to adopt it.
      for (const rs of this.sets.list((s) => s.metadata.namespace === ns && selectorMatches(s.spec.selector, pod.metadata.labels))) {
        this.queue.add(objectKey(rs));
      }
    }
    // A controller change (release) must also wake the previous owner.
    const oldRef = old && controllerRefOf(old);
    if (oldRef?.kind === 'ReplicaSet' && oldRef.uid !== ref?.uid) this.queue.add(`${ns}/${oldRef.name}`);
  }

  protected async reconcile(key: string): Promise<void> {
    const rs = this.sets.getByKey(key);
    if (!rs) { this.expectations.forget(key); return; }
    const ns = rs.metadata.namespace!;
    const candidates = this.pods.list((p) => p.metadata.namespace === ns);
    const owned = await claimObjects<Pod>({
      client: this.client, ref: R.pods, owner: rs, ownerApiVersion: 'apps/v1', ownerKind: 'ReplicaSet',
      matches: (p) => selectorMatches(rs.spec.selector, p.metadata.labels), candidates,
    });
    const active = owned.filter(isPodActive);
    if (this.expectations.satisfied(key) && !rs.metadata.deletionTimestamp) {
      await this.manageReplicas(key, rs, active);
    }
    await this.updateStatus(rs, active);
  }

  private async manageReplicas(key: string, rs: ReplicaSet, active: Pod[]): Promise<void> {
    const want = rs.spec.replicas ?? 1;
    const diff = active.length - want;
    if (diff < 0) {
      const count = Math.min(-diff, BURST);
      this.expectations.expect(key, count);
      let created = 0;
      // Slow start: 1, 2, 4... so a broken template fails once, not a hundred times.
      for (let batch = 1; created < count; batch *= 2) {
        const n = Math.min(batch, count - created);
        const results = await Promise.allSettled(Array.from({ length: n }, () => this.createPod(rs)));
        created += n;
        const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
        if (failed.length > 0) {
          for (let i = 0; i < failed.length + (count - created); i++) this.expectations.creationFailed(key);
          this.recorder.event(rs, 'Warning', 'FailedCreate', `Error creating: ${errorText(failed[0]!.reason)}`);
          throw failed[0]!.reason;
        }
      }
    } else if (diff > 0) {
      const victims = [...active].sort(deletionOrder).slice(0, Math.min(diff, BURST));
      this.expectations.expect(key, 0, victims.map(objectKey));
      await Promise.all(victims.map(async (pod) => {
        try {
          await this.client.delete(R.pods, pod.metadata.namespace, pod.metadata.name!);
          this.recorder.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
        } catch (err) {
          this.expectations.deletionObserved(key, objectKey(pod));
          if (!isNotFound(err)) {
            this.recorder.event(rs, 'Warning', 'FailedDelete', `Error deleting: ${errorText(err)}`);
            throw err;
          }
        }
      }));
    }
  }

  private async createPod(rs: ReplicaSet): Promise<void> {
    const template = structuredClone(rs.spec.template);
    const pod: Pod = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        generateName: `${rs.metadata.name}-`,
        namespace: rs.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}) },
        ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
        ownerReferences: [newControllerRef(rs, 'apps/v1', 'ReplicaSet')],
      },
      spec: template.spec,
    };
    const created = await this.client.create<Pod>(R.pods, pod);
    this.recorder.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
  }

  private async updateStatus(rs: ReplicaSet, active: Pod[]): Promise<void> {
    const minReady = rs.spec.minReadySeconds ?? 0;
    const now = Date.now();
    const templateLabels = rs.spec.template.metadata?.labels ?? {};
    const status = {
      ...(rs.status ?? {}),
      replicas: active.length,
      fullyLabeledReplicas: active.filter((p) => Object.entries(templateLabels).every(([k, v]) => p.metadata.labels?.[k] === v)).length,
      readyReplicas: active.filter(isPodReady).length,
      availableReplicas: active.filter((p) => isPodAvailable(p, minReady, now)).length,
      observedGeneration: rs.metadata.generation ?? 1,
    };
    // Pods that are ready but not yet available need another look when they become so.
    const waits = active.map((p) => msUntilAvailable(p, minReady, now)).filter((x): x is number => x !== undefined);
    if (waits.length > 0) this.queue.addAfter(objectKey(rs), Math.min(...waits) + 50);
    const cur = rs.status ?? {} as Record<string, unknown>;
    const same = (['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration'] as const)
      .every((k) => (cur as Record<string, unknown>)[k] === status[k]);
    if (same) return;
    const copy = structuredClone(rs);
    copy.status = status;
    await ignoreNotFound(this.client.update(R.replicasets, copy, 'status'));
  }
}

/** Upstream's ActivePods ranking: the pods listed first are the cheapest to lose. */
export function deletionOrder(a: Pod, b: Pod): number {
  const assigned = (p: Pod) => (p.spec.nodeName ? 1 : 0);
  if (assigned(a) !== assigned(b)) return assigned(a) - assigned(b);
  const phaseRank = (p: Pod) => ({ Pending: 0, Unknown: 1, Running: 2 } as Record<string, number>)[p.status?.phase ?? 'Pending'] ?? 0;
  if (phaseRank(a) !== phaseRank(b)) return phaseRank(a) - phaseRank(b);
  const ready = (p: Pod) => (isPodReady(p) ? 1 : 0);
  if (ready(a) !== ready(b)) return ready(a) - ready(b);
  if (isPodReady(a) && isPodReady(b)) {
    const ra = readySince(a) ?? 0, rb = readySince(b) ?? 0;
    if (ra !== rb) return rb - ra; // ready for less time first
  }
  if (restartCount(a) !== restartCount(b)) return restartCount(b) - restartCount(a);
  const created = (p: Pod) => Date.parse(p.metadata.creationTimestamp ?? '') || 0;
  if (created(a) !== created(b)) return created(b) - created(a); // newest first
  return (b.metadata.name ?? '').localeCompare(a.metadata.name ?? '');
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// Disruption controller (upstream pkg/controller/disruption): keeps each
// PodDisruptionBudget's status — how many of its pods are healthy, how many must be, and
// so how many voluntary disruptions (evictions) are allowed right now.
import type { KubeObject, Pod, PodDisruptionBudget, ScalableWorkload } from '../../protocol/kube/types.js';
import { selectorMatches } from '../../protocol/kube/labels.js';
import { R } from '../apiserver/client.js';
import { ignoreNotFound } from '../client/api-errors.js';
import { controllerRefOf } from './controller-ref.js';
import { objectKey } from '../client/informer.js';
import { scaledValue } from './int-or-percent.js';
import { isPodReady } from './pod-state.js';
import { QueueController, type ControllerDeps } from './queue-controller.js';
import { resourceForKind } from './resource-kinds.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

export type { PodDisruptionBudget } from '../../protocol/kube/types.js';

/** An eviction recorded in disruptedPods that did not lead to a deletion is forgotten after this. */
export const DISRUPTION_TIMEOUT_MS = 2 * 60_000;

/** Pods a budget covers: policy/v1 reads an empty selector as every pod of the namespace. */
export function podsOfBudget(pdb: PodDisruptionBudget, pods: Pod[]): Pod[] {
  return pods.filter((p) => p.metadata.namespace === pdb.metadata.namespace && selectorMatches(pdb.spec.selector, p.metadata.labels));
}

export class DisruptionController extends QueueController {
  readonly name = 'disruption';

  constructor(deps: ControllerDeps) {
    super(deps, 'disruption-controller');
  }

  private get budgets() { return this.informers.get<PodDisruptionBudget>(R.poddisruptionbudgets); }
  private get pods() { return this.informers.get<Pod>(R.pods); }

  protected register(): void {
    this.budgets.on((_type, pdb) => this.queue.add(objectKey(pdb)));
    this.pods.on((_type, pod, old) => {
      for (const pdb of this.budgets.list((b) => b.metadata.namespace === pod.metadata.namespace)) {
        if (selectorMatches(pdb.spec.selector, pod.metadata.labels) || (old && selectorMatches(pdb.spec.selector, old.metadata.labels))) this.queue.add(objectKey(pdb));
      }
    });
    // Scale changes of the pods' controllers change the expected count.
    for (const ref of [R.deployments, R.replicasets]) {
      const informer = this.informers.get(ref);
      informer.on((_type, obj) => { for (const pdb of this.budgets.list((b) => b.metadata.namespace === obj.metadata.namespace)) this.queue.add(objectKey(pdb)); });
      informer.start();
    }
    this.budgets.start();
    this.pods.start();
    for (const pdb of this.budgets.list()) this.queue.add(objectKey(pdb));
  }

  protected async reconcile(key: string): Promise<void> {
    const pdb = this.budgets.getByKey(key);
    if (!pdb || pdb.metadata.deletionTimestamp) return;
    const now = Date.now();
    const pods = podsOfBudget(pdb, this.pods.list((p) => p.metadata.namespace === pdb.metadata.namespace));
    // Evictions granted but whose pod has not started terminating yet count as gone.
    const disrupted: Record<string, string> = {};
    for (const [name, at] of Object.entries(pdb.status?.disruptedPods ?? {})) {
      const pod = pods.find((p) => p.metadata.name === name);
      const expires = Date.parse(at) + DISRUPTION_TIMEOUT_MS;
      if (pod && !pod.metadata.deletionTimestamp && expires > now) {
        disrupted[name] = at;
        this.queue.addAfter(key, expires - now + 50);
      }
    }
    const live = pods.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
    const currentHealthy = live.filter((p) => isPodReady(p) && !disrupted[p.metadata.name!]).length;
    let expectedPods = live.length;
    let desiredHealthy = 0;
    let error: string | undefined;
    try {
      const { minAvailable, maxUnavailable } = pdb.spec;
      if (maxUnavailable !== undefined || typeof minAvailable === 'string') {
        expectedPods = this.expectedScale(live);
        if (maxUnavailable !== undefined) desiredHealthy = Math.max(0, expectedPods - scaledValue(maxUnavailable, expectedPods, true, 0));
        else desiredHealthy = scaledValue(minAvailable, expectedPods, true, 0);
      } else {
        desiredHealthy = typeof minAvailable === 'number' ? minAvailable : 1;
      }
    } catch (err) {
      error = (err as Error).message;
    }
    const allowed = error ? 0 : Math.max(0, currentHealthy - desiredHealthy);
    const condition = error
      ? { type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: error }
      : allowed > 0
        ? { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '' }
        : { type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '' };
    const old = pdb.status ?? {};
    const prev = old.conditions?.find((c) => c.type === 'DisruptionAllowed');
    const lastTransitionTime = prev && prev.status === condition.status ? prev.lastTransitionTime : rfc3339Seconds(now);
    const status: NonNullable<PodDisruptionBudget['status']> = {
      observedGeneration: pdb.metadata.generation ?? 1,
      ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}),
      disruptionsAllowed: allowed, currentHealthy, desiredHealthy, expectedPods,
      conditions: [{ ...condition, lastTransitionTime, observedGeneration: pdb.metadata.generation ?? 1 }],
    };
    if (JSON.stringify(status) === JSON.stringify(old)) return;
    const copy = structuredClone(pdb);
    copy.status = status;
    await ignoreNotFound(this.client.update(R.poddisruptionbudgets, copy, 'status'));
  }

  /** The sum of the replicas wanted by the pods' controllers (a Deployment for its ReplicaSets). */
  private expectedScale(pods: Pod[]): number {
    const seen = new Map<string, number>();
    for (const pod of pods) {
      let ref = controllerRefOf(pod);
      if (!ref) throw new Error(`found no controller ref for pod "${pod.metadata.name}"`);
      let owner = this.lookup(ref.apiVersion, ref.kind, pod.metadata.namespace!, ref.name);
      const up = owner && controllerRefOf(owner);
      if (owner && up?.kind === 'Deployment') { ref = up; owner = this.lookup(up.apiVersion, up.kind, pod.metadata.namespace!, up.name); }
      if (!owner) throw new Error(`found no controller for pod "${pod.metadata.name}"`);
      const replicas = (owner as ScalableWorkload).spec?.replicas;
      if (typeof replicas !== 'number') throw new Error(`${ref.kind} "${ref.name}" has no scale`);
      seen.set(owner.metadata.uid!, replicas);
    }
    return [...seen.values()].reduce((a, b) => a + b, 0);
  }

  private lookup(apiVersion: string, kind: string, namespace: string, name: string): KubeObject | undefined {
    const res = resourceForKind(apiVersion, kind);
    return res ? this.client.get(res, namespace, name) : undefined;
  }
}

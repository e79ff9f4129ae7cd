// StatefulSet controller (upstream's pkg/controller/statefulset): pods NAME-0..N-1 with
// stable names, hostnames and claims; OrderedReady creates and removes one at a time,
// each waiting for the previous to be Running and Ready, Parallel does all at once;
// RollingUpdate replaces pods from the highest ordinal down to the partition, OnDelete
// only when the user deletes them. Template history lives in ControllerRevisions.
import type { Pod } from '../../../protocol/kube/types.js';
import { selectorMatches } from '../../../protocol/kube/labels.js';
import { R } from '../../apiserver/client.js';
import type { PersistentVolumeClaim } from '../../storage/storage-types.js';
import { ignoreNotFound, isAlreadyExists, isNotFound } from '../../client/api-errors.js';
import { claimObjects, controllerRefOf } from '../controller-ref.js';
import { objectKey } from '../../client/informer.js';
import { isPodAvailable, isPodReady } from '../pod-state.js';
import { QueueController, type ControllerDeps } from '../queue-controller.js';
import { canonicalJson } from '../template-hash.js';
import { claimsFor, newPod, ordinalOf, podName, revisionOf, startOrdinal } from './identity.js';
import { StatefulSetHistory, templateOf, type Revisions } from './revisions.js';
import type { ControllerRevision, StatefulSet } from './statefulset-types.js';

const isTerminating = (p: Pod): boolean => !!p.metadata.deletionTimestamp;
const isFinished = (p: Pod): boolean => p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded';
const runningAndReady = (p: Pod): boolean => p.status?.phase === 'Running' && isPodReady(p);

export class StatefulSetController extends QueueController {
  readonly name = 'statefulset';
  private history!: StatefulSetHistory;

  constructor(deps: ControllerDeps) {
    super(deps, 'statefulset-controller');
  }

  private get sets() { return this.informers.get<StatefulSet>(R.statefulsets); }
  private get pods() { return this.informers.get<Pod>(R.pods); }
  private get claims() { return this.informers.get<PersistentVolumeClaim>(R.persistentvolumeclaims); }
  private get revisions() { return this.informers.get<ControllerRevision>(R.controllerrevisions); }

  protected register(): void {
    this.history = new StatefulSetHistory(this.client, this.revisions);
    this.sets.on((_t, set) => this.queue.add(objectKey(set)));
    this.pods.on((type, pod, old) => {
      const ns = pod.metadata.namespace!;
      const ref = controllerRefOf(pod);
      if (ref?.kind === 'StatefulSet') this.queue.add(`${ns}/${ref.name}`);
      else if (type !== 'DELETED') {
        for (const s of this.sets.list((x) => x.metadata.namespace === ns && selectorMatches(x.spec.selector, pod.metadata.labels))) this.queue.add(objectKey(s));
      }
      const oldRef = old && controllerRefOf(old);
      if (oldRef?.kind === 'StatefulSet' && oldRef.uid !== ref?.uid) this.queue.add(`${ns}/${oldRef.name}`);
    });
    // A claim that finishes deleting may unblock a pod waiting for it to be recreated.
    this.claims.on((type, c) => {
      if (type !== 'DELETED') return;
      for (const s of this.sets.list((x) => x.metadata.namespace === c.metadata.namespace && (x.spec.volumeClaimTemplates?.length ?? 0) > 0)) this.queue.add(objectKey(s));
    });
    for (const i of [this.sets, this.pods, this.claims, this.revisions]) i.start();
    for (const s of this.sets.list()) this.queue.add(objectKey(s));
  }

  protected async reconcile(key: string): Promise<void> {
    const set = this.sets.getByKey(key);
    if (!set) return;
    const ns = set.metadata.namespace!;
    const owned = await claimObjects<Pod>({
      client: this.client, ref: R.pods, owner: set, ownerApiVersion: 'apps/v1', ownerKind: 'StatefulSet',
      matches: (p) => selectorMatches(set.spec.selector, p.metadata.labels) && ordinalOf(set, p) >= 0,
      candidates: this.pods.list((p) => p.metadata.namespace === ns),
    });
    if (set.metadata.deletionTimestamp) return;
    const revs = await this.history.sync(set);
    await this.syncPods(set, owned, revs);
    await this.updateStatus(set, owned, revs);
    await this.history.truncate(set, revs, new Set(owned.map((p) => revisionOf(p) ?? '')));
  }

  /** The template a new pod of this ordinal is made from. */
  private templateFor(set: StatefulSet, revs: Revisions, ordinal: number): { template: StatefulSet['spec']['template']; revision: string } {
    const strategy = set.spec.updateStrategy?.type ?? 'RollingUpdate';
    const partition = set.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
    if (strategy === 'RollingUpdate' && ordinal - startOrdinal(set) < partition) {
      const t = templateOf(revs.current);
      if (t) return { template: t, revision: revs.current.metadata.name! };
    }
    return { template: set.spec.template, revision: revs.update.metadata.name! };
  }

  private async syncPods(set: StatefulSet, owned: Pod[], revs: Revisions): Promise<void> {
    const replicas = set.spec.replicas ?? 1;
    const start = startOrdinal(set);
    const monotonic = (set.spec.podManagementPolicy ?? 'OrderedReady') !== 'Parallel';
    const byOrdinal = new Map<number, Pod>();
    const condemned: Pod[] = [];
    for (const p of owned) {
      const ord = ordinalOf(set, p);
      if (ord >= start && ord < start + replicas) byOrdinal.set(ord, p);
      else condemned.push(p);
    }
    condemned.sort((a, b) => ordinalOf(set, b) - ordinalOf(set, a));
    const minReady = set.spec.minReadySeconds ?? 0;
    let unhealthy = 0;

    for (let ord = start; ord < start + replicas; ord++) {
      const pod = byOrdinal.get(ord);
      if (!pod) {
        if (!(await this.ensureClaims(set, ord))) { if (monotonic) return; continue; }
        await this.createPod(set, revs, ord);
        if (monotonic) return;
        continue;
      }
      if (isFinished(pod) && !isTerminating(pod)) {
        // A failed pod is replaced under the same name.
        await this.deletePod(set, pod);
        if (monotonic) return;
        continue;
      }
      if (isTerminating(pod)) { unhealthy++; if (monotonic) return; continue; }
      if (!runningAndReady(pod) || !isPodAvailable(pod, minReady)) {
        unhealthy++;
        if (monotonic) {
          if (runningAndReady(pod)) this.queue.addAfter(objectKey(set), 1000);
          return;
        }
      }
      await this.ensureClaims(set, ord);
    }

    for (const pod of condemned) {
      if (isTerminating(pod)) { if (monotonic) return; continue; }
      if (monotonic && unhealthy > 0) return;
      await this.releaseClaimsOnScaleDown(set, pod);
      await this.deletePod(set, pod);
      if (monotonic) return;
    }

    if ((set.spec.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return;
    const partition = set.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
    for (let ord = start + replicas - 1; ord >= start + partition; ord--) {
      const pod = byOrdinal.get(ord);
      if (!pod || isTerminating(pod)) return;
      if (revisionOf(pod) !== revs.update.metadata.name) {
        await this.deletePod(set, pod);
        return;
      }
      if (!runningAndReady(pod)) return; // the newly updated pod must be ready before the next
    }
  }

  /** Creates the pod's missing claims; false while one of them is still being deleted. */
  private async ensureClaims(set: StatefulSet, ordinal: number): Promise<boolean> {
    for (const claim of claimsFor(set, ordinal)) {
      const existing = this.claims.get(claim.metadata.namespace, claim.metadata.name!);
      if (existing) {
        if (existing.metadata.deletionTimestamp) return false;
        continue;
      }
      try {
        await this.client.create(R.persistentvolumeclaims, claim);
        this.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${claim.metadata.name} Pod ${podName(set, ordinal)} in StatefulSet ${set.metadata.name} success`);
      } catch (err) {
        if (isAlreadyExists(err)) continue;
        this.recorder.event(set, 'Warning', 'FailedCreate', `create Claim ${claim.metadata.name} for Pod ${podName(set, ordinal)} in StatefulSet ${set.metadata.name} failed error: ${errorText(err)}`);
        throw err;
      }
    }
    return true;
  }

  /** whenScaled: Delete hands the claims of a removed ordinal to its pod, so they go with it. */
  private async releaseClaimsOnScaleDown(set: StatefulSet, pod: Pod): Promise<void> {
    if (set.spec.persistentVolumeClaimRetentionPolicy?.whenScaled !== 'Delete') return;
    for (const want of claimsFor(set, ordinalOf(set, pod))) {
      const claim = this.claims.get(want.metadata.namespace, want.metadata.name!);
      if (!claim || (claim.metadata.ownerReferences ?? []).some((r) => r.uid === pod.metadata.uid)) continue;
      const copy = structuredClone(claim);
      copy.metadata.ownerReferences = [...(copy.metadata.ownerReferences ?? []).filter((r) => r.kind !== 'StatefulSet'),
        { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name!, uid: pod.metadata.uid!, controller: false, blockOwnerDeletion: false }];
      await ignoreNotFound(this.client.update(R.persistentvolumeclaims, copy));
    }
  }

  private async createPod(set: StatefulSet, revs: Revisions, ordinal: number): Promise<void> {
    const { template, revision } = this.templateFor(set, revs, ordinal);
    const pod = newPod(set, template, revision, ordinal);
    try {
      await this.client.create(R.pods, pod);
      this.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
    } catch (err) {
      if (isAlreadyExists(err)) return; // our cache had not seen it yet
      this.recorder.event(set, 'Warning', 'FailedCreate', `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errorText(err)}`);
      throw err;
    }
  }

  private async deletePod(set: StatefulSet, pod: Pod): Promise<void> {
    try {
      await this.client.delete(R.pods, pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid! } });
      this.recorder.event(set, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
    } catch (err) {
      if (isNotFound(err)) return;
      this.recorder.event(set, 'Warning', 'FailedDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errorText(err)}`);
      throw err;
    }
  }

  private async updateStatus(set: StatefulSet, owned: Pod[], revs: Revisions): Promise<void> {
    const minReady = set.spec.minReadySeconds ?? 0;
    const pods = owned.filter((p) => !isFinished(p));
    const status = {
      ...(set.status ?? {}),
      observedGeneration: set.metadata.generation ?? 1,
      replicas: pods.length,
      readyReplicas: pods.filter(runningAndReady).length,
      availableReplicas: pods.filter((p) => runningAndReady(p) && isPodAvailable(p, minReady)).length,
      currentReplicas: pods.filter((p) => revisionOf(p) === revs.current.metadata.name).length,
      updatedReplicas: pods.filter((p) => revisionOf(p) === revs.update.metadata.name).length,
      currentRevision: revs.current.metadata.name!,
      updateRevision: revs.update.metadata.name!,
    };
    // The rollout is complete once every pod runs the update revision and is ready.
    if ((set.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate'
      && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
      status.currentReplicas = status.updatedReplicas;
      status.currentRevision = status.updateRevision;
    }
    if (status.readyReplicas > status.availableReplicas) this.queue.addAfter(objectKey(set), 1000);
    if (canonicalJson(status) === canonicalJson(set.status ?? {})) return;
    const copy = structuredClone(set);
    copy.status = status;
    await ignoreNotFound(this.client.update(R.statefulsets, copy, 'status'));
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// Deployment controller: one ReplicaSet per pod template (named by the template hash),
// moved between with RollingUpdate (maxSurge/maxUnavailable) or Recreate, revisions
// for `kubectl rollout undo`, and the conditions `kubectl rollout status` waits on.
import type { Pod } from '../../protocol/kube/types.js';
import { R } from '../apiserver/client.js';
import { objectKey } from '../client/informer.js';
import { ignoreNotFound, isAlreadyExists } from '../client/api-errors.js';
import { claimObjects, controllerRefOf, newControllerRef } from './controller-ref.js';
import {
  calculateStatus, copyAnnotations, DESIRED_REPLICAS, getCondition, hasProgressDeadline, HASH_LABEL, isComplete,
  isProgressing, isRolling, isTimedOut, MAX_REPLICAS, maxSurge, maxUnavailable, newCondition, newReplicaSetReplicas,
  progressDeadlineSeconds, replicasOf, REVISION, REVISION_HISTORY, revisionOf, rsReplicas, setCondition,
  setReplicasAnnotations, sumReplicas, type Deployment, type DeploymentStatus,
} from './deployment-util.js';
import { isEmptySelector, selectorMatches } from '../../protocol/kube/labels.js';
import { QueueController, type ControllerDeps } from './queue-controller.js';
import type { ReplicaSet } from './replicaset-controller.js';
import { canonicalJson, computeTemplateHash, templatesEqualIgnoringLabel } from './template-hash.js';

export type { Deployment } from './deployment-util.js';

const byCreation = (a: ReplicaSet, b: ReplicaSet): number =>
  (Date.parse(a.metadata.creationTimestamp ?? '') || 0) - (Date.parse(b.metadata.creationTimestamp ?? '') || 0)
  || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');

/** Available pods an RS can still have once it has shrunk to its spec (status may lag a scale-down). */
const effectiveAvailable = (rs: ReplicaSet): number => Math.min(rs.status?.availableReplicas ?? 0, rsReplicas(rs));

/** One pass over one deployment; holds the freshest copies of the objects it writes. */
interface Pass { d: Deployment; newRS?: ReplicaSet; oldRSs: ReplicaSet[] }

export class DeploymentController extends QueueController {
  readonly name = 'deployment';

  constructor(deps: ControllerDeps) {
    super(deps, 'deployment-controller');
  }

  private get deployments() { return this.informers.get<Deployment>(R.deployments); }
  private get sets() { return this.informers.get<ReplicaSet>(R.replicasets); }
  private get pods() { return this.informers.get<Pod>(R.pods); }

  protected register(): void {
    this.deployments.on((_t, d) => this.queue.add(objectKey(d)));
    this.sets.on((type, rs, old) => this.onReplicaSet(type, rs, old));
    this.pods.on((type, pod, old) => {
      // Recreate waits for old pods to be gone: their disappearance is news.
      if (type === 'DELETED' || pod.status?.phase !== old?.status?.phase) this.onPodGone(pod);
    });
    this.deployments.start();
    this.sets.start();
    this.pods.start();
    for (const d of this.deployments.list()) this.queue.add(objectKey(d));
  }

  private onReplicaSet(type: string, rs: ReplicaSet, old?: ReplicaSet): void {
    const ns = rs.metadata.namespace!;
    const ref = controllerRefOf(rs);
    if (ref?.kind === 'Deployment') this.queue.add(`${ns}/${ref.name}`);
    else if (type !== 'DELETED') {
      for (const d of this.deployments.list((x) => x.metadata.namespace === ns && selectorMatches(x.spec.selector, rs.metadata.labels))) {
        this.queue.add(objectKey(d));
      }
    }
    const oldRef = old && controllerRefOf(old);
    if (oldRef?.kind === 'Deployment' && oldRef.uid !== ref?.uid) this.queue.add(`${ns}/${oldRef.name}`);
  }

  private onPodGone(pod: Pod): void {
    const ref = controllerRefOf(pod);
    if (ref?.kind !== 'ReplicaSet') return;
    const rs = this.sets.get(pod.metadata.namespace, ref.name);
    const dref = rs && controllerRefOf(rs);
    if (dref?.kind !== 'Deployment') return;
    const d = this.deployments.get(pod.metadata.namespace, dref.name);
    if (d && !isRolling(d)) this.queue.add(objectKey(d));
  }

  protected async reconcile(key: string): Promise<void> {
    const cached = this.deployments.getByKey(key);
    if (!cached) return;
    const d = structuredClone(cached);
    if (isEmptySelector(d.spec.selector)) {
      this.recorder.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if (d.status?.observedGeneration !== d.metadata.generation) {
        await this.writeStatus(d, { ...(d.status ?? {}), observedGeneration: d.metadata.generation });
      }
      return;
    }
    const ns = d.metadata.namespace!;
    const owned = await claimObjects<ReplicaSet>({
      client: this.client, ref: R.replicasets, owner: d, ownerApiVersion: 'apps/v1', ownerKind: 'Deployment',
      matches: (rs) => selectorMatches(d.spec.selector, rs.metadata.labels),
      candidates: this.sets.list((rs) => rs.metadata.namespace === ns),
    });
    const pass: Pass = { d, oldRSs: [] };
    if (d.metadata.deletionTimestamp) {
      await this.syncRevisions(pass, owned, false);
      await this.syncStatus(pass);
      return;
    }
    await this.checkPausedConditions(pass);
    if (d.spec.paused || this.isScalingEvent(d, owned)) {
      await this.syncRevisions(pass, owned, false);
      await this.scale(pass);
      if (d.spec.paused) await this.cleanup(pass);
      await this.syncStatus(pass);
      return;
    }
    if (isRolling(d)) await this.rolloutRolling(pass, owned);
    else await this.rolloutRecreate(pass, owned);
  }

  // ---- ReplicaSets and revisions ----

  /** Splits owned sets into the new one (template equal) and old ones, creating the new one if asked. */
  private async syncRevisions(pass: Pass, owned: ReplicaSet[], create: boolean): Promise<void> {
    const sorted = [...owned].sort(byCreation);
    const existing = sorted.find((rs) => templatesEqualIgnoringLabel(rs.spec.template, pass.d.spec.template, HASH_LABEL));
    pass.oldRSs = sorted.filter((rs) => rs !== existing);
    const newRevision = Math.max(0, ...pass.oldRSs.map(revisionOf)) + 1;
    if (existing) {
      const copy = structuredClone(existing);
      let changed = this.setNewReplicaSetAnnotations(pass.d, copy, newRevision, true);
      if ((copy.spec.minReadySeconds ?? 0) !== (pass.d.spec.minReadySeconds ?? 0)) {
        copy.spec.minReadySeconds = pass.d.spec.minReadySeconds ?? 0;
        changed = true;
      }
      pass.newRS = changed ? await this.client.update<ReplicaSet>(R.replicasets, copy) : existing;
      await this.setDeploymentRevision(pass, pass.newRS.metadata.annotations?.[REVISION] ?? String(newRevision));
      if (hasProgressDeadline(pass.d) && !getCondition(pass.d.status, 'Progressing')) {
        pass.d.status ??= {};
        setCondition(pass.d.status, newCondition('Progressing', 'True', 'FoundNewReplicaSet', `Found new replica set "${pass.newRS.metadata.name}"`));
      }
      return;
    }
    if (!create) { pass.newRS = undefined; return; }
    pass.newRS = await this.createNewReplicaSet(pass, newRevision);
  }

  private setNewReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, newRevision: number, exists: boolean): boolean {
    let changed = copyAnnotations(d, rs);
    const old = revisionOf(rs);
    if (old < newRevision) {
      const a = rs.metadata.annotations!;
      if (old > 0) a[REVISION_HISTORY] = a[REVISION_HISTORY] ? `${a[REVISION_HISTORY]},${old}` : String(old);
      a[REVISION] = String(newRevision);
      changed = true;
    }
    if (!exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
    return changed;
  }

  private async setDeploymentRevision(pass: Pass, revision: string): Promise<void> {
    if (pass.d.metadata.annotations?.[REVISION] === revision) return;
    const copy = structuredClone(pass.d);
    copy.metadata.annotations = { ...(copy.metadata.annotations ?? {}), [REVISION]: revision };
    const status = pass.d.status;
    pass.d = await this.client.update<Deployment>(R.deployments, copy);
    pass.d = structuredClone(pass.d);
    // Keep conditions decided earlier in this pass; they are written at its end.
    if (status) pass.d.status = status;
  }

  private async createNewReplicaSet(pass: Pass, newRevision: number): Promise<ReplicaSet> {
    const d = pass.d;
    const template = structuredClone(d.spec.template);
    const hash = computeTemplateHash(template, d.status?.collisionCount);
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [HASH_LABEL]: hash } };
    const selector = structuredClone(d.spec.selector);
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [HASH_LABEL]: hash };
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1', kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`, namespace: d.metadata.namespace,
        labels: { ...template.metadata.labels },
        ownerReferences: [newControllerRef(d, 'apps/v1', 'Deployment')],
      },
      spec: { replicas: 0, minReadySeconds: d.spec.minReadySeconds ?? 0, selector, template },
    };
    rs.spec.replicas = newReplicaSetReplicas(d, pass.oldRSs, undefined);
    this.setNewReplicaSetAnnotations(d, rs, newRevision, false);
    let created: ReplicaSet;
    try {
      created = await this.client.create<ReplicaSet>(R.replicasets, rs);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const other = this.client.get<ReplicaSet>(R.replicasets, d.metadata.namespace, rs.metadata.name!);
      if (other && controllerRefOf(other)?.uid === d.metadata.uid && templatesEqualIgnoringLabel(other.spec.template, d.spec.template, HASH_LABEL)) {
        return other;
      }
      // A different template hashed to the same name: try the next name.
      await this.writeStatus(d, { ...(d.status ?? {}), collisionCount: (d.status?.collisionCount ?? 0) + 1 });
      throw err;
    }
    if (rsReplicas(created) > 0) {
      this.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} to ${rsReplicas(created)} from 0`);
    }
    await this.setDeploymentRevision(pass, String(newRevision));
    if (hasProgressDeadline(pass.d)) {
      pass.d.status ??= {};
      const cond = newCondition('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${created.metadata.name}"`);
      pass.d.status.conditions = (pass.d.status.conditions ?? []).filter((c) => c.type !== 'Progressing');
      setCondition(pass.d.status, cond);
    }
    return created;
  }

  private all(pass: Pass): ReplicaSet[] {
    return pass.newRS ? [pass.newRS, ...pass.oldRSs] : [...pass.oldRSs];
  }

  /** Sets an RS's size (and the replicas annotations); records ScalingReplicaSet. */
  private async scaleTo(pass: Pass, rs: ReplicaSet, size: number): Promise<boolean> {
    const from = rsReplicas(rs);
    const copy = structuredClone(rs);
    const annotationsChanged = setReplicasAnnotations(copy, replicasOf(pass.d), replicasOf(pass.d) + maxSurge(pass.d));
    if (from === size && !annotationsChanged) return false;
    copy.spec.replicas = size;
    const updated = await this.client.update<ReplicaSet>(R.replicasets, copy);
    if (pass.newRS === rs) pass.newRS = updated;
    pass.oldRSs = pass.oldRSs.map((x) => (x === rs ? updated : x));
    if (from !== size) {
      this.recorder.event(pass.d, 'Normal', 'ScalingReplicaSet', `Scaled ${size > from ? 'up' : 'down'} replica set ${rs.metadata.name} to ${size} from ${from}`);
    }
    return from !== size;
  }

  // ---- strategies ----

  private async rolloutRolling(pass: Pass, owned: ReplicaSet[]): Promise<void> {
    await this.syncRevisions(pass, owned, true);
    if (await this.reconcileNewReplicaSet(pass) || await this.reconcileOldReplicaSets(pass)) {
      await this.syncRolloutStatus(pass);
      return;
    }
    if (isComplete(pass.d, pass.d.status ?? {})) await this.cleanup(pass);
    await this.syncRolloutStatus(pass);
  }

  private async reconcileNewReplicaSet(pass: Pass): Promise<boolean> {
    const rs = pass.newRS!;
    const want = replicasOf(pass.d);
    if (rsReplicas(rs) === want) return false;
    if (rsReplicas(rs) > want) return this.scaleTo(pass, rs, want);
    return this.scaleTo(pass, rs, newReplicaSetReplicas(pass.d, this.all(pass), rs));
  }

  private async reconcileOldReplicaSets(pass: Pass): Promise<boolean> {
    if (sumReplicas(pass.oldRSs) === 0) return false;
    const newRS = pass.newRS!;
    const minAvailable = replicasOf(pass.d) - maxUnavailable(pass.d);
    const newUnavailable = rsReplicas(newRS) - effectiveAvailable(newRS);
    const maxScaledDown = sumReplicas(this.all(pass)) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;

    // Unhealthy old pods go first: removing them costs no availability.
    let cleaned = 0;
    for (const rs of [...pass.oldRSs].sort(byCreation)) {
      if (cleaned >= maxScaledDown) break;
      const unhealthy = rsReplicas(rs) - effectiveAvailable(rs);
      if (rsReplicas(rs) === 0 || unhealthy <= 0) continue;
      const down = Math.min(maxScaledDown - cleaned, unhealthy);
      await this.scaleTo(pass, rs, rsReplicas(rs) - down);
      cleaned += down;
    }

    // Then healthy ones, as far as the availability budget allows.
    const available = this.all(pass).reduce((n, rs) => n + effectiveAvailable(rs), 0);
    let scaledDown = 0;
    if (available > minAvailable) {
      const budget = available - minAvailable;
      for (const rs of [...pass.oldRSs].sort(byCreation)) {
        if (scaledDown >= budget) break;
        if (rsReplicas(rs) === 0) continue;
        const down = Math.min(rsReplicas(rs), budget - scaledDown);
        await this.scaleTo(pass, rs, rsReplicas(rs) - down);
        scaledDown += down;
      }
    }
    return cleaned + scaledDown > 0;
  }

  private async rolloutRecreate(pass: Pass, owned: ReplicaSet[]): Promise<void> {
    await this.syncRevisions(pass, owned, false);
    let scaledDown = false;
    for (const rs of pass.oldRSs.filter((x) => rsReplicas(x) > 0)) {
      if (await this.scaleTo(pass, rs, 0)) scaledDown = true;
    }
    if (scaledDown || this.oldPodsRunning(pass)) {
      await this.syncRolloutStatus(pass);
      return;
    }
    if (!pass.newRS) await this.syncRevisions(pass, owned, true);
    await this.scaleTo(pass, pass.newRS!, replicasOf(pass.d));
    if (isComplete(pass.d, pass.d.status ?? {})) await this.cleanup(pass);
    await this.syncRolloutStatus(pass);
  }

  private oldPodsRunning(pass: Pass): boolean {
    if (pass.oldRSs.some((rs) => (rs.status?.replicas ?? 0) > 0)) return true;
    const oldUids = new Set(pass.oldRSs.map((rs) => rs.metadata.uid));
    return this.pods.list((p) => p.metadata.namespace === pass.d.metadata.namespace && oldUids.has(controllerRefOf(p)?.uid))
      .some((p) => p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded');
  }

  // ---- scaling (replicas changed mid-rollout, or paused) ----

  private isScalingEvent(d: Deployment, owned: ReplicaSet[]): boolean {
    return owned.some((rs) => {
      if (rsReplicas(rs) === 0) return false;
      const desired = rs.metadata.annotations?.[DESIRED_REPLICAS];
      return desired !== undefined && desired !== String(replicasOf(d));
    });
  }

  private async scale(pass: Pass): Promise<void> {
    const d = pass.d;
    const want = replicasOf(d);
    const olds = [...pass.oldRSs].sort(byCreation).reverse();
    const active = this.all(pass).filter((rs) => rsReplicas(rs) > 0);
    const single = active.length === 1 ? active[0] : active.length === 0 ? (pass.newRS ?? olds[0]) : undefined;
    if (single) {
      if (rsReplicas(single) !== want) await this.scaleTo(pass, single, want);
      return;
    }
    const newRS = pass.newRS;
    if (newRS && rsReplicas(newRS) === want && newRS.metadata.annotations?.[DESIRED_REPLICAS] === String(want) && (newRS.status?.availableReplicas ?? 0) === want) {
      for (const rs of pass.oldRSs.filter((x) => rsReplicas(x) > 0)) await this.scaleTo(pass, rs, 0);
      return;
    }
    if (!isRolling(d)) return;
    // Proportional scaling: every active set grows or shrinks by its share.
    const allowed = want > 0 ? want + maxSurge(d) : 0;
    const toAdd = allowed - sumReplicas(active);
    const sorted = [...active].sort((a, b) => rsReplicas(b) - rsReplicas(a) || (toAdd > 0 ? byCreation(b, a) : byCreation(a, b)));
    const sizes = new Map<ReplicaSet, number>();
    let added = 0;
    for (const rs of sorted) {
      let share = 0;
      if (toAdd !== 0 && toAdd !== added) {
        const annotated = Number(rs.metadata.annotations?.[MAX_REPLICAS] ?? d.status?.replicas ?? 0);
        const fraction = want === 0 || !annotated ? -rsReplicas(rs) : Math.round((rsReplicas(rs) * (want + maxSurge(d))) / annotated) - rsReplicas(rs);
        share = toAdd > 0 ? Math.min(fraction, toAdd - added) : Math.max(fraction, toAdd - added);
      }
      sizes.set(rs, rsReplicas(rs) + share);
      added += share;
    }
    if (sorted.length > 0 && added !== toAdd) sizes.set(sorted[0]!, Math.max(0, sizes.get(sorted[0]!)! + toAdd - added));
    for (const rs of sorted) await this.scaleTo(pass, rs, Math.max(0, sizes.get(rs)!));
  }

  // ---- history ----

  private async cleanup(pass: Pass): Promise<void> {
    const limit = pass.d.spec.revisionHistoryLimit ?? 10;
    const alive = pass.oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
    const excess = alive.length - limit;
    if (excess <= 0) return;
    const byRevision = [...alive].sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (const rs of byRevision.slice(0, excess)) {
      if ((rs.status?.replicas ?? 0) !== 0 || rsReplicas(rs) !== 0) continue;
      if ((rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      await ignoreNotFound(this.client.delete(R.replicasets, rs.metadata.namespace, rs.metadata.name!));
    }
  }

  // ---- status ----

  private async checkPausedConditions(pass: Pass): Promise<void> {
    const d = pass.d;
    if (!hasProgressDeadline(d)) return;
    const cond = getCondition(d.status, 'Progressing');
    if (cond?.reason === 'ProgressDeadlineExceeded') return;
    const pausedShown = cond?.reason === 'DeploymentPaused';
    let next;
    if (d.spec.paused && !pausedShown) next = newCondition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused');
    else if (!d.spec.paused && pausedShown) next = newCondition('Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed');
    if (!next) return;
    const status = structuredClone(d.status ?? {});
    status.conditions = (status.conditions ?? []).filter((c) => c.type !== 'Progressing');
    setCondition(status, next);
    await this.writeStatus(pass.d, status, pass);
  }

  /** Counts only (paused, scaling, being deleted). */
  private async syncStatus(pass: Pass): Promise<void> {
    await this.writeStatus(pass.d, calculateStatus(pass.d, this.all(pass), pass.newRS), pass);
  }

  private async syncRolloutStatus(pass: Pass): Promise<void> {
    const d = pass.d;
    const status = calculateStatus(d, this.all(pass), pass.newRS);
    if (!hasProgressDeadline(d)) status.conditions = (status.conditions ?? []).filter((c) => c.type !== 'Progressing');
    const cur = getCondition(status, 'Progressing');
    const done = status.replicas === status.updatedReplicas && cur?.reason === 'NewReplicaSetAvailable';
    const rsName = pass.newRS?.metadata.name;
    if (hasProgressDeadline(d) && !done) {
      let next;
      if (isComplete(d, status)) {
        next = newCondition('Progressing', 'True', 'NewReplicaSetAvailable', rsName ? `ReplicaSet "${rsName}" has successfully progressed.` : 'Deployment has successfully progressed.');
      } else if (isProgressing(d, status)) {
        next = newCondition('Progressing', 'True', 'ReplicaSetUpdated', rsName ? `ReplicaSet "${rsName}" is progressing.` : 'Deployment is progressing.');
        if (cur?.status === 'True') next.lastTransitionTime = cur.lastTransitionTime;
      } else if (isTimedOut(d, status)) {
        next = newCondition('Progressing', 'False', 'ProgressDeadlineExceeded', rsName ? `ReplicaSet "${rsName}" has timed out progressing.` : 'Deployment has timed out progressing.');
      }
      if (next) {
        if (next.reason !== 'NewReplicaSetAvailable' && next.reason !== 'ProgressDeadlineExceeded') {
          status.conditions = (status.conditions ?? []).filter((c) => c.type !== 'Progressing');
        }
        setCondition(status, next);
      }
    }
    await this.writeStatus(d, status, pass);
    // A rollout that stops moving must still be noticed when its deadline passes.
    const progressing = getCondition(status, 'Progressing');
    if (hasProgressDeadline(d) && !isComplete(d, status) && progressing?.status === 'True') {
      const since = Date.parse(progressing.lastUpdateTime ?? '') || Date.now();
      const left = since + progressDeadlineSeconds(d) * 1000 - Date.now();
      this.queue.addAfter(objectKey(d), Math.max(1000, left + 1000));
    }
  }

  private async writeStatus(d: Deployment, status: DeploymentStatus, pass?: Pass): Promise<void> {
    const current = this.deployments.get(d.metadata.namespace, d.metadata.name!);
    const stored = d.metadata.resourceVersion === current?.metadata.resourceVersion ? current?.status : undefined;
    if (stored && canonicalJson(stored) === canonicalJson(status)) return;
    const copy = structuredClone(d);
    copy.status = status;
    const updated = await ignoreNotFound(this.client.update<Deployment>(R.deployments, copy, 'status'));
    if (updated && pass) pass.d = structuredClone(updated);
  }
}

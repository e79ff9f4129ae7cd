// DaemonSet controller: one pod per eligible node. Pods are placed by setting
// spec.nodeName directly (the DaemonSet controller decides placement itself and the
// scheduler never sees them), and carry upstream's daemon tolerations. Template history
// lives in ControllerRevisions; pods are labelled with controller-revision-hash.
import type { ControllerRevision, DaemonSet, Node, Pod, Toleration } from '../../protocol/kube/types.js';
import { R } from '../apiserver/client.js';
import { objectKey } from '../client/informer.js';
import { ignoreNotFound, isAlreadyExists, isNotFound } from '../client/api-errors.js';
import { claimObjects, controllerRefOf, newControllerRef } from './controller-ref.js';
import { Expectations } from './expectations.js';
import { scaledValue } from './int-or-percent.js';
import { selectorMatches } from '../../protocol/kube/labels.js';
import { nodeMatchesRequired } from '../scheduler/node-affinity.js';
import { tolerates } from '../scheduler/taints.js';
import { isPodAvailable, isPodReady, msUntilAvailable } from './pod-state.js';
import { QueueController, type ControllerDeps } from './queue-controller.js';
import { canonicalJson, computeTemplateHash } from './template-hash.js';

export const REVISION_HASH_LABEL = 'controller-revision-hash';

export type { DaemonSet } from '../../protocol/kube/types.js';

/** What upstream adds to every daemon pod so it survives node trouble. */
export function daemonTolerations(hostNetwork: boolean): Toleration[] {
  const t: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork) t.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  return t;
}

function withDaemonTolerations(spec: Pod['spec']): Toleration[] {
  const own = spec.tolerations ?? [];
  const extra = daemonTolerations(!!spec.hostNetwork).filter((t) => !own.some((o) => o.key === t.key && o.effect === t.effect));
  return [...own, ...extra];
}

const byAge = (a: Pod, b: Pod): number =>
  (Date.parse(a.metadata.creationTimestamp ?? '') || 0) - (Date.parse(b.metadata.creationTimestamp ?? '') || 0)
  || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');

export class DaemonSetController extends QueueController {
  readonly name = 'daemonset';
  private readonly expectations = new Expectations();

  constructor(deps: ControllerDeps) {
    super(deps, 'daemonset-controller');
  }

  private get sets() { return this.informers.get<DaemonSet>(R.daemonsets); }
  private get pods() { return this.informers.get<Pod>(R.pods); }
  private get nodes() { return this.informers.get<Node>(R.nodes); }
  private get revisions() { return this.informers.get<ControllerRevision>(R.controllerrevisions); }

  protected register(): void {
    this.sets.on((_t, ds) => this.queue.add(objectKey(ds)));
    this.pods.on((type, pod, old) => this.onPod(type, pod, old));
    this.nodes.on((type, node, old) => {
      const relevant = type !== 'MODIFIED' || canonicalJson(node.metadata.labels) !== canonicalJson(old?.metadata.labels)
        || canonicalJson(node.spec) !== canonicalJson(old?.spec);
      if (relevant) for (const ds of this.sets.list()) this.queue.add(objectKey(ds));
    });
    for (const i of [this.sets, this.pods, this.nodes, this.revisions]) i.start();
    for (const ds of this.sets.list()) this.queue.add(objectKey(ds));
  }

  private onPod(type: string, pod: Pod, old?: Pod): void {
    const ref = controllerRefOf(pod);
    const ns = pod.metadata.namespace!;
    if (ref?.kind === 'DaemonSet') {
      const key = `${ns}/${ref.name}`;
      if (type === 'ADDED') this.expectations.creationObserved(key);
      if (type === 'DELETED' || (pod.metadata.deletionTimestamp && !old?.metadata.deletionTimestamp)) this.expectations.deletionObserved(key, objectKey(pod));
      this.queue.add(key);
    } else if (type !== 'DELETED') {
      for (const ds of this.sets.list((d) => d.metadata.namespace === ns && selectorMatches(d.spec.selector, pod.metadata.labels))) this.queue.add(objectKey(ds));
    }
  }

  protected async reconcile(key: string): Promise<void> {
    const ds = this.sets.getByKey(key);
    if (!ds) { this.expectations.forget(key); return; }
    const ns = ds.metadata.namespace!;
    const owned = await claimObjects<Pod>({
      client: this.client, ref: R.pods, owner: ds, ownerApiVersion: 'apps/v1', ownerKind: 'DaemonSet',
      matches: (p) => selectorMatches(ds.spec.selector, p.metadata.labels),
      candidates: this.pods.list((p) => p.metadata.namespace === ns),
    });
    const nodes = this.nodes.list();
    if (ds.metadata.deletionTimestamp) { await this.updateStatus(ds, nodes, owned, undefined); return; }
    const hash = await this.syncHistory(ds, owned);
    if (this.expectations.satisfied(key)) {
      const changed = await this.manage(key, ds, nodes, owned, hash);
      if (!changed && (ds.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
        await this.rollingUpdate(key, ds, nodes, owned, hash);
      }
    }
    await this.updateStatus(ds, nodes, owned, hash);
  }

  private placement(ds: DaemonSet, node: Node): { shouldRun: boolean; keepRunning: boolean } {
    const spec = ds.spec.template.spec;
    if (!nodeMatchesRequired(spec, node)) return { shouldRun: false, keepRunning: false };
    const tolerations = withDaemonTolerations(spec);
    const taints = node.spec?.taints ?? [];
    // The scheduler's taint rules: NoSchedule keeps new pods off, NoExecute also evicts.
    const untolerated = (effects: string[]) => taints.some((t) => effects.includes(t.effect) && !tolerates(tolerations, t));
    return {
      shouldRun: !untolerated(['NoSchedule', 'NoExecute']),
      keepRunning: !untolerated(['NoExecute']),
    };
  }

  /** Creates missing pods and deletes surplus, failed and misplaced ones; true if it acted. */
  private async manage(key: string, ds: DaemonSet, nodes: Node[], owned: Pod[], hash: string): Promise<boolean> {
    const byNode = groupByNode(owned);
    const toCreate: string[] = [];
    const toDelete: { pod: Pod; force: boolean }[] = [];
    for (const node of nodes) {
      const name = node.metadata.name!;
      const { shouldRun, keepRunning } = this.placement(ds, node);
      const pods = (byNode.get(name) ?? []).filter((p) => !p.metadata.deletionTimestamp);
      byNode.delete(name);
      if (!keepRunning) { for (const p of pods) toDelete.push({ pod: p, force: false }); continue; }
      const failed = pods.filter((p) => p.status?.phase === 'Failed');
      for (const p of failed) toDelete.push({ pod: p, force: false });
      const running = pods.filter((p) => p.status?.phase !== 'Failed').sort(byAge);
      if (running.length === 0 && shouldRun) toCreate.push(name);
      for (const extra of running.slice(1)) toDelete.push({ pod: extra, force: false });
    }
    // Pods on nodes that no longer exist: no kubelet will ever confirm their end.
    for (const pods of byNode.values()) for (const p of pods) if (p.spec.nodeName) toDelete.push({ pod: p, force: true });
    if (toCreate.length === 0 && toDelete.length === 0) return false;
    this.expectations.expect(key, toCreate.length, toDelete.map((d) => objectKey(d.pod)));
    const results = await Promise.allSettled([
      ...toCreate.map((node) => this.createPod(ds, node, hash).catch((err) => { this.expectations.creationFailed(key); throw err; })),
      ...toDelete.map((d) => this.deletePod(key, ds, d.pod, d.force)),
    ]);
    const failure = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failure) throw failure.reason;
    return true;
  }

  private async rollingUpdate(key: string, ds: DaemonSet, nodes: Node[], owned: Pod[], hash: string): Promise<void> {
    const minReady = ds.spec.minReadySeconds ?? 0;
    const byNode = groupByNode(owned.filter((p) => !p.metadata.deletionTimestamp));
    const eligible = nodes.filter((n) => this.placement(ds, n).shouldRun);
    const maxUnavailable = scaledValue(ds.spec.updateStrategy?.rollingUpdate?.maxUnavailable, eligible.length, true, 1);
    let unavailable = 0;
    const replaceNow: Pod[] = [];
    const candidates: Pod[] = [];
    for (const node of eligible) {
      const pods = byNode.get(node.metadata.name!) ?? [];
      if (pods.length !== 1) { unavailable++; continue; }
      const pod = pods[0]!;
      const available = isPodAvailable(pod, minReady);
      if (pod.metadata.labels?.[REVISION_HASH_LABEL] === hash) { if (!available) unavailable++; continue; }
      // An old pod that is not serving anyway can be replaced at no cost.
      if (!available) { replaceNow.push(pod); unavailable++; } else candidates.push(pod);
    }
    const budget = Math.max(0, maxUnavailable - unavailable);
    const victims = [...replaceNow, ...candidates.sort(byAge).slice(0, budget)];
    if (victims.length === 0) return;
    this.expectations.expect(key, 0, victims.map(objectKey));
    await Promise.all(victims.map((p) => this.deletePod(key, ds, p, false)));
  }

  private async createPod(ds: DaemonSet, nodeName: string, hash: string): Promise<void> {
    const template = structuredClone(ds.spec.template);
    const pod: Pod = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        generateName: `${ds.metadata.name}-`, namespace: ds.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: hash },
        ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
        ownerReferences: [newControllerRef(ds, 'apps/v1', 'DaemonSet')],
      },
      spec: { ...template.spec, nodeName, tolerations: withDaemonTolerations(template.spec) },
    };
    try {
      const created = await this.client.create<Pod>(R.pods, pod);
      this.recorder.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
    } catch (err) {
      this.recorder.event(ds, 'Warning', 'FailedCreate', `Error creating: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }
  }

  private async deletePod(key: string, ds: DaemonSet, pod: Pod, force: boolean): Promise<void> {
    try {
      await this.client.delete(R.pods, pod.metadata.namespace, pod.metadata.name!, force ? { gracePeriodSeconds: 0 } : {});
      this.recorder.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
    } catch (err) {
      this.expectations.deletionObserved(key, objectKey(pod));
      if (!isNotFound(err)) throw err;
    }
  }

  /** Makes sure a ControllerRevision records the current template; returns its hash. */
  private async syncHistory(ds: DaemonSet, pods: Pod[]): Promise<string> {
    const ns = ds.metadata.namespace!;
    const hash = computeTemplateHash(ds.spec.template, ds.status?.collisionCount);
    const data = { spec: { template: { ...structuredClone(ds.spec.template), $patch: 'replace' } } };
    const history = this.revisions.list((cr) => cr.metadata.namespace === ns && controllerRefOf(cr)?.uid === ds.metadata.uid);
    const maxRevision = Math.max(0, ...history.map((cr) => cr.revision ?? 0));
    const name = `${ds.metadata.name}-${hash}`;
    const current = history.find((cr) => cr.metadata.name === name);
    if (!current) {
      const cr: ControllerRevision = {
        apiVersion: 'apps/v1', kind: 'ControllerRevision',
        metadata: {
          name, namespace: ns,
          labels: { ...(ds.spec.template.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: hash },
          ownerReferences: [newControllerRef(ds, 'apps/v1', 'DaemonSet')],
        },
        data, revision: maxRevision + 1,
      };
      try {
        await this.client.create(R.controllerrevisions, cr);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        const other = this.client.get<ControllerRevision>(R.controllerrevisions, ns, name);
        if (!other || controllerRefOf(other)?.uid !== ds.metadata.uid || canonicalJson(other.data) !== canonicalJson(data)) {
          // Another template took this name: move to the next hash.
          const copy = structuredClone(ds);
          copy.status = { ...(copy.status ?? {}), collisionCount: (ds.status?.collisionCount ?? 0) + 1 };
          await this.client.update(R.daemonsets, copy, 'status');
          throw err;
        }
      }
    } else if ((current.revision ?? 0) < maxRevision) {
      // Rolled back to an older template: it becomes the newest revision again.
      const copy = structuredClone(current);
      copy.revision = maxRevision + 1;
      await ignoreNotFound(this.client.update(R.controllerrevisions, copy));
    }
    await this.cleanupHistory(ds, history.filter((cr) => cr.metadata.name !== name), pods);
    return hash;
  }

  private async cleanupHistory(ds: DaemonSet, old: ControllerRevision[], pods: Pod[]): Promise<void> {
    const limit = ds.spec.revisionHistoryLimit ?? 10;
    if (old.length <= limit) return;
    const inUse = new Set(pods.map((p) => p.metadata.labels?.[REVISION_HASH_LABEL]));
    const removable = old.filter((cr) => !inUse.has(cr.metadata.labels?.[REVISION_HASH_LABEL])).sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
    for (const cr of removable.slice(0, old.length - limit)) {
      await ignoreNotFound(this.client.delete(R.controllerrevisions, cr.metadata.namespace, cr.metadata.name!));
    }
  }

  private async updateStatus(ds: DaemonSet, nodes: Node[], owned: Pod[], hash: string | undefined): Promise<void> {
    const minReady = ds.spec.minReadySeconds ?? 0;
    const byNode = groupByNode(owned.filter((p) => !p.metadata.deletionTimestamp));
    let desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
    const waits: number[] = [];
    for (const node of nodes) {
      const { shouldRun } = this.placement(ds, node);
      const pods = (byNode.get(node.metadata.name!) ?? []).sort(byAge);
      if (shouldRun) desired++;
      if (pods.length === 0) continue;
      if (!shouldRun) { misscheduled++; continue; }
      current++;
      const pod = pods[0]!;
      if (isPodReady(pod)) ready++;
      if (isPodAvailable(pod, minReady)) available++;
      const wait = msUntilAvailable(pod, minReady);
      if (wait !== undefined) waits.push(wait);
      if (hash && pods.some((p) => p.metadata.labels?.[REVISION_HASH_LABEL] === hash)) updated++;
    }
    if (waits.length) this.queue.addAfter(objectKey(ds), Math.min(...waits) + 50);
    const status = {
      ...(ds.status ?? {}),
      desiredNumberScheduled: desired,
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      numberReady: ready,
      numberAvailable: available,
      numberUnavailable: Math.max(0, desired - available),
      updatedNumberScheduled: updated,
      observedGeneration: ds.metadata.generation ?? 1,
    };
    if (canonicalJson(status) === canonicalJson(ds.status ?? {})) return;
    const copy = structuredClone(ds);
    copy.status = status;
    await ignoreNotFound(this.client.update(R.daemonsets, copy, 'status'));
  }
}

function groupByNode(pods: Pod[]): Map<string, Pod[]> {
  const out = new Map<string, Pod[]>();
  for (const p of pods) {
    const node = p.spec.nodeName ?? '';
    if (!out.has(node)) out.set(node, []);
    out.get(node)!.push(p);
  }
  return out;
}

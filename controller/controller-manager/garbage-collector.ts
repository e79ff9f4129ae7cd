// Garbage collector: follows ownerReferences (by uid) across every served resource.
// Background: dependents whose owners are all gone are deleted. Foreground: an owner
// holding the `foregroundDeletion` finalizer waits until its blocking dependents are
// gone. Orphan: an owner holding `orphan` has its dependents' references stripped first.
import type { KubeObject, OwnerReference } from '../../protocol/kube/types.js';
import { R, type ResourceRef } from '../apiserver/client.js';
import { ignoreNotFound, isNotFound } from '../client/api-errors.js';
import { QueueController, type ControllerDeps } from './queue-controller.js';
import { allServedResources, isNamespaced, resourceForKind } from './resource-kinds.js';

export const FOREGROUND_FINALIZER = 'foregroundDeletion';
export const ORPHAN_FINALIZER = 'orphan';

interface GraphNode { uid: string; ref: ResourceRef; namespace?: string; name: string; owners: OwnerReference[] }

const sameOwners = (a: OwnerReference[], b: OwnerReference[]): boolean => JSON.stringify(a) === JSON.stringify(b);

export class GarbageCollector extends QueueController {
  readonly name = 'garbage-collector';
  private readonly nodes = new Map<string, GraphNode>();
  /** owner uid → dependent uids */
  private readonly dependents = new Map<string, Set<string>>();

  constructor(deps: ControllerDeps) {
    super(deps, 'garbage-collector');
  }

  protected register(): void {
    // Events never own anything and churn the most: not worth a cache.
    const watched = allServedResources().filter((r) => !(r.group === R.events.group && r.resource === R.events.resource));
    for (const ref of watched) {
      const informer = this.informers.get(ref);
      informer.on((type, obj, old) => this.onChange(ref, type, obj, old));
      informer.start();
      // Shared informers may have been filled before this handler was attached.
      for (const obj of informer.list()) this.onChange(ref, 'ADDED', obj);
    }
  }

  private onChange(ref: ResourceRef, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject, old?: KubeObject): void {
    const uid = obj.metadata.uid;
    if (!uid) return;
    const previous = this.nodes.get(uid);
    if (type === 'DELETED') {
      this.nodes.delete(uid);
      this.unindex(uid, previous?.owners ?? []);
      // Its dependents may now be orphans; owners waiting in foreground may be unblocked.
      for (const dep of this.dependents.get(uid) ?? []) this.queue.add(dep);
      this.dependents.delete(uid);
      for (const o of obj.metadata.ownerReferences ?? []) this.queue.add(o.uid);
      return;
    }
    const owners = obj.metadata.ownerReferences ?? [];
    const node: GraphNode = { uid, ref, namespace: obj.metadata.namespace, name: obj.metadata.name!, owners };
    this.nodes.set(uid, node);
    const ownersChanged = !previous || !sameOwners(previous.owners, owners);
    if (ownersChanged) {
      this.unindex(uid, previous?.owners ?? []);
      for (const o of owners) {
        let set = this.dependents.get(o.uid);
        if (!set) this.dependents.set(o.uid, (set = new Set()));
        set.add(uid);
      }
      if (owners.length > 0) this.queue.add(uid);
      // An owner waiting on this dependent must re-check when the reference goes away.
      for (const o of previous?.owners ?? []) this.queue.add(o.uid);
    }
    const finalizers = obj.metadata.finalizers ?? [];
    if (obj.metadata.deletionTimestamp && (finalizers.includes(FOREGROUND_FINALIZER) || finalizers.includes(ORPHAN_FINALIZER))) {
      this.queue.add(uid);
    }
    // A dependent starting to terminate is progress for a foreground owner.
    if (obj.metadata.deletionTimestamp && !old?.metadata.deletionTimestamp) for (const o of owners) this.queue.add(o.uid);
  }

  private unindex(uid: string, owners: OwnerReference[]): void {
    for (const o of owners) {
      const set = this.dependents.get(o.uid);
      set?.delete(uid);
      if (set && set.size === 0 && !this.nodes.has(o.uid)) this.dependents.delete(o.uid);
    }
  }

  /** The live object for a graph node (straight from the store, not a cache). */
  private live(node: GraphNode): KubeObject | undefined {
    const obj = this.client.get(node.ref, node.namespace, node.name);
    return obj && obj.metadata.uid === node.uid ? obj : undefined;
  }

  protected async reconcile(uid: string): Promise<void> {
    const node = this.nodes.get(uid);
    if (!node) return;
    const obj = this.live(node);
    if (!obj) return;
    const finalizers = obj.metadata.finalizers ?? [];
    if (obj.metadata.deletionTimestamp) {
      if (finalizers.includes(ORPHAN_FINALIZER)) await this.orphanDependents(node, obj);
      else if (finalizers.includes(FOREGROUND_FINALIZER)) await this.deleteForeground(node, obj);
      return;
    }
    if ((obj.metadata.ownerReferences ?? []).length > 0) await this.attemptToDelete(node, obj);
  }

  private dependentsOf(uid: string): { node: GraphNode; obj: KubeObject; ref: OwnerReference }[] {
    const out = [];
    for (const depUid of this.dependents.get(uid) ?? []) {
      const node = this.nodes.get(depUid);
      const obj = node && this.live(node);
      const ref = obj?.metadata.ownerReferences?.find((o) => o.uid === uid);
      if (node && obj && ref) out.push({ node, obj, ref });
    }
    return out;
  }

  /** Classifies the owners of a dependent and deletes it, or trims its references. */
  private async attemptToDelete(node: GraphNode, obj: KubeObject): Promise<void> {
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of obj.metadata.ownerReferences ?? []) {
      const resource = resourceForKind(ref.apiVersion, ref.kind);
      // An owner kind this server does not serve cannot be checked: leave it alone.
      if (!resource) { solid.push(ref); continue; }
      const owner = this.client.get(resource, isNamespaced(resource) ? obj.metadata.namespace : undefined, ref.name);
      if (!owner || owner.metadata.uid !== ref.uid) dangling.push(ref);
      else if (owner.metadata.deletionTimestamp && (owner.metadata.finalizers ?? []).includes(FOREGROUND_FINALIZER)) waiting.push(ref);
      else solid.push(ref);
    }
    if (solid.length > 0) {
      if (dangling.length === 0 && waiting.length === 0) return;
      // Still owned: drop references to owners that are gone, and stop blocking owners that wait.
      const copy = structuredClone(obj);
      const gone = new Set(dangling.map((r) => r.uid));
      const waits = new Set(waiting.map((r) => r.uid));
      copy.metadata.ownerReferences = (copy.metadata.ownerReferences ?? [])
        .filter((r) => !gone.has(r.uid))
        .map((r) => (waits.has(r.uid) ? { ...r, blockOwnerDeletion: false } : r));
      await ignoreNotFound(this.client.update(node.ref, copy));
      return;
    }
    let policy: 'Background' | 'Foreground' | 'Orphan' = 'Background';
    const finalizers = obj.metadata.finalizers ?? [];
    if (finalizers.includes(ORPHAN_FINALIZER)) policy = 'Orphan';
    else if (finalizers.includes(FOREGROUND_FINALIZER)) policy = 'Foreground';
    // An owner deleting in foreground waits for the whole chain below it.
    else if (waiting.length > 0 && (this.dependents.get(node.uid)?.size ?? 0) > 0) policy = 'Foreground';
    this.log.debug({ kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace, policy }, 'deleting dependent whose owners are gone');
    await ignoreNotFound(this.client.delete(node.ref, obj.metadata.namespace, obj.metadata.name!, { propagationPolicy: policy, preconditions: { uid: node.uid } }));
  }

  private async deleteForeground(node: GraphNode, owner: KubeObject): Promise<void> {
    const deps = this.dependentsOf(node.uid);
    for (const d of deps) if (!d.obj.metadata.deletionTimestamp) this.queue.add(d.node.uid);
    const blocking = deps.filter((d) => d.ref.blockOwnerDeletion === true);
    if (blocking.length > 0) return; // re-run when they change or go
    await this.removeFinalizer(node, owner, FOREGROUND_FINALIZER);
  }

  private async orphanDependents(node: GraphNode, owner: KubeObject): Promise<void> {
    for (const d of this.dependentsOf(node.uid)) {
      const copy = structuredClone(d.obj);
      copy.metadata.ownerReferences = (copy.metadata.ownerReferences ?? []).filter((r) => r.uid !== node.uid);
      await ignoreNotFound(this.client.update(d.node.ref, copy));
    }
    await this.removeFinalizer(node, owner, ORPHAN_FINALIZER);
  }

  private async removeFinalizer(node: GraphNode, obj: KubeObject, finalizer: string): Promise<void> {
    const copy = structuredClone(obj);
    copy.metadata.finalizers = (copy.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    try {
      await this.client.update(node.ref, copy);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

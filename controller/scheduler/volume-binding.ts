// Volumes in scheduling (upstream's VolumeBinding plugin): a pod goes where its bound
// volumes can be reached; claims of a WaitForFirstConsumer class are bound for the node
// chosen, to a matching static volume there or by provisioning, before the pod is bound.
// Messages are upstream's.
import type { Pod } from '../../protocol/kube/types.js';
import { R, type ClusterClient } from '../apiserver/client.js';
import type { Informer } from '../client/informer.js';
import type { SharedInformers } from '../client/shared-informers.js';
import { ANN_SELECTED_NODE, classOfClaim, type PersistentVolume, type PersistentVolumeClaim, type StorageClass } from '../storage/storage-types.js';
import { findMatchingVolume, podClaimNames, volumeFitsNode } from '../storage/volume-matching.js';

export const REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
export const REASON_NODE_CONFLICT = 'node(s) had volume node affinity conflict';
export const REASON_PV_NOT_EXIST = 'pvc(s) bound to non-existent pv(s)';
export const UNBOUND_IMMEDIATE = 'pod has unbound immediate PersistentVolumeClaims';

/** What one pod's claims ask of the node it goes to. */
export interface PodVolumes {
  /** A reason no node can take the pod (upstream's PreFilter rejection). */
  rejected?: string;
  bound: PersistentVolume[];
  /** Unbound claims of WaitForFirstConsumer classes. */
  delayed: PersistentVolumeClaim[];
}

export interface NodeRef { name: string; labels: Readonly<Record<string, string>> }

export class VolumeBinding {
  readonly claims: Informer<PersistentVolumeClaim>;
  readonly volumes: Informer<PersistentVolume>;
  readonly classes: Informer<StorageClass>;

  constructor(informers: SharedInformers, private readonly client: ClusterClient, private readonly bindTimeoutMs = 120_000) {
    this.claims = informers.get<PersistentVolumeClaim>(R.persistentvolumeclaims);
    this.volumes = informers.get<PersistentVolume>(R.persistentvolumes);
    this.classes = informers.get<StorageClass>(R.storageclasses);
  }

  /** Binds waiting for their claims: woken by every claim event instead of polling. */
  private readonly claimWaiters = new Set<() => void>();

  start(onChange: () => void): void {
    for (const i of [this.claims, this.volumes, this.classes] as Informer[]) {
      i.on((type) => { if (type !== 'DELETED') onChange(); });
      i.start();
    }
    this.claims.on(() => { for (const wake of [...this.claimWaiters]) wake(); });
  }

  /** undefined when the pod mounts no claim. */
  forPod(pod: Pod): PodVolumes | undefined {
    const names = podClaimNames(pod.spec);
    if (names.length === 0) return undefined;
    const ns = pod.metadata.namespace;
    const out: PodVolumes = { bound: [], delayed: [] };
    for (const name of names) {
      const claim = this.claims.get(ns, name);
      if (!claim) return { ...out, rejected: `persistentvolumeclaim "${name}" not found` };
      if (claim.metadata.deletionTimestamp) return { ...out, rejected: `persistentvolumeclaim "${name}" is being deleted` };
      if (claim.spec.volumeName) {
        const pv = this.volumes.get(undefined, claim.spec.volumeName);
        if (!pv) return { ...out, rejected: REASON_PV_NOT_EXIST };
        out.bound.push(pv);
        continue;
      }
      const sc = this.classes.get(undefined, classOfClaim(claim));
      if (sc?.volumeBindingMode !== 'WaitForFirstConsumer') return { ...out, rejected: UNBOUND_IMMEDIATE };
      out.delayed.push(claim);
    }
    return out;
  }

  /** Why the node cannot take the pod's volumes, or undefined when it can. */
  filter(v: PodVolumes, node: NodeRef): string | undefined {
    for (const pv of v.bound) if (!volumeFitsNode(pv, node.labels, node.name)) return REASON_NODE_CONFLICT;
    const taken = new Set<string>();
    for (const claim of v.delayed) {
      const pv = findMatchingVolume(claim, this.volumes.list((x) => !taken.has(x.metadata.name!)), node);
      if (pv) { taken.add(pv.metadata.name!); continue; }
      const sc = this.classes.get(undefined, classOfClaim(claim));
      // A class without a provisioner can only be served by static volumes.
      if (!sc || sc.provisioner === 'kubernetes.io/no-provisioner') return REASON_BIND_CONFLICT;
    }
    return undefined;
  }

  /**
   * Binds the pod's delayed claims for the chosen node and waits until every claim is
   * Bound: static volumes get the claim reference (the volume controller finishes), the
   * others are annotated with the node for the provisioner.
   */
  async bindFor(v: PodVolumes, node: NodeRef, namespace: string): Promise<void> {
    const taken = new Set<string>();
    for (const claim of v.delayed) {
      const current = this.claims.get(namespace, claim.metadata.name!);
      if (!current || current.spec.volumeName) continue;
      const pv = findMatchingVolume(current, this.volumes.list((x) => !taken.has(x.metadata.name!)), node);
      if (pv) {
        taken.add(pv.metadata.name!);
        if (pv.spec.claimRef?.uid === current.metadata.uid) continue;
        const copy = structuredClone(pv) as PersistentVolume;
        copy.spec.claimRef = {
          kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace, name: current.metadata.name, uid: current.metadata.uid, resourceVersion: current.metadata.resourceVersion,
        };
        copy.metadata.annotations = { ...(copy.metadata.annotations ?? {}), 'pv.kubernetes.io/bound-by-controller': 'yes' };
        await this.client.update(R.persistentvolumes, copy);
      } else if (current.metadata.annotations?.[ANN_SELECTED_NODE] !== node.name) {
        await this.client.patch(R.persistentvolumeclaims, namespace, current.metadata.name!, { metadata: { annotations: { [ANN_SELECTED_NODE]: node.name } } });
      }
    }
    await this.claimsBound(v.delayed, namespace);
  }

  /** Resolves once every claim is Bound (checked on each claim event); rejects on a deleted claim or the timeout. */
  private claimsBound(claims: PersistentVolumeClaim[], namespace: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (err?: Error) => {
        this.claimWaiters.delete(check);
        clearTimeout(timer);
        if (err) reject(err); else resolve();
      };
      const check = () => {
        const current = claims.map((c) => this.claims.get(namespace, c.metadata.name!));
        if (current.some((c) => !c)) done(new Error('binding volumes: a claim was deleted'));
        else if (current.every((c) => c!.status?.phase === 'Bound')) done();
      };
      const timer = setTimeout(() => done(new Error('binding volumes: context deadline exceeded')), this.bindTimeoutMs);
      this.claimWaiters.add(check);
      check();
    });
  }
}

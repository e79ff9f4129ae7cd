// ownerReferences with controller=true: who controls an object, and the adopt/release
// dance (upstream's ControllerRefManager) for objects that match or stop matching.
import type { KubeObject, OwnerReference } from '../../protocol/kube/types.js';
import type { ClusterClient, ResourceRef } from '../apiserver/client.js';
import { ignoreNotFound } from '../client/api-errors.js';

export function controllerRefOf(obj: KubeObject): OwnerReference | undefined {
  return (obj.metadata.ownerReferences ?? []).find((r) => r.controller === true);
}

export function newControllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

export interface ClaimOptions<T extends KubeObject> {
  client: ClusterClient;
  /** Resource of the candidates (pods, replicasets...). */
  ref: ResourceRef;
  owner: KubeObject;
  ownerApiVersion: string;
  ownerKind: string;
  matches: (obj: T) => boolean;
  candidates: T[];
}

/**
 * Returns the candidates the owner controls after adopting orphans that match and
 * releasing owned objects that no longer match. An owner being deleted neither adopts
 * nor releases.
 */
export async function claimObjects<T extends KubeObject>(o: ClaimOptions<T>): Promise<T[]> {
  const ownerUid = o.owner.metadata.uid;
  const ownerDeleting = !!o.owner.metadata.deletionTimestamp;
  const claimed: T[] = [];
  for (const obj of o.candidates) {
    const ref = controllerRefOf(obj);
    if (ref) {
      if (ref.uid !== ownerUid) continue;
      if (o.matches(obj) || ownerDeleting) { claimed.push(obj); continue; }
      if (obj.metadata.deletionTimestamp) continue;
      await release(o.client, o.ref, obj, ownerUid!);
      continue;
    }
    if (ownerDeleting || obj.metadata.deletionTimestamp || !o.matches(obj)) continue;
    const adopted = await adopt(o.client, o.ref, obj, newControllerRef(o.owner, o.ownerApiVersion, o.ownerKind));
    if (adopted) claimed.push(adopted);
  }
  return claimed;
}

async function adopt<T extends KubeObject>(client: ClusterClient, ref: ResourceRef, obj: T, controller: OwnerReference): Promise<T | undefined> {
  const copy = structuredClone(obj);
  copy.metadata.ownerReferences = [...(copy.metadata.ownerReferences ?? []).filter((r) => r.uid !== controller.uid), controller];
  return ignoreNotFound(client.update<T>(ref, copy));
}

async function release(client: ClusterClient, ref: ResourceRef, obj: KubeObject, ownerUid: string): Promise<void> {
  const copy = structuredClone(obj);
  copy.metadata.ownerReferences = (copy.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
  await ignoreNotFound(client.update(ref, copy));
}

// The volumes behind a pod's PersistentVolumeClaims, resolved for its node: the agent
// cannot read claims or volumes itself, so they travel with the desired pod.
import type { Pod } from '../../protocol/kube/types.js';
import type { ClaimVolume } from '../../protocol/mqtt/payloads.js';
import { R } from '../apiserver/client.js';
import type { ObjectReader } from '../client/shared-informers.js';
import { isLocalPathVolume } from '../storage/local-path-provisioner.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../storage/storage-types.js';
import { podClaimNames } from '../storage/volume-matching.js';

function boundVolume(client: ObjectReader, namespace: string | undefined, claimName: string): PersistentVolume | undefined {
  const claim = client.get<PersistentVolumeClaim>(R.persistentvolumeclaims, namespace, claimName);
  if (!claim?.spec.volumeName) return undefined;
  const pv = client.get<PersistentVolume>(R.persistentvolumes, undefined, claim.spec.volumeName);
  return pv && pv.spec.claimRef?.uid === claim.metadata.uid ? pv : undefined;
}

/** Claim name → volume, for the claims that are bound; unbound ones are left out. */
export function claimVolumesOf(client: ObjectReader, pod: Pod): Record<string, ClaimVolume> | undefined {
  const names = podClaimNames(pod.spec);
  if (names.length === 0) return undefined;
  const out: Record<string, ClaimVolume> = {};
  for (const name of names) {
    const pv = boundVolume(client, pod.metadata.namespace, name);
    if (!pv) continue;
    const cv: ClaimVolume = { volumeName: pv.metadata.name! };
    if (pv.spec.hostPath) cv.path = pv.spec.hostPath.path;
    else if (pv.spec.local) cv.path = pv.spec.local.path;
    else if (pv.spec.nfs) cv.nfs = { server: pv.spec.nfs.server, path: pv.spec.nfs.path };
    else continue; // a volume type this cluster cannot mount
    if (pv.spec.hostPath && (isLocalPathVolume(pv) || pv.spec.hostPath.type === 'DirectoryOrCreate')) cv.create = true;
    if (pv.spec.nfs?.readOnly || (pv.spec.accessModes ?? []).every((m) => m === 'ReadOnlyMany')) cv.readOnly = true;
    if (pv.spec.mountOptions?.length) cv.mountOptions = [...pv.spec.mountOptions];
    out[name] = cv;
  }
  return out;
}

/** Changes whenever what claimVolumesOf returns might. */
export function claimVolumesKey(client: ObjectReader, pod: Pod): string {
  let key = '';
  for (const name of podClaimNames(pod.spec)) {
    const claim = client.get<PersistentVolumeClaim>(R.persistentvolumeclaims, pod.metadata.namespace, name);
    const pv = claim?.spec.volumeName ? client.get(R.persistentvolumes, undefined, claim.spec.volumeName) : undefined;
    key += `|v${claim?.metadata.uid ?? '-'}:${claim?.spec.volumeName ?? '-'}:${pv?.metadata.uid ?? '-'}:${JSON.stringify(pv?.spec ?? null)}`;
  }
  return key;
}

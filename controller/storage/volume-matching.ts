// Which PersistentVolume fits a claim, as upstream's FindMatchingVolume
// (pkg/controller/volume/persistentvolume/util): same class, every requested access mode,
// same volume mode, selector, at least the requested size; the smallest fit wins.
import { parseQuantity } from '../../protocol/kube/quantity.js';
import { selectorMatches } from '../../protocol/kube/labels.js';
import { termMatcher } from '../scheduler/node-affinity.js';
import { classOfClaim, classOfVolume, type PersistentVolume, type PersistentVolumeClaim } from './storage-types.js';

export function storageBytes(q: string | undefined): number {
  if (!q) return 0;
  try { return parseQuantity(q); } catch { return 0; }
}

/** Whether a node (labels and name) satisfies the volume's required node affinity. */
export function volumeFitsNode(pv: PersistentVolume, labels: Readonly<Record<string, string>>, nodeName: string): boolean {
  const terms = pv.spec.nodeAffinity?.required?.nodeSelectorTerms;
  if (!terms || terms.length === 0) return true;
  return terms.some((t) => termMatcher(t)(labels, nodeName));
}

/** A claim naming this volume, or free to take it. */
function claimRefAllows(pv: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const ref = pv.spec.claimRef;
  if (!ref) return true;
  return ref.namespace === claim.metadata.namespace && ref.name === claim.metadata.name && (!ref.uid || ref.uid === claim.metadata.uid);
}

export function volumeMatches(pv: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  if (pv.metadata.deletionTimestamp) return false;
  if (!claimRefAllows(pv, claim)) return false;
  // A volume once bound and released is not offered again (upstream: Released is not Available).
  if (pv.spec.claimRef?.uid && pv.spec.claimRef.uid !== claim.metadata.uid) return false;
  if (pv.status?.phase === 'Released' || pv.status?.phase === 'Failed') return false;
  if (classOfVolume(pv) !== classOfClaim(claim)) return false;
  if ((pv.spec.volumeMode ?? 'Filesystem') !== (claim.spec.volumeMode ?? 'Filesystem')) return false;
  const modes = pv.spec.accessModes ?? [];
  if (!(claim.spec.accessModes ?? []).every((m) => modes.includes(m))) return false;
  if (claim.spec.selector && !selectorMatches(claim.spec.selector, pv.metadata.labels)) return false;
  return storageBytes(pv.spec.capacity?.storage) >= storageBytes(claim.spec.resources?.requests?.storage);
}

/** The best volume for the claim; `node` limits it to volumes reachable from that node. */
export function findMatchingVolume(
  claim: PersistentVolumeClaim, volumes: readonly PersistentVolume[],
  node?: { name: string; labels: Readonly<Record<string, string>> },
): PersistentVolume | undefined {
  let best: PersistentVolume | undefined;
  for (const pv of volumes) {
    if (!volumeMatches(pv, claim)) continue;
    if (node && !volumeFitsNode(pv, node.labels, node.name)) continue;
    // A volume pre-bound to this claim is taken before any other.
    if (pv.spec.claimRef?.name === claim.metadata.name) return pv;
    if (!best || storageBytes(pv.spec.capacity?.storage) < storageBytes(best.spec.capacity?.storage)) best = pv;
  }
  return best;
}

/** Names of claims a pod mounts. */
export function podClaimNames(spec: { volumes?: { persistentVolumeClaim?: { claimName: string } }[] } | undefined): string[] {
  return (spec?.volumes ?? []).map((v) => v.persistentVolumeClaim?.claimName).filter((n): n is string => !!n);
}

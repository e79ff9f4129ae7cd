// The built-in provisioner behind the `local-path` class: a hostPath volume in the
// selected node's storage directory, pinned to that node (like k3s's local-path
// provisioner). The agent makes the directory when a pod first mounts it and removes it
// when the controller reclaims the volume.
import type { Node } from '../../protocol/kube/types.js';
import { ANN_PROVISIONED_BY, ANN_STORAGE_DIR, type PersistentVolume, type PersistentVolumeClaim, type StorageClass } from './storage-types.js';
import { LOCAL_PATH_PROVISIONER } from './local-path-class.js';

/** Removes a directory on a node (through its agent); rejects when the node cannot be reached. */
export interface VolumeHost {
  removeDirectory(node: string, path: string): Promise<void>;
}

export class ProvisioningError extends Error {}

export const provisionedVolumeName = (claim: PersistentVolumeClaim): string => `pvc-${claim.metadata.uid}`;

export function localPathVolume(claim: PersistentVolumeClaim, sc: StorageClass, node: Node): PersistentVolume {
  const nodeName = node.metadata.name!;
  const dir = node.metadata.annotations?.[ANN_STORAGE_DIR];
  if (!dir) throw new ProvisioningError(`node "${nodeName}" has not reported a storage directory yet`);
  const name = provisionedVolumeName(claim);
  const ns = claim.metadata.namespace!;
  return {
    apiVersion: 'v1', kind: 'PersistentVolume',
    metadata: { name, annotations: { [ANN_PROVISIONED_BY]: LOCAL_PATH_PROVISIONER, 'local.path.provisioner/selected-node': nodeName } },
    spec: {
      capacity: { storage: claim.spec.resources?.requests?.storage ?? '0' },
      accessModes: [...(claim.spec.accessModes ?? ['ReadWriteOnce'])],
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
      storageClassName: sc.metadata.name,
      volumeMode: claim.spec.volumeMode ?? 'Filesystem',
      claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: ns, name: claim.metadata.name, uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion },
      hostPath: { path: `${dir.replace(/\/+$/, '')}/${name}_${ns}_${claim.metadata.name}`, type: 'DirectoryOrCreate' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [nodeName] }] }] } },
    },
  };
}

/** The node a local-path volume lives on. */
export function volumeNode(pv: PersistentVolume): string | undefined {
  const fromAnnotation = pv.metadata.annotations?.['local.path.provisioner/selected-node'];
  if (fromAnnotation) return fromAnnotation;
  for (const t of pv.spec.nodeAffinity?.required?.nodeSelectorTerms ?? []) {
    for (const e of t.matchExpressions ?? []) if (e.key === 'kubernetes.io/hostname' && e.operator === 'In' && e.values?.length === 1) return e.values[0];
  }
  return undefined;
}

export const isLocalPathVolume = (pv: PersistentVolume): boolean => pv.metadata.annotations?.[ANN_PROVISIONED_BY] === LOCAL_PATH_PROVISIONER;

// The storage kinds as the controller reads them: core/v1 PersistentVolume and
// PersistentVolumeClaim, storage.k8s.io/v1 StorageClass.
import type { KubeObject, LabelSelector } from '../../protocol/kube/types.js';
import type { NodeSelectorTerm } from '../scheduler/node-affinity.js';

export interface ClaimRef { kind?: string; apiVersion?: string; namespace?: string; name?: string; uid?: string; resourceVersion?: string }

export interface PersistentVolume extends KubeObject {
  spec: {
    capacity?: { storage?: string };
    accessModes?: string[];
    persistentVolumeReclaimPolicy?: 'Retain' | 'Delete' | 'Recycle';
    storageClassName?: string;
    volumeMode?: string;
    claimRef?: ClaimRef;
    nodeAffinity?: { required?: { nodeSelectorTerms?: NodeSelectorTerm[] } };
    hostPath?: { path: string; type?: string };
    local?: { path: string };
    nfs?: { server: string; path: string; readOnly?: boolean };
    mountOptions?: string[];
  };
  status?: { phase?: string; reason?: string; message?: string; lastPhaseTransitionTime?: string };
}

export interface PersistentVolumeClaim extends KubeObject {
  spec: {
    accessModes?: string[];
    resources?: { requests?: { storage?: string }; limits?: { storage?: string } };
    storageClassName?: string;
    volumeName?: string;
    volumeMode?: string;
    selector?: LabelSelector;
  };
  status?: { phase?: string; accessModes?: string[]; capacity?: { storage?: string }; conditions?: unknown[] };
}

export interface StorageClass extends KubeObject {
  provisioner: string;
  reclaimPolicy?: 'Retain' | 'Delete';
  volumeBindingMode?: 'Immediate' | 'WaitForFirstConsumer';
  parameters?: Record<string, string>;
  mountOptions?: string[];
}

/** Upstream's annotations and finalizers (pkg/controller/volume/persistentvolume/util). */
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
export const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';
/** Where an agent keeps local-path volumes; reported on its Node. */
export const ANN_STORAGE_DIR = 'pikube.io/storage-dir';

export const classOfClaim = (c: PersistentVolumeClaim): string => c.spec.storageClassName ?? '';
export const classOfVolume = (v: PersistentVolume): string => v.spec.storageClassName ?? '';

// The storage kinds as the controller reads them: core/v1 PersistentVolume and
// PersistentVolumeClaim, storage.k8s.io/v1 StorageClass.
import type { PersistentVolume, PersistentVolumeClaim } from '../../protocol/kube/types.js';

export type { ClaimRef, PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../protocol/kube/types.js';

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

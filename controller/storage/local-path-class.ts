// The `local-path` StorageClass every cluster starts with, like k3s ships: the default
// class, bound when a pod needs it, served by the built-in provisioner.
import type { KubeObject } from '../../protocol/kube/types.js';

export const LOCAL_PATH_CLASS = 'local-path';
export const LOCAL_PATH_PROVISIONER = 'pikube.io/local-path';

export function localPathStorageClass(): KubeObject {
  return {
    apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass',
    metadata: { name: LOCAL_PATH_CLASS, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  };
}

// storage.k8s.io/v1 StorageClass: how claims of a class are provisioned (pkg/registry/storage/storageclass).
import { defaultStorageClassObject } from '../../admission/storage-defaults.js';
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { storageClassPrinter } from '../../tables/storage-printers.js';

export const storageClass: KindDefinition = {
  group: 'storage.k8s.io', version: 'v1', kind: 'StorageClass', resource: 'storageclasses', scope: 'Cluster',
  shortNames: ['sc'],
  strategy: PLAIN,
  defaults: defaultStorageClassObject,
  printer: storageClassPrinter,
};

// v1 PersistentVolumeClaim: a pod's request for storage (pkg/registry/core/persistentvolumeclaim).
import { type KindDefinition, WITH_STATUS } from '../kind-definition.js';
import { conditionsByType, nested, objectMeta } from '../../patch/patch-meta.js';
import { persistentVolumeClaimPrinter } from '../../tables/storage-printers.js';
import { dns1123Subdomain } from '../../validation/names.js';
import { spec, specUpdate } from '../../validation/spec-rules.js';
import { validateClaimSpec, validateClaimSpecUpdate } from '../../validation/storage-validation.js';

export const persistentVolumeClaim: KindDefinition = {
  group: '', version: 'v1', kind: 'PersistentVolumeClaim', resource: 'persistentvolumeclaims', scope: 'Namespaced',
  shortNames: ['pvc'],
  subresources: ['status'],
  strategy: WITH_STATUS,
  // Defaults need the store (the default StorageClass): admission/storage-defaults.ts.
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending' };
  },
  printer: persistentVolumeClaimPrinter,
  patch: { metadata: nested(objectMeta), status: nested(conditionsByType) },
  validation: { name: dns1123Subdomain, create: spec(validateClaimSpec), update: specUpdate(validateClaimSpecUpdate) },
};

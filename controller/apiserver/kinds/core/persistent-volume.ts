// v1 PersistentVolume: a piece of storage claims bind to (pkg/registry/core/persistentvolume).
import { defaultVolume } from '../../admission/storage-defaults.js';
import { type KindDefinition, WITH_STATUS } from '../kind-definition.js';
import { persistentVolumePrinter } from '../../tables/storage-printers.js';
import { dns1123Subdomain } from '../../validation/names.js';
import { spec } from '../../validation/spec-rules.js';
import { validateVolumeSpec } from '../../validation/storage-validation.js';

export const persistentVolume: KindDefinition = {
  group: '', version: 'v1', kind: 'PersistentVolume', resource: 'persistentvolumes', scope: 'Cluster',
  shortNames: ['pv'],
  subresources: ['status'],
  strategy: WITH_STATUS,
  defaults: defaultVolume,
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending' };
  },
  printer: persistentVolumePrinter,
  validation: { name: dns1123Subdomain, create: spec(validateVolumeSpec), update: spec(validateVolumeSpec) },
};

// v1 ConfigMap: configuration data for pods (pkg/registry/core/configmap).
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { METADATA_ONLY } from '../../patch/patch-meta.js';
import { configMapPrinter } from '../../tables/core.js';
import { validateDataKeys } from '../../validation/data-keys.js';
import { dns1123Subdomain } from '../../validation/names.js';

export const configMap: KindDefinition = {
  group: '', version: 'v1', kind: 'ConfigMap', resource: 'configmaps', scope: 'Namespaced',
  shortNames: ['cm'],
  strategy: PLAIN,
  printer: configMapPrinter,
  protobuf: { message: 'core/v1.ConfigMap' },
  patch: METADATA_ONLY,
  validation: { name: dns1123Subdomain, create: (o) => validateDataKeys(o, ['data', 'binaryData']) },
};

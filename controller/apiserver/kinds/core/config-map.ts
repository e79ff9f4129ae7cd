// v1 ConfigMap: configuration data for pods (pkg/registry/core/configmap).
import { PTR } from '../../protobuf/message-table.js';
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { METADATA_ONLY } from '../../patch/patch-meta.js';
import { configMapPrinter } from '../../tables/core-printers.js';
import { validateDataKeys } from '../../validation/data-keys.js';
import { dns1123Subdomain } from '../../validation/names.js';

export const configMap: KindDefinition = {
  group: '', version: 'v1', kind: 'ConfigMap', resource: 'configmaps', scope: 'Namespaced',
  shortNames: ['cm'],
  strategy: PLAIN,
  printer: configMapPrinter,
  protobuf: {
    message: 'core/v1.ConfigMap',
    // Field numbers from k8s.io/api/core/v1/generated.proto.
    messages: {
      'core/v1.ConfigMap': {
        1: ['metadata', 'meta/v1.ObjectMeta'],
        2: ['data', 'map:string'],
        3: ['binaryData', 'map:bytes'],
        4: ['immutable', 'bool', PTR],
      },
    },
  },
  patch: METADATA_ONLY,
  validation: { name: dns1123Subdomain, create: (o) => validateDataKeys(o, ['data', 'binaryData']) },
};

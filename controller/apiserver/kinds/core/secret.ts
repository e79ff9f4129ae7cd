// v1 Secret: credentials and keys for pods (pkg/registry/core/secret).
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { METADATA_ONLY } from '../../patch/patch-meta.js';
import { secretPrinter } from '../../tables/core.js';
import { validateDataKeys } from '../../validation/data-keys.js';
import { dns1123Subdomain } from '../../validation/names.js';

export const secret: KindDefinition = {
  group: '', version: 'v1', kind: 'Secret', resource: 'secrets', scope: 'Namespaced',
  strategy: PLAIN,
  printer: secretPrinter,
  protobuf: { message: 'core/v1.Secret' },
  patch: METADATA_ONLY,
  validation: { name: dns1123Subdomain, create: (o) => validateDataKeys(o, ['data', 'stringData']) },
};

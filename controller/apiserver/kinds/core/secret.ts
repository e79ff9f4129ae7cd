// v1 Secret: credentials and keys for pods (pkg/registry/core/secret).
import { PTR } from '../../protobuf/message-table.js';
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { METADATA_ONLY } from '../../patch/patch-meta.js';
import { secretPrinter } from '../../tables/core-printers.js';
import { validateDataKeys } from '../../validation/data-keys.js';
import { dns1123Subdomain } from '../../validation/names.js';

export const secret: KindDefinition = {
  group: '', version: 'v1', kind: 'Secret', resource: 'secrets', scope: 'Namespaced',
  strategy: PLAIN,
  defaults(obj) {
    obj.type ??= 'Opaque';
    // stringData is write-only: it is merged into data, base64-encoded.
    const stringData = obj.stringData as Record<string, string> | undefined;
    if (stringData && typeof stringData === 'object') {
      const data = (obj.data ??= {}) as Record<string, string>;
      for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
      delete obj.stringData;
    }
  },
  printer: secretPrinter,
  protobuf: {
    message: 'core/v1.Secret',
    // Field numbers from k8s.io/api/core/v1/generated.proto.
    messages: {
      'core/v1.Secret': {
        1: ['metadata', 'meta/v1.ObjectMeta'],
        2: ['data', 'map:bytes'],
        3: ['type', 'string'],
        4: ['stringData', 'map:string'],
        5: ['immutable', 'bool', PTR],
      },
    },
  },
  patch: METADATA_ONLY,
  validation: { name: dns1123Subdomain, create: (o) => validateDataKeys(o, ['data', 'stringData']) },
};

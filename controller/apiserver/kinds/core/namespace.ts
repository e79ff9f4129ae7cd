// v1 Namespace: a scope for names; deleting one empties it first (pkg/registry/core/namespace).
import { type KindDefinition, WITH_STATUS } from '../kind-definition.js';
import { conditionsByType, nested, objectMeta } from '../../patch/patch-meta.js';
import { namespacePrinter } from '../../tables/core.js';
import { dns1123Label } from '../../validation/names.js';

export const namespace: KindDefinition = {
  group: '', version: 'v1', kind: 'Namespace', resource: 'namespaces', scope: 'Cluster',
  shortNames: ['ns'],
  subresources: ['status', 'finalize'],
  strategy: WITH_STATUS,
  printer: namespacePrinter,
  protobuf: { message: 'core/v1.Namespace' },
  patch: { metadata: nested(objectMeta), status: nested(conditionsByType) },
  validation: { name: dns1123Label },
};

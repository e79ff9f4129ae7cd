// v1 Service: a stable address for a set of pods (pkg/registry/core/service).
import { type KindDefinition, WITH_STATUS } from '../kind-definition.js';
import { conditionsByType, mergeBy, nested, objectMeta } from '../../patch/patch-meta.js';
import { servicePrinter } from '../../tables/networking.js';
import { dns1123Label } from '../../validation/names.js';
import { validateServiceSpec, validateServiceSpecUpdate } from '../../validation/service.js';
import { spec, specUpdate } from '../../validation/spec-rules.js';

export const service: KindDefinition = {
  group: '', version: 'v1', kind: 'Service', resource: 'services', scope: 'Namespaced',
  shortNames: ['svc'],
  categories: ['all'],
  subresources: ['status'],
  strategy: WITH_STATUS,
  printer: servicePrinter,
  protobuf: { message: 'core/v1.Service' },
  patch: { metadata: nested(objectMeta), spec: nested({ ports: mergeBy('port') }), status: nested(conditionsByType) },
  validation: { name: dns1123Label, create: spec(validateServiceSpec), update: specUpdate(validateServiceSpecUpdate) },
};

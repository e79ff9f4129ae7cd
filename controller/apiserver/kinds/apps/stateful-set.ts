// apps/v1 StatefulSet: ordered pods with stable names and claims (pkg/registry/apps/statefulset).
import { defaultStatefulSet } from '../../admission/storage-defaults.js';
import { type KindDefinition, WORKLOAD } from '../kind-definition.js';
import { conditionsByType, nested, objectMeta, podTemplateSpec } from '../../patch/patch-meta.js';
import { statefulSetPrinter } from '../../tables/storage-printers.js';
import { dns1123Label } from '../../validation/names.js';
import { spec, specUpdate } from '../../validation/spec-rules.js';
import { validateStatefulSetSpec, validateStatefulSetSpecUpdate } from '../../validation/storage-validation.js';

export const statefulSet: KindDefinition = {
  group: 'apps', version: 'v1', kind: 'StatefulSet', resource: 'statefulsets', scope: 'Namespaced',
  shortNames: ['sts'],
  categories: ['all'],
  subresources: ['status', 'scale'],
  strategy: WORKLOAD,
  defaults: defaultStatefulSet,
  prepareForCreate(obj) {
    obj.status = {};
  },
  printer: statefulSetPrinter,
  patch: { metadata: nested(objectMeta), spec: nested({ template: nested(podTemplateSpec) }), status: nested(conditionsByType) },
  validation: { name: dns1123Label, create: spec(validateStatefulSetSpec), update: specUpdate(validateStatefulSetSpecUpdate) },
};

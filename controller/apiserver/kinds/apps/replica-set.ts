// apps/v1 ReplicaSet: a number of identical pods (pkg/registry/apps/replicaset).
import { type KindDefinition, WORKLOAD } from '../kind-definition.js';
import { conditionsByType, nested, objectMeta, podTemplateSpec } from '../../patch/patch-meta.js';
import { replicaSetPrinter } from '../../tables/apps.js';
import { dns1123Subdomain } from '../../validation/names.js';
import { spec, specUpdate } from '../../validation/spec-rules.js';
import { validateReplicaSetSpec, validateSelectorUpdate } from '../../validation/workloads.js';

export const replicaSet: KindDefinition = {
  group: 'apps', version: 'v1', kind: 'ReplicaSet', resource: 'replicasets', scope: 'Namespaced',
  shortNames: ['rs'],
  categories: ['all'],
  subresources: ['status', 'scale'],
  strategy: WORKLOAD,
  printer: replicaSetPrinter,
  protobuf: { message: 'apps/v1.ReplicaSet' },
  patch: { metadata: nested(objectMeta), spec: nested({ template: nested(podTemplateSpec) }), status: nested(conditionsByType) },
  validation: { name: dns1123Subdomain, create: spec(validateReplicaSetSpec), update: specUpdate(validateSelectorUpdate) },
};

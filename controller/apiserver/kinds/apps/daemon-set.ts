// apps/v1 DaemonSet: one pod per fitting node (pkg/registry/apps/daemonset).
import { type KindDefinition, WORKLOAD } from '../kind-definition.js';
import { conditionsByType, nested, objectMeta, podTemplateSpec } from '../../patch/patch-meta.js';
import { daemonSetPrinter } from '../../tables/apps.js';
import { dns1123Subdomain } from '../../validation/names.js';
import { spec, specUpdate } from '../../validation/spec-rules.js';
import { validateDaemonSetSpec, validateSelectorUpdate } from '../../validation/workloads.js';

export const daemonSet: KindDefinition = {
  group: 'apps', version: 'v1', kind: 'DaemonSet', resource: 'daemonsets', scope: 'Namespaced',
  shortNames: ['ds'],
  categories: ['all'],
  subresources: ['status'],
  strategy: WORKLOAD,
  printer: daemonSetPrinter,
  protobuf: { message: 'apps/v1.DaemonSet' },
  patch: { metadata: nested(objectMeta), spec: nested({ template: nested(podTemplateSpec) }), status: nested(conditionsByType) },
  validation: { name: dns1123Subdomain, create: spec(validateDaemonSetSpec), update: specUpdate(validateSelectorUpdate) },
};

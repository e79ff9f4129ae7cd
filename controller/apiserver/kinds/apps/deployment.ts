// apps/v1 Deployment: rolling updates over ReplicaSets (pkg/registry/apps/deployment).
import { type KindDefinition, WORKLOAD } from '../kind-definition.js';
import { conditionsByType, nested, objectMeta, podTemplateSpec } from '../../patch/patch-meta.js';
import { deploymentPrinter } from '../../tables/apps.js';
import { dns1123Subdomain } from '../../validation/names.js';
import { spec, specUpdate } from '../../validation/spec-rules.js';
import { validateDeploymentSpec, validateSelectorUpdate } from '../../validation/workloads.js';

export const deployment: KindDefinition = {
  group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', scope: 'Namespaced',
  shortNames: ['deploy'],
  categories: ['all'],
  subresources: ['status', 'scale'],
  strategy: WORKLOAD,
  printer: deploymentPrinter,
  protobuf: { message: 'apps/v1.Deployment' },
  patch: {
    metadata: nested(objectMeta),
    spec: nested({ template: nested(podTemplateSpec), strategy: { strategy: 'retainKeys' } }),
    status: nested(conditionsByType),
  },
  validation: { name: dns1123Subdomain, create: spec(validateDeploymentSpec), update: specUpdate(validateSelectorUpdate) },
};

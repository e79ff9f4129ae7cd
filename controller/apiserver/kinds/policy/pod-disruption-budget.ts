// policy/v1 PodDisruptionBudget: how many pods voluntary evictions may take (pkg/registry/policy/poddisruptionbudget).
import { PTR } from '../../protobuf/message-table.js';
import { type KindDefinition, WORKLOAD } from '../kind-definition.js';
import { podDisruptionBudgetPrinter } from '../../tables/batch-printers.js';
import { validatePdbSpec } from '../../validation/batch-validation.js';
import { dns1123Subdomain } from '../../validation/names.js';
import { spec } from '../../validation/spec-rules.js';

export const podDisruptionBudget: KindDefinition = {
  group: 'policy', version: 'v1', kind: 'PodDisruptionBudget', resource: 'poddisruptionbudgets', scope: 'Namespaced',
  shortNames: ['pdb'],
  subresources: ['status'],
  strategy: WORKLOAD,
  prepareForCreate(obj) {
    obj.status = {};
  },
  printer: podDisruptionBudgetPrinter,
  protobuf: {
    message: 'policy/v1.PodDisruptionBudget',
    // Field numbers from k8s.io/api/policy/v1/generated.proto.
    messages: {
      'policy/v1.PodDisruptionBudget': {
        1: ['metadata', 'meta/v1.ObjectMeta'],
        2: ['spec', 'policy/v1.PodDisruptionBudgetSpec'],
      },
      'policy/v1.PodDisruptionBudgetSpec': {
        1: ['minAvailable', 'IntOrString', PTR],
        2: ['selector', 'meta/v1.LabelSelector', PTR],
        3: ['maxUnavailable', 'IntOrString', PTR],
        4: ['unhealthyPodEvictionPolicy', 'string', PTR],
      },
    },
  },
  validation: { name: dns1123Subdomain, create: spec(validatePdbSpec), update: spec(validatePdbSpec) },
};

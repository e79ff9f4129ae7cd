// policy/v1 PodDisruptionBudget: how many pods voluntary evictions may take (pkg/registry/policy/poddisruptionbudget).
import { type KindDefinition, WORKLOAD } from '../kind-definition.js';
import { podDisruptionBudgetPrinter } from '../../tables/batch.js';
import { validatePdbSpec } from '../../validation/batch.js';
import { dns1123Subdomain } from '../../validation/names.js';
import { spec } from '../../validation/spec-rules.js';

export const podDisruptionBudget: KindDefinition = {
  group: 'policy', version: 'v1', kind: 'PodDisruptionBudget', resource: 'poddisruptionbudgets', scope: 'Namespaced',
  shortNames: ['pdb'],
  subresources: ['status'],
  strategy: WORKLOAD,
  printer: podDisruptionBudgetPrinter,
  protobuf: { message: 'policy/v1.PodDisruptionBudget' },
  validation: { name: dns1123Subdomain, create: spec(validatePdbSpec), update: spec(validatePdbSpec) },
};

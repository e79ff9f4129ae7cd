// autoscaling/v2 HorizontalPodAutoscaler (pkg/registry/autoscaling/horizontalpodautoscaler).
// Stored and served as v2; the v1 form is converted in hpa-v1.ts, and protobuf bodies
// of it are known in protobuf/kinds.ts with the other kinds outside this registry.
import { defaultHpa } from '../../admission/batch-defaults.js';
import { type KindDefinition, WITH_STATUS } from '../kind-definition.js';
import { horizontalPodAutoscalerPrinter } from '../../tables/batch-printers.js';
import { validateHpaSpec } from '../../validation/batch-validation.js';
import { dns1123Subdomain } from '../../validation/names.js';
import { spec } from '../../validation/spec-rules.js';

export const horizontalPodAutoscaler: KindDefinition = {
  group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler', resource: 'horizontalpodautoscalers', scope: 'Namespaced',
  shortNames: ['hpa'],
  categories: ['all'],
  subresources: ['status'],
  strategy: WITH_STATUS,
  defaults: defaultHpa,
  prepareForCreate(obj) {
    obj.status = {};
  },
  printer: horizontalPodAutoscalerPrinter,
  validation: { name: dns1123Subdomain, create: spec(validateHpaSpec), update: spec(validateHpaSpec) },
};

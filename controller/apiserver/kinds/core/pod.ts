// v1 Pod: containers run together on one node (pkg/registry/core/pod).
import { type KindDefinition, WORKLOAD } from '../kind-definition.js';
import { mergeBy, nested, objectMeta, podSpec } from '../../patch/patch-meta.js';
import { podPrinter } from '../../tables/pods.js';
import { dns1123Subdomain } from '../../validation/names.js';
import { validatePodSpec, validatePodSpecUpdate } from '../../validation/pod.js';
import { spec, specUpdate } from '../../validation/spec-rules.js';

export const pod: KindDefinition = {
  group: '', version: 'v1', kind: 'Pod', resource: 'pods', scope: 'Namespaced',
  shortNames: ['po'],
  categories: ['all'],
  subresources: ['status', 'binding', 'log', 'exec', 'eviction'],
  strategy: WORKLOAD,
  printer: podPrinter,
  protobuf: { message: 'core/v1.Pod' },
  patch: {
    metadata: nested(objectMeta),
    spec: nested(podSpec),
    status: nested({
      conditions: mergeBy('type'),
      hostIPs: mergeBy('ip'),
      podIPs: mergeBy('ip'),
      resourceClaimStatuses: { strategy: 'merge,retainKeys', mergeKey: 'name' },
    }),
  },
  validation: { name: dns1123Subdomain, create: spec(validatePodSpec), update: specUpdate(validatePodSpecUpdate) },
};

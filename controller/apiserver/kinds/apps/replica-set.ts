// apps/v1 ReplicaSet: a number of identical pods (pkg/registry/apps/replicaset).
import type { ReplicaSetSpec } from '../../../../protocol/kube/types.js';
import { REP, PTR } from '../../protobuf/message-table.js';
import { defaultPodTemplate } from '../../admission/pod-defaults.js';
import { type KindDefinition, WORKLOAD } from '../kind-definition.js';
import { conditionsByType, nested, objectMeta, podTemplateSpec } from '../../patch/patch-meta.js';
import { replicaSetPrinter } from '../../tables/apps-printers.js';
import { dns1123Subdomain } from '../../validation/names.js';
import { spec, specUpdate } from '../../validation/spec-rules.js';
import { validateReplicaSetSpec, validateSelectorUpdate } from '../../validation/workload-validation.js';

export const replicaSet: KindDefinition = {
  group: 'apps', version: 'v1', kind: 'ReplicaSet', resource: 'replicasets', scope: 'Namespaced',
  shortNames: ['rs'],
  categories: ['all'],
  subresources: ['status', 'scale'],
  strategy: WORKLOAD,
  defaults(obj) {
    const spec = (obj.spec ??= {}) as Partial<ReplicaSetSpec>;
    spec.replicas ??= 1;
    defaultPodTemplate(spec.template);
  },
  prepareForCreate(obj) {
    obj.status = {};
  },
  printer: replicaSetPrinter,
  protobuf: {
    message: 'apps/v1.ReplicaSet',
    // Field numbers from k8s.io/api/apps/v1/generated.proto.
    messages: {
      'apps/v1.ReplicaSet': {
        1: ['metadata', 'meta/v1.ObjectMeta'],
        2: ['spec', 'apps/v1.ReplicaSetSpec'],
        3: ['status', 'apps/v1.ReplicaSetStatus'],
      },
      'apps/v1.ReplicaSetCondition': {
        1: ['type', 'string'],
        2: ['status', 'string'],
        3: ['lastTransitionTime', 'Time'],
        4: ['reason', 'string'],
        5: ['message', 'string'],
      },
      'apps/v1.ReplicaSetSpec': {
        1: ['replicas', 'int32', PTR],
        2: ['selector', 'meta/v1.LabelSelector', PTR],
        3: ['template', 'core/v1.PodTemplateSpec'],
        4: ['minReadySeconds', 'int32'],
      },
      'apps/v1.ReplicaSetStatus': {
        1: ['replicas', 'int32'],
        2: ['fullyLabeledReplicas', 'int32'],
        3: ['observedGeneration', 'int64'],
        4: ['readyReplicas', 'int32'],
        5: ['availableReplicas', 'int32'],
        6: ['conditions', 'apps/v1.ReplicaSetCondition', REP],
        7: ['terminatingReplicas', 'int32', PTR],
      },
    },
  },
  patch: { metadata: nested(objectMeta), spec: nested({ template: nested(podTemplateSpec) }), status: nested(conditionsByType) },
  validation: { name: dns1123Subdomain, create: spec(validateReplicaSetSpec), update: specUpdate(validateSelectorUpdate) },
};

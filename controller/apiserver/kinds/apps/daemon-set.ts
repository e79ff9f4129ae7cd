// apps/v1 DaemonSet: one pod per fitting node (pkg/registry/apps/daemonset).
import type { DaemonSetSpec } from '../../../../protocol/kube/types.js';
import { REP, PTR } from '../../protobuf/message-table.js';
import { defaultPodTemplate } from '../../admission/pod-defaults.js';
import { type KindDefinition, WORKLOAD } from '../kind-definition.js';
import { conditionsByType, nested, objectMeta, podTemplateSpec } from '../../patch/patch-meta.js';
import { daemonSetPrinter } from '../../tables/apps-printers.js';
import { dns1123Subdomain } from '../../validation/names.js';
import { spec, specUpdate } from '../../validation/spec-rules.js';
import { validateDaemonSetSpec, validateSelectorUpdate } from '../../validation/workload-validation.js';

export const daemonSet: KindDefinition = {
  group: 'apps', version: 'v1', kind: 'DaemonSet', resource: 'daemonsets', scope: 'Namespaced',
  shortNames: ['ds'],
  categories: ['all'],
  subresources: ['status'],
  strategy: WORKLOAD,
  defaults(obj) {
    const spec = (obj.spec ??= {}) as Partial<DaemonSetSpec>;
    spec.updateStrategy ??= { type: 'RollingUpdate' };
    if (spec.updateStrategy.type === 'RollingUpdate') spec.updateStrategy.rollingUpdate = { maxUnavailable: 1, maxSurge: 0, ...(spec.updateStrategy.rollingUpdate ?? {}) };
    spec.revisionHistoryLimit ??= 10;
    defaultPodTemplate(spec.template);
  },
  prepareForCreate(obj) {
    obj.status = {};
  },
  printer: daemonSetPrinter,
  protobuf: {
    message: 'apps/v1.DaemonSet',
    // Field numbers from k8s.io/api/apps/v1/generated.proto.
    messages: {
      'apps/v1.DaemonSet': {
        1: ['metadata', 'meta/v1.ObjectMeta'],
        2: ['spec', 'apps/v1.DaemonSetSpec'],
        3: ['status', 'apps/v1.DaemonSetStatus'],
      },
      'apps/v1.DaemonSetCondition': {
        1: ['type', 'string'],
        2: ['status', 'string'],
        3: ['lastTransitionTime', 'Time'],
        4: ['reason', 'string'],
        5: ['message', 'string'],
      },
      'apps/v1.DaemonSetSpec': {
        1: ['selector', 'meta/v1.LabelSelector', PTR],
        2: ['template', 'core/v1.PodTemplateSpec'],
        3: ['updateStrategy', 'apps/v1.DaemonSetUpdateStrategy'],
        4: ['minReadySeconds', 'int32'],
        6: ['revisionHistoryLimit', 'int32', PTR],
      },
      'apps/v1.DaemonSetStatus': {
        1: ['currentNumberScheduled', 'int32'],
        2: ['numberMisscheduled', 'int32'],
        3: ['desiredNumberScheduled', 'int32'],
        4: ['numberReady', 'int32'],
        5: ['observedGeneration', 'int64'],
        6: ['updatedNumberScheduled', 'int32'],
        7: ['numberAvailable', 'int32'],
        8: ['numberUnavailable', 'int32'],
        9: ['collisionCount', 'int32', PTR],
        10: ['conditions', 'apps/v1.DaemonSetCondition', REP],
      },
      'apps/v1.DaemonSetUpdateStrategy': {
        1: ['type', 'string'],
        2: ['rollingUpdate', 'apps/v1.RollingUpdateDaemonSet', PTR],
      },
      'apps/v1.RollingUpdateDaemonSet': {
        1: ['maxUnavailable', 'IntOrString', PTR],
        2: ['maxSurge', 'IntOrString', PTR],
      },
    },
  },
  patch: { metadata: nested(objectMeta), spec: nested({ template: nested(podTemplateSpec) }), status: nested(conditionsByType) },
  validation: { name: dns1123Subdomain, create: spec(validateDaemonSetSpec), update: specUpdate(validateSelectorUpdate) },
};

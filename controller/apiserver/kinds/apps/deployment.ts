// apps/v1 Deployment: rolling updates over ReplicaSets (pkg/registry/apps/deployment).
import type { DeploymentSpec } from '../../../../protocol/kube/types.js';
import { REP, PTR } from '../../protobuf/message-table.js';
import { defaultPodTemplate } from '../../admission/pod-defaults.js';
import { type KindDefinition, WORKLOAD } from '../kind-definition.js';
import { conditionsByType, nested, objectMeta, podTemplateSpec } from '../../patch/patch-meta.js';
import { deploymentPrinter } from '../../tables/apps-printers.js';
import { dns1123Subdomain } from '../../validation/names.js';
import { spec, specUpdate } from '../../validation/spec-rules.js';
import { validateDeploymentSpec, validateSelectorUpdate } from '../../validation/workload-validation.js';

export const deployment: KindDefinition = {
  group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', scope: 'Namespaced',
  shortNames: ['deploy'],
  categories: ['all'],
  subresources: ['status', 'scale'],
  strategy: WORKLOAD,
  defaults(obj) {
    const spec = (obj.spec ??= {}) as Partial<DeploymentSpec>;
    spec.replicas ??= 1;
    spec.strategy ??= { type: 'RollingUpdate' };
    if ((spec.strategy.type ?? 'RollingUpdate') === 'RollingUpdate') {
      spec.strategy.type = 'RollingUpdate';
      spec.strategy.rollingUpdate = { maxUnavailable: '25%', maxSurge: '25%', ...(spec.strategy.rollingUpdate ?? {}) };
    }
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
    defaultPodTemplate(spec.template);
  },
  prepareForCreate(obj) {
    obj.status = {};
  },
  printer: deploymentPrinter,
  protobuf: {
    message: 'apps/v1.Deployment',
    // Field numbers from k8s.io/api/apps/v1/generated.proto.
    messages: {
      'apps/v1.Deployment': {
        1: ['metadata', 'meta/v1.ObjectMeta'],
        2: ['spec', 'apps/v1.DeploymentSpec'],
        3: ['status', 'apps/v1.DeploymentStatus'],
      },
      'apps/v1.DeploymentCondition': {
        1: ['type', 'string'],
        2: ['status', 'string'],
        4: ['reason', 'string'],
        5: ['message', 'string'],
        6: ['lastUpdateTime', 'Time'],
        7: ['lastTransitionTime', 'Time'],
      },
      'apps/v1.DeploymentSpec': {
        1: ['replicas', 'int32', PTR],
        2: ['selector', 'meta/v1.LabelSelector', PTR],
        3: ['template', 'core/v1.PodTemplateSpec'],
        4: ['strategy', 'apps/v1.DeploymentStrategy'],
        5: ['minReadySeconds', 'int32'],
        6: ['revisionHistoryLimit', 'int32', PTR],
        7: ['paused', 'bool'],
        9: ['progressDeadlineSeconds', 'int32', PTR],
      },
      'apps/v1.DeploymentStatus': {
        1: ['observedGeneration', 'int64'],
        2: ['replicas', 'int32'],
        3: ['updatedReplicas', 'int32'],
        4: ['availableReplicas', 'int32'],
        5: ['unavailableReplicas', 'int32'],
        6: ['conditions', 'apps/v1.DeploymentCondition', REP],
        7: ['readyReplicas', 'int32'],
        8: ['collisionCount', 'int32', PTR],
        9: ['terminatingReplicas', 'int32', PTR],
      },
      'apps/v1.DeploymentStrategy': {
        1: ['type', 'string'],
        2: ['rollingUpdate', 'apps/v1.RollingUpdateDeployment', PTR],
      },
      'apps/v1.RollingUpdateDeployment': {
        1: ['maxUnavailable', 'IntOrString', PTR],
        2: ['maxSurge', 'IntOrString', PTR],
      },
    },
  },
  patch: {
    metadata: nested(objectMeta),
    spec: nested({ template: nested(podTemplateSpec), strategy: { strategy: 'retainKeys' } }),
    status: nested(conditionsByType),
  },
  validation: { name: dns1123Subdomain, create: spec(validateDeploymentSpec), update: specUpdate(validateSelectorUpdate) },
};

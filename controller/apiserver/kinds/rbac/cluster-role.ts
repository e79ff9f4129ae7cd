// rbac.authorization.k8s.io/v1 ClusterRole: a set of permitted verbs on resources, cluster-wide (pkg/registry/rbac/clusterrole).
import { REP, PTR } from '../../protobuf/message-table.js';
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { pathSegmentName, validateRules } from '../../validation/rbac-validation.js';

export const clusterRole: KindDefinition = {
  group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', resource: 'clusterroles', scope: 'Cluster',
  strategy: PLAIN,
  protobuf: {
    message: 'rbac/v1.ClusterRole',
    // Field numbers from k8s.io/api/rbac/v1/generated.proto.
    messages: {
      'rbac/v1.ClusterRole': {
        1: ['metadata', 'meta/v1.ObjectMeta'],
        2: ['rules', 'rbac/v1.PolicyRule', REP],
        3: ['aggregationRule', 'rbac/v1.AggregationRule', PTR],
      },
      'rbac/v1.AggregationRule': {
        1: ['clusterRoleSelectors', 'meta/v1.LabelSelector', REP],
      },
    },
  },
  validation: { name: pathSegmentName, create: validateRules, update: validateRules },
};

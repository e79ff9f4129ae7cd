// rbac.authorization.k8s.io/v1 ClusterRole: a set of permitted verbs on resources, cluster-wide (pkg/registry/rbac/clusterrole).
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { pathSegmentName, validateRules } from '../../validation/rbac.js';

export const clusterRole: KindDefinition = {
  group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', resource: 'clusterroles', scope: 'Cluster',
  strategy: PLAIN,
  protobuf: { message: 'rbac/v1.ClusterRole' },
  validation: { name: pathSegmentName, create: validateRules, update: validateRules },
};

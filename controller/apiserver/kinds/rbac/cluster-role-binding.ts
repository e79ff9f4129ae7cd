// rbac.authorization.k8s.io/v1 ClusterRoleBinding: grants a role's rules to subjects, cluster-wide (pkg/registry/rbac/clusterrolebinding).
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { roleBindingPrinter } from '../../tables/rbac.js';
import { pathSegmentName, validateBinding, validateBindingUpdate } from '../../validation/rbac.js';

export const clusterRoleBinding: KindDefinition = {
  group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRoleBinding', resource: 'clusterrolebindings', scope: 'Cluster',
  strategy: PLAIN,
  printer: roleBindingPrinter,
  protobuf: { message: 'rbac/v1.ClusterRoleBinding' },
  validation: { name: pathSegmentName, create: validateBinding, update: validateBindingUpdate },
};

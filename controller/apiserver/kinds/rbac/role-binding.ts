// rbac.authorization.k8s.io/v1 RoleBinding: grants a role's rules to subjects, in one namespace (pkg/registry/rbac/rolebinding).
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { roleBindingPrinter } from '../../tables/rbac.js';
import { pathSegmentName, validateBinding, validateBindingUpdate } from '../../validation/rbac.js';

export const roleBinding: KindDefinition = {
  group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding', resource: 'rolebindings', scope: 'Namespaced',
  strategy: PLAIN,
  printer: roleBindingPrinter,
  protobuf: { message: 'rbac/v1.RoleBinding' },
  validation: { name: pathSegmentName, create: validateBinding, update: validateBindingUpdate },
};

// rbac.authorization.k8s.io/v1 Role: a set of permitted verbs on resources, in one namespace (pkg/registry/rbac/role).
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { pathSegmentName, validateRules } from '../../validation/rbac.js';

export const role: KindDefinition = {
  group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', resource: 'roles', scope: 'Namespaced',
  strategy: PLAIN,
  protobuf: { message: 'rbac/v1.Role' },
  validation: { name: pathSegmentName, create: validateRules, update: validateRules },
};

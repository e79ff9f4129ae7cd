// rbac.authorization.k8s.io/v1 Role: a set of permitted verbs on resources, in one namespace (pkg/registry/rbac/role).
import { REP } from '../../protobuf/message-table.js';
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { pathSegmentName, validateRules } from '../../validation/rbac-validation.js';

export const role: KindDefinition = {
  group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', resource: 'roles', scope: 'Namespaced',
  strategy: PLAIN,
  protobuf: {
    message: 'rbac/v1.Role',
    // Field numbers from k8s.io/api/rbac/v1/generated.proto.
    messages: {
      'rbac/v1.Role': {
        1: ['metadata', 'meta/v1.ObjectMeta'],
        2: ['rules', 'rbac/v1.PolicyRule', REP],
      },
    },
  },
  validation: { name: pathSegmentName, create: validateRules, update: validateRules },
};

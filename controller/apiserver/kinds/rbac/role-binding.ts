// rbac.authorization.k8s.io/v1 RoleBinding: grants a role's rules to subjects, in one namespace (pkg/registry/rbac/rolebinding).
import { REP } from '../../protobuf/message-table.js';
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { roleBindingPrinter } from '../../tables/rbac-printers.js';
import { pathSegmentName, validateBinding, validateBindingUpdate } from '../../validation/rbac-validation.js';

export const roleBinding: KindDefinition = {
  group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding', resource: 'rolebindings', scope: 'Namespaced',
  strategy: PLAIN,
  printer: roleBindingPrinter,
  protobuf: {
    message: 'rbac/v1.RoleBinding',
    // Field numbers from k8s.io/api/rbac/v1/generated.proto.
    messages: {
      'rbac/v1.RoleBinding': {
        1: ['metadata', 'meta/v1.ObjectMeta'],
        2: ['subjects', 'rbac/v1.Subject', REP],
        3: ['roleRef', 'rbac/v1.RoleRef'],
      },
    },
  },
  validation: { name: pathSegmentName, create: validateBinding, update: validateBindingUpdate },
};

// Field numbers of the rbac/v1 and authorization/v1 protobuf messages that request bodies
// may carry (`kubectl create role|rolebinding|clusterrole|clusterrolebinding`, `kubectl auth
// can-i`). Each row: field number → [JSON name, type, flags].
import { type MessageTable, REP, PTR } from '../message-table.js';

export const rbacV1Messages: Record<string, MessageTable> = {
  'rbac/v1.PolicyRule': {
    1: ['verbs', 'string', REP],
    2: ['apiGroups', 'string', REP],
    3: ['resources', 'string', REP],
    4: ['resourceNames', 'string', REP],
    5: ['nonResourceURLs', 'string', REP],
  },
  'rbac/v1.RoleRef': {
    1: ['apiGroup', 'string'],
    2: ['kind', 'string'],
    3: ['name', 'string'],
  },
  'rbac/v1.Subject': {
    1: ['kind', 'string'],
    2: ['apiGroup', 'string'],
    3: ['name', 'string'],
    4: ['namespace', 'string'],
  },
};

export const authorizationV1Messages: Record<string, MessageTable> = {
  'authentication/v1.SelfSubjectReview': {
    1: ['metadata', 'meta/v1.ObjectMeta'],
  },
  'authorization/v1.ExtraValue': {
    1: ['items', 'string', REP],
  },
  'authorization/v1.NonResourceAttributes': {
    1: ['path', 'string'],
    2: ['verb', 'string'],
  },
  'authorization/v1.ResourceAttributes': {
    1: ['namespace', 'string'],
    2: ['verb', 'string'],
    3: ['group', 'string'],
    4: ['version', 'string'],
    5: ['resource', 'string'],
    6: ['subresource', 'string'],
    7: ['name', 'string'],
  },
  'authorization/v1.SelfSubjectAccessReview': {
    1: ['metadata', 'meta/v1.ObjectMeta'],
    2: ['spec', 'authorization/v1.SelfSubjectAccessReviewSpec'],
  },
  'authorization/v1.SelfSubjectAccessReviewSpec': {
    1: ['resourceAttributes', 'authorization/v1.ResourceAttributes', PTR],
    2: ['nonResourceAttributes', 'authorization/v1.NonResourceAttributes', PTR],
  },
  'authorization/v1.SelfSubjectRulesReview': {
    1: ['metadata', 'meta/v1.ObjectMeta'],
    2: ['spec', 'authorization/v1.SelfSubjectRulesReviewSpec'],
  },
  'authorization/v1.SelfSubjectRulesReviewSpec': {
    1: ['namespace', 'string'],
  },
  'authorization/v1.SubjectAccessReview': {
    1: ['metadata', 'meta/v1.ObjectMeta'],
    2: ['spec', 'authorization/v1.SubjectAccessReviewSpec'],
  },
  'authorization/v1.SubjectAccessReviewSpec': {
    1: ['resourceAttributes', 'authorization/v1.ResourceAttributes', PTR],
    2: ['nonResourceAttributes', 'authorization/v1.NonResourceAttributes', PTR],
    3: ['user', 'string'],
    4: ['groups', 'string', REP],
    5: ['extra', 'map:authorization/v1.ExtraValue'],
    6: ['uid', 'string'],
  },
};

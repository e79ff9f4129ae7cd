// Field numbers of the policy/v1 protobuf messages that request bodies may carry.
// Each row: field number → [JSON name ('' when inlined), type, flags].
import { type MessageTable, PTR } from '../message-table.js';

export const policyV1Messages: Record<string, MessageTable> = {
  'policy/v1.Eviction': {
    1: ['metadata', 'meta/v1.ObjectMeta'],
    2: ['deleteOptions', 'meta/v1.DeleteOptions', PTR],
  },
  'policy/v1.PodDisruptionBudget': {
    1: ['metadata', 'meta/v1.ObjectMeta'],
    2: ['spec', 'policy/v1.PodDisruptionBudgetSpec'],
  },
  'policy/v1.PodDisruptionBudgetSpec': {
    1: ['minAvailable', 'IntOrString', PTR],
    2: ['selector', 'meta/v1.LabelSelector', PTR],
    3: ['maxUnavailable', 'IntOrString', PTR],
    4: ['unhealthyPodEvictionPolicy', 'string', PTR],
  },
};

// Field numbers of the policy/v1 protobuf messages that request bodies may carry.
// Each row: field number → [JSON name ('' when inlined), type, flags].
import { type MessageTable, PTR } from '../message-table.js';

export const policyV1Messages: Record<string, MessageTable> = {
  'policy/v1.Eviction': {
    1: ['metadata', 'meta/v1.ObjectMeta'],
    2: ['deleteOptions', 'meta/v1.DeleteOptions', PTR],
  },
};

// Field numbers of the coordination/v1 protobuf messages that request bodies may carry.
// Each row: field number → [JSON name ('' when inlined), type, flags].
import { type MessageTable, PTR } from '../message-table.js';

export const coordinationV1Messages: Record<string, MessageTable> = {
  'coordination/v1.Lease': {
    1: ['metadata', 'meta/v1.ObjectMeta'],
    2: ['spec', 'coordination/v1.LeaseSpec'],
  },
  'coordination/v1.LeaseSpec': {
    1: ['holderIdentity', 'string', PTR],
    2: ['leaseDurationSeconds', 'int32', PTR],
    3: ['acquireTime', 'MicroTime', PTR],
    4: ['renewTime', 'MicroTime', PTR],
    5: ['leaseTransitions', 'int32', PTR],
    6: ['strategy', 'string', PTR],
    7: ['preferredHolder', 'string', PTR],
  },
};

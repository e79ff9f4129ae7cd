// Field numbers of the autoscaling/v1 protobuf messages that request bodies may carry.
// Each row: field number → [JSON name ('' when inlined), type, flags].
import { type MessageTable } from '../message-table.js';

export const autoscalingV1Messages: Record<string, MessageTable> = {
  'autoscaling/v1.Scale': {
    1: ['metadata', 'meta/v1.ObjectMeta'],
    2: ['spec', 'autoscaling/v1.ScaleSpec'],
    3: ['status', 'autoscaling/v1.ScaleStatus'],
  },
  'autoscaling/v1.ScaleSpec': {
    1: ['replicas', 'int32'],
  },
  'autoscaling/v1.ScaleStatus': {
    1: ['replicas', 'int32'],
    2: ['selector', 'string'],
  },
};

// Field numbers of the autoscaling/v1 protobuf messages that request bodies may carry.
// Each row: field number → [JSON name ('' when inlined), type, flags].
import { type MessageTable, PTR } from '../message-table.js';

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
  'autoscaling/v1.HorizontalPodAutoscaler': {
    1: ['metadata', 'meta/v1.ObjectMeta'],
    2: ['spec', 'autoscaling/v1.HorizontalPodAutoscalerSpec'],
  },
  'autoscaling/v1.HorizontalPodAutoscalerSpec': {
    1: ['scaleTargetRef', 'autoscaling/v1.CrossVersionObjectReference'],
    2: ['minReplicas', 'int32', PTR],
    3: ['maxReplicas', 'int32'],
    4: ['targetCPUUtilizationPercentage', 'int32', PTR],
  },
  'autoscaling/v1.CrossVersionObjectReference': {
    1: ['kind', 'string'],
    2: ['name', 'string'],
    3: ['apiVersion', 'string'],
  },
};

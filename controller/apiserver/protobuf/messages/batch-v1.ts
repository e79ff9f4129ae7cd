// Field numbers of the batch/v1 protobuf messages that request bodies may carry.
// Each row: field number → [JSON name ('' when inlined), type, flags].
import { type MessageTable, REP, PTR } from '../message-table.js';

export const batchV1Messages: Record<string, MessageTable> = {
  'batch/v1.Job': {
    1: ['metadata', 'meta/v1.ObjectMeta'],
    2: ['spec', 'batch/v1.JobSpec'],
    3: ['status', 'batch/v1.JobStatus'],
  },
  'batch/v1.JobSpec': {
    1: ['parallelism', 'int32', PTR],
    2: ['completions', 'int32', PTR],
    3: ['activeDeadlineSeconds', 'int64', PTR],
    4: ['selector', 'meta/v1.LabelSelector', PTR],
    5: ['manualSelector', 'bool', PTR],
    6: ['template', 'core/v1.PodTemplateSpec'],
    7: ['backoffLimit', 'int32', PTR],
    8: ['ttlSecondsAfterFinished', 'int32', PTR],
    9: ['completionMode', 'string', PTR],
    10: ['suspend', 'bool', PTR],
    12: ['backoffLimitPerIndex', 'int32', PTR],
    13: ['maxFailedIndexes', 'int32', PTR],
    14: ['podReplacementPolicy', 'string', PTR],
    15: ['managedBy', 'string', PTR],
  },
  'batch/v1.JobCondition': {
    1: ['type', 'string'],
    2: ['status', 'string'],
    3: ['lastProbeTime', 'Time'],
    4: ['lastTransitionTime', 'Time'],
    5: ['reason', 'string'],
    6: ['message', 'string'],
  },
  'batch/v1.JobStatus': {
    1: ['conditions', 'batch/v1.JobCondition', REP],
    2: ['startTime', 'Time', PTR],
    3: ['completionTime', 'Time', PTR],
    4: ['active', 'int32'],
    5: ['succeeded', 'int32'],
    6: ['failed', 'int32'],
    7: ['completedIndexes', 'string'],
    9: ['ready', 'int32', PTR],
    11: ['terminating', 'int32', PTR],
  },
  'batch/v1.JobTemplateSpec': {
    1: ['metadata', 'meta/v1.ObjectMeta'],
    2: ['spec', 'batch/v1.JobSpec'],
  },
  'batch/v1.CronJob': {
    1: ['metadata', 'meta/v1.ObjectMeta'],
    2: ['spec', 'batch/v1.CronJobSpec'],
    3: ['status', 'batch/v1.CronJobStatus'],
  },
  'batch/v1.CronJobSpec': {
    1: ['schedule', 'string'],
    2: ['startingDeadlineSeconds', 'int64', PTR],
    3: ['concurrencyPolicy', 'string'],
    4: ['suspend', 'bool', PTR],
    5: ['jobTemplate', 'batch/v1.JobTemplateSpec'],
    6: ['successfulJobsHistoryLimit', 'int32', PTR],
    7: ['failedJobsHistoryLimit', 'int32', PTR],
    8: ['timeZone', 'string', PTR],
  },
  'batch/v1.CronJobStatus': {
    1: ['active', 'core/v1.ObjectReference', REP],
    4: ['lastScheduleTime', 'Time', PTR],
    5: ['lastSuccessfulTime', 'Time', PTR],
  },
};

// batch/v1 Job: pods run to completion (pkg/registry/batch/job).
import { REP, PTR } from '../../protobuf/message-table.js';
import { defaultJobSpec, prepareJobCreate } from '../../admission/batch-defaults.js';
import { type KindDefinition, WORKLOAD } from '../kind-definition.js';
import { jobPrinter } from '../../tables/batch-printers.js';
import { validateJobSpec, validateJobSpecUpdate } from '../../validation/batch-validation.js';
import { dns1123Subdomain } from '../../validation/names.js';
import { spec, specUpdate } from '../../validation/spec-rules.js';

export const job: KindDefinition = {
  group: 'batch', version: 'v1', kind: 'Job', resource: 'jobs', scope: 'Namespaced',
  categories: ['all'],
  subresources: ['status'],
  strategy: WORKLOAD,
  defaults(obj) {
    defaultJobSpec((obj.spec ??= {}));
  },
  prepareForCreate: prepareJobCreate,
  printer: jobPrinter,
  protobuf: {
    message: 'batch/v1.Job',
    // Field numbers from k8s.io/api/batch/v1/generated.proto.
    messages: {
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
    },
  },
  validation: { name: dns1123Subdomain, create: spec(validateJobSpec), update: specUpdate(validateJobSpecUpdate) },
};

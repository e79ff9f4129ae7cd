// batch/v1 CronJob: Jobs on a schedule (pkg/registry/batch/cronjob).
import { REP, PTR } from '../../protobuf/message-table.js';
import { defaultCronJob } from '../../admission/batch-defaults.js';
import { type KindDefinition, WORKLOAD } from '../kind-definition.js';
import { cronJobPrinter } from '../../tables/batch-printers.js';
import { validateCronJobSpec } from '../../validation/batch-validation.js';
import { dns1123Subdomain } from '../../validation/names.js';
import { spec } from '../../validation/spec-rules.js';

export const cronJob: KindDefinition = {
  group: 'batch', version: 'v1', kind: 'CronJob', resource: 'cronjobs', scope: 'Namespaced',
  shortNames: ['cj'],
  categories: ['all'],
  subresources: ['status'],
  strategy: WORKLOAD,
  defaults: defaultCronJob,
  prepareForCreate(obj) {
    obj.status = {};
  },
  printer: cronJobPrinter,
  protobuf: {
    message: 'batch/v1.CronJob',
    // Field numbers from k8s.io/api/batch/v1/generated.proto.
    messages: {
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
    },
  },
  validation: { name: dns1123Subdomain, create: spec(validateCronJobSpec), update: spec(validateCronJobSpec) },
};

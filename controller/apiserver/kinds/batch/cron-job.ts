// batch/v1 CronJob: Jobs on a schedule (pkg/registry/batch/cronjob).
import { type KindDefinition, WORKLOAD } from '../kind-definition.js';
import { cronJobPrinter } from '../../tables/batch.js';
import { validateCronJobSpec } from '../../validation/batch.js';
import { dns1123Subdomain } from '../../validation/names.js';
import { spec } from '../../validation/spec-rules.js';

export const cronJob: KindDefinition = {
  group: 'batch', version: 'v1', kind: 'CronJob', resource: 'cronjobs', scope: 'Namespaced',
  shortNames: ['cj'],
  categories: ['all'],
  subresources: ['status'],
  strategy: WORKLOAD,
  printer: cronJobPrinter,
  protobuf: { message: 'batch/v1.CronJob' },
  validation: { name: dns1123Subdomain, create: spec(validateCronJobSpec), update: spec(validateCronJobSpec) },
};

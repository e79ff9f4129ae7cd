// batch/v1 Job: pods run to completion (pkg/registry/batch/job).
import { type KindDefinition, WORKLOAD } from '../kind-definition.js';
import { jobPrinter } from '../../tables/batch.js';
import { validateJobSpec, validateJobSpecUpdate } from '../../validation/batch.js';
import { dns1123Subdomain } from '../../validation/names.js';
import { spec, specUpdate } from '../../validation/spec-rules.js';

export const job: KindDefinition = {
  group: 'batch', version: 'v1', kind: 'Job', resource: 'jobs', scope: 'Namespaced',
  categories: ['all'],
  subresources: ['status'],
  strategy: WORKLOAD,
  printer: jobPrinter,
  protobuf: { message: 'batch/v1.Job' },
  validation: { name: dns1123Subdomain, create: spec(validateJobSpec), update: specUpdate(validateJobSpecUpdate) },
};

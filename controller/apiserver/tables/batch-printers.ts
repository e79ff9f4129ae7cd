// Rows for batch (jobs, cron jobs), policy (disruption budgets) and autoscaling (HPAs),
// with upstream's columns (pkg/printers/internalversion/printers.go).

import { AGE_COLUMN, column, NAME_COLUMN, wide, type TablePrinter } from './columns.js';
import { humanDuration, since } from './duration.js';
import { containerCells, int, isRecord, records, selectorString } from './format.js';

const CONTAINERS = wide('Containers', 'string', 'Names of each container in the template.');
const IMAGES = wide('Images', 'string', 'Images referenced by each container in the template.');
const SELECTOR = wide('Selector', 'string', 'Label selector of the pods this object manages.');

const rec = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});
const hasCondition = (status: Record<string, unknown>, type: string) => records(status.conditions).some((c) => c.type === type && c.status === 'True');

function jobStatus(meta: Record<string, unknown>, status: Record<string, unknown>): string {
  if (hasCondition(status, 'Complete')) return 'Complete';
  if (hasCondition(status, 'Failed')) return 'Failed';
  if (meta.deletionTimestamp) return 'Terminating';
  if (hasCondition(status, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  if (hasCondition(status, 'Suspended')) return 'Suspended';
  if (hasCondition(status, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

export const jobPrinter: TablePrinter = {
  columns: [
    NAME_COLUMN,
    column('Status', 'string', 'Status of the job.'),
    column('Completions', 'string', 'The completion status of the job.'),
    column('Duration', 'string', 'Time required to complete the job.'),
    AGE_COLUMN,
    CONTAINERS,
    IMAGES,
    SELECTOR,
  ],
  print(obj, now) {
    const meta = rec(obj.metadata), spec = rec(obj.spec), status = rec(obj.status);
    const [names, images] = containerCells(rec(rec(spec.template).spec).containers);
    let completions: string;
    if (typeof spec.completions === 'number') completions = `${int(status.succeeded)}/${spec.completions}`;
    else if (int(spec.parallelism, 1) > 1) completions = `${int(status.succeeded)}/1 of ${int(spec.parallelism, 1)}`;
    else completions = `${int(status.succeeded)}/1`;
    const start = Date.parse(String(status.startTime ?? ''));
    const end = Date.parse(String(status.completionTime ?? ''));
    const duration = Number.isNaN(start) ? '' : humanDuration((Number.isNaN(end) ? now.getTime() : end) - start);
    return { cells: [String(meta.name ?? ''), jobStatus(meta, status), completions, duration, since(meta.creationTimestamp, now), names, images, selectorString(spec.selector)] };
  },
};

export const cronJobPrinter: TablePrinter = {
  columns: [
    NAME_COLUMN,
    column('Schedule', 'string', 'The schedule in Cron format.'),
    column('Timezone', 'string', 'The time zone of the schedule.'),
    column('Suspend', 'boolean', 'Whether later runs are suspended.'),
    column('Active', 'integer', 'Number of running jobs.'),
    column('Last Schedule', 'string', 'When the last job was scheduled.'),
    AGE_COLUMN,
    CONTAINERS,
    IMAGES,
    SELECTOR,
  ],
  print(obj, now) {
    const meta = rec(obj.metadata), spec = rec(obj.spec), status = rec(obj.status);
    const jobSpec = rec(rec(spec.jobTemplate).spec);
    const [names, images] = containerCells(rec(rec(jobSpec.template).spec).containers);
    return {
      cells: [
        String(meta.name ?? ''), String(spec.schedule ?? ''), spec.timeZone ? String(spec.timeZone) : '<none>', spec.suspend === true ? 'True' : 'False',
        records(status.active).length, status.lastScheduleTime ? since(status.lastScheduleTime, now) : '<none>',
        since(meta.creationTimestamp, now), names, images, selectorString(jobSpec.selector),
      ],
    };
  },
};

export const podDisruptionBudgetPrinter: TablePrinter = {
  columns: [
    NAME_COLUMN,
    column('Min Available', 'string', 'The minimum number of pods that must be available.'),
    column('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'),
    column('Allowed Disruptions', 'integer', 'How many pods may be evicted now.'),
    AGE_COLUMN,
  ],
  print(obj, now) {
    const meta = rec(obj.metadata), spec = rec(obj.spec), status = rec(obj.status);
    const show = (v: unknown) => (v === undefined || v === null ? 'N/A' : String(v));
    return { cells: [String(meta.name ?? ''), show(spec.minAvailable), show(spec.maxUnavailable), int(status.disruptionsAllowed), since(meta.creationTimestamp, now)] };
  },
};

function metricTarget(spec: Record<string, unknown>, current: Record<string, unknown> | undefined): string {
  if (spec.type !== 'Resource' && spec.type !== 'ContainerResource') return `<${String(spec.type ?? 'unknown').toLowerCase()}>`;
  const source = rec(spec.type === 'Resource' ? spec.resource : spec.containerResource);
  const target = rec(source.target);
  const cur = rec(rec(current?.[spec.type === 'Resource' ? 'resource' : 'containerResource']).current);
  const name = String(source.name ?? '');
  if (target.type === 'Utilization' || target.averageUtilization !== undefined) {
    const now = typeof cur.averageUtilization === 'number' ? `${cur.averageUtilization}%` : '<unknown>';
    return `${name}: ${now}/${int(target.averageUtilization)}%`;
  }
  const want = target.averageValue ?? target.value ?? '';
  const now = cur.averageValue ?? cur.value ?? '<unknown>';
  return `${name}: ${String(now)}/${String(want)}`;
}

export const horizontalPodAutoscalerPrinter: TablePrinter = {
  columns: [
    NAME_COLUMN,
    column('Reference', 'string', 'The kind and name of the scaled object.'),
    column('Targets', 'string', 'The current and target metric values.'),
    column('MinPods', 'string', 'The lower replica limit.'),
    column('MaxPods', 'integer', 'The upper replica limit.'),
    column('Replicas', 'integer', 'The current number of replicas.'),
    AGE_COLUMN,
  ],
  print(obj, now) {
    const meta = rec(obj.metadata), spec = rec(obj.spec), status = rec(obj.status);
    const ref = rec(spec.scaleTargetRef);
    const metrics = records(spec.metrics);
    const currents = records(status.currentMetrics);
    const shown = metrics.slice(0, 2).map((m, i) => metricTarget(m, currents[i]));
    const targets = metrics.length === 0 ? '<none>' : shown.join(', ') + (metrics.length > 2 ? ` + ${metrics.length - 2} more...` : '');
    return {
      cells: [
        String(meta.name ?? ''), `${ref.kind ?? ''}/${ref.name ?? ''}`, targets,
        typeof spec.minReplicas === 'number' ? String(spec.minReplicas) : '<unset>', int(spec.maxReplicas), int(status.currentReplicas),
        since(meta.creationTimestamp, now),
      ],
    };
  },
};

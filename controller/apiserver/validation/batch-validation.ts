/** Job, CronJob, PodDisruptionBudget and HorizontalPodAutoscaler rules beyond the schema. */
import { parseSchedule } from '../../../protocol/kube/cron-schedule.js';
import { FieldPath, forbidden, invalid, notSupported, required, type FieldCause } from './field-cause.js';
import { validateLabelSelector } from './label-selector.js';
import { validatePodSpec } from './pod-validation.js';
import { asObj, canonical, isSet } from './shape.js';

const nonNegative = (spec: Record<string, unknown>, fields: string[], path: FieldPath): FieldCause[] =>
  fields.flatMap((f) => (typeof spec[f] === 'number' && (spec[f] as number) < 0 ? [invalid(path.child(f).toString(), spec[f], 'must be greater than or equal to 0')] : []));

export function validateJobSpec(specValue: unknown, path: FieldPath): FieldCause[] {
  const spec = asObj(specValue);
  if (!spec) return [required(path.toString())];
  const causes = nonNegative(spec, ['parallelism', 'completions', 'backoffLimit', 'ttlSecondsAfterFinished'], path);
  if (typeof spec.activeDeadlineSeconds === 'number' && spec.activeDeadlineSeconds <= 0) {
    causes.push(invalid(path.child('activeDeadlineSeconds').toString(), spec.activeDeadlineSeconds, 'must be greater than or equal to 1'));
  }
  const mode = spec.completionMode ?? 'NonIndexed';
  if (mode !== 'NonIndexed' && mode !== 'Indexed') causes.push(notSupported(path.child('completionMode').toString(), mode, ['NonIndexed', 'Indexed']));
  if (mode === 'Indexed' && !isSet(spec.completions)) causes.push(required(path.child('completions').toString(), 'when completion mode is Indexed'));
  if (isSet(spec.selector)) causes.push(...validateLabelSelector(spec.selector, path.child('selector')));
  const template = asObj(spec.template);
  if (!template) causes.push(required(path.child('template').toString()));
  else {
    const podSpec = asObj(template.spec);
    if (podSpec && !isSet(podSpec.restartPolicy)) causes.push(required(path.child('template').child('spec').child('restartPolicy').toString()));
    causes.push(...validatePodSpec(template.spec, path.child('template').child('spec'), { restartPolicies: ['OnFailure', 'Never'] }));
  }
  return causes;
}

/** Upstream keeps a Job's selector, completions and template fixed once running. */
export function validateJobSpecUpdate(specValue: unknown, oldValue: unknown, path: FieldPath): FieldCause[] {
  const spec = asObj(specValue);
  const old = asObj(oldValue);
  if (!spec || !old) return [];
  const causes: FieldCause[] = [];
  for (const field of ['selector', 'completionMode', 'template']) {
    if (canonical(spec[field]) !== canonical(old[field])) causes.push(invalid(path.child(field).toString(), spec[field] ?? null, 'field is immutable'));
  }
  if (isSet(old.completions) && spec.completions !== old.completions) causes.push(invalid(path.child('completions').toString(), spec.completions, 'field is immutable'));
  return causes;
}

export function validateCronJobSpec(specValue: unknown, path: FieldPath): FieldCause[] {
  const spec = asObj(specValue);
  if (!spec) return [required(path.toString())];
  const causes = nonNegative(spec, ['startingDeadlineSeconds', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit'], path);
  const schedule = spec.schedule;
  if (!isSet(schedule)) causes.push(required(path.child('schedule').toString()));
  else if (typeof schedule === 'string') {
    try {
      parseSchedule(schedule, typeof spec.timeZone === 'string' ? spec.timeZone : undefined);
    } catch (err) {
      const message = (err as Error).message;
      if (message.startsWith('unknown time zone')) causes.push(invalid(path.child('timeZone').toString(), spec.timeZone, message));
      else if (message.includes('TZ')) causes.push(forbidden(path.child('schedule').toString(), message));
      else causes.push(invalid(path.child('schedule').toString(), schedule, message));
    }
  }
  const policy = spec.concurrencyPolicy;
  if (isSet(policy) && !['Allow', 'Forbid', 'Replace'].includes(String(policy))) {
    causes.push(notSupported(path.child('concurrencyPolicy').toString(), policy, ['Allow', 'Forbid', 'Replace']));
  }
  const jobTemplate = asObj(spec.jobTemplate);
  if (!jobTemplate) causes.push(required(path.child('jobTemplate').toString()));
  else causes.push(...validateJobSpec(jobTemplate.spec, path.child('jobTemplate').child('spec')));
  return causes;
}

const intOrPercent = (v: unknown) => v === undefined || v === null || (typeof v === 'number' && v >= 0) || (typeof v === 'string' && /^\d+%?$/.test(v));

export function validatePdbSpec(specValue: unknown, path: FieldPath): FieldCause[] {
  const spec = asObj(specValue);
  if (!spec) return [required(path.toString())];
  const causes: FieldCause[] = [];
  if (isSet(spec.minAvailable) && isSet(spec.maxUnavailable)) causes.push(invalid(path.toString(), spec, 'minAvailable and maxUnavailable cannot be both set'));
  for (const f of ['minAvailable', 'maxUnavailable']) {
    if (!intOrPercent(spec[f])) causes.push(invalid(path.child(f).toString(), spec[f], 'must be a non-negative integer or a percentage'));
  }
  if (isSet(spec.selector)) causes.push(...validateLabelSelector(spec.selector, path.child('selector')));
  const policy = spec.unhealthyPodEvictionPolicy;
  if (isSet(policy) && !['IfHealthyBudget', 'AlwaysAllow'].includes(String(policy))) {
    causes.push(notSupported(path.child('unhealthyPodEvictionPolicy').toString(), policy, ['IfHealthyBudget', 'AlwaysAllow']));
  }
  return causes;
}

export function validateHpaSpec(specValue: unknown, path: FieldPath): FieldCause[] {
  const spec = asObj(specValue);
  if (!spec) return [required(path.toString())];
  const causes: FieldCause[] = [];
  const min = typeof spec.minReplicas === 'number' ? spec.minReplicas : 1;
  if (min < 1) causes.push(invalid(path.child('minReplicas').toString(), spec.minReplicas, 'must be greater than or equal to 1'));
  if (typeof spec.maxReplicas !== 'number') causes.push(required(path.child('maxReplicas').toString()));
  else if (spec.maxReplicas < min) causes.push(invalid(path.child('maxReplicas').toString(), spec.maxReplicas, 'must be greater than or equal to `minReplicas`'));
  const ref = asObj(spec.scaleTargetRef);
  if (!ref) causes.push(required(path.child('scaleTargetRef').toString()));
  else {
    if (!isSet(ref.kind)) causes.push(required(path.child('scaleTargetRef').child('kind').toString()));
    if (!isSet(ref.name)) causes.push(required(path.child('scaleTargetRef').child('name').toString()));
  }
  return causes;
}

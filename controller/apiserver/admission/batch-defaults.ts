// Defaults of the batch, policy and autoscaling kinds (upstream's SetDefaults_Job,
// SetDefaults_CronJob, SetDefaults_HorizontalPodAutoscaler) and the Job's generated
// selector (pkg/registry/batch/job/strategy.go: generateSelector).
import type { CronJobSpec, HorizontalPodAutoscalerSpec, JobSpec, KubeObject, LabelSelector, PodTemplate } from '../../../protocol/kube/types.js';
import { defaultPodTemplate } from './pod-defaults.js';

export const JOB_CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';

export function defaultJobSpec(value: unknown): void {
  if (!value || typeof value !== 'object') return;
  const spec = value as Partial<JobSpec>;
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= 'TerminatingOrFailed';
  defaultPodTemplate(spec.template);
}

export function defaultCronJob(obj: KubeObject): void {
  const spec = (obj.spec ??= {}) as Partial<CronJobSpec>;
  spec.concurrencyPolicy ??= 'Allow';
  spec.suspend ??= false;
  spec.successfulJobsHistoryLimit ??= 3;
  spec.failedJobsHistoryLimit ??= 1;
  if (spec.jobTemplate && typeof spec.jobTemplate === 'object') {
    // Upstream does not default the job template's counts (the Job does, when created).
    defaultPodTemplate(spec.jobTemplate.spec?.template);
  }
}

export function defaultHpa(obj: KubeObject): void {
  const spec = (obj.spec ??= {}) as Partial<HorizontalPodAutoscalerSpec>;
  spec.minReplicas ??= 1;
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  }
}

/**
 * A new Job selects its pods by its own uid unless the user chose manualSelector, and the
 * template carries the matching labels.
 */
export function prepareJobCreate(obj: KubeObject): void {
  obj.status = {};
  const spec = obj.spec as { manualSelector?: boolean; selector?: LabelSelector; template?: Partial<PodTemplate> } | undefined;
  if (!spec || typeof spec !== 'object' || spec.manualSelector === true) return;
  const uid = obj.metadata.uid!;
  const name = obj.metadata.name!;
  const template = (spec.template ??= {});
  const meta = (template.metadata ??= {});
  meta.labels = { ...(meta.labels ?? {}), [JOB_CONTROLLER_UID_LABEL]: uid, [JOB_NAME_LABEL]: name, 'controller-uid': uid, 'job-name': name };
  spec.selector = { matchLabels: { [JOB_CONTROLLER_UID_LABEL]: uid } };
}

// batch/v1 Job and CronJob.
import type { KubeObject, LabelSelector, ObjectMeta } from '../types.js';
import type { PodTemplate } from './apps.js';

export interface JobCondition { type: string; status: string; reason?: string; message?: string; lastProbeTime?: string; lastTransitionTime?: string }

export interface JobSpec {
  parallelism?: number; completions?: number; activeDeadlineSeconds?: number; backoffLimit?: number;
  selector?: LabelSelector; manualSelector?: boolean; ttlSecondsAfterFinished?: number;
  completionMode?: 'NonIndexed' | 'Indexed'; suspend?: boolean; podReplacementPolicy?: string;
  template: PodTemplate;
}

export interface Job extends KubeObject {
  spec: JobSpec;
  status?: {
    conditions?: JobCondition[]; startTime?: string; completionTime?: string;
    active?: number; succeeded?: number; failed?: number; ready?: number; terminating?: number;
    completedIndexes?: string; uncountedTerminatedPods?: Record<string, unknown>;
  };
}

export interface CronJobSpec {
  schedule: string; timeZone?: string; startingDeadlineSeconds?: number; concurrencyPolicy?: 'Allow' | 'Forbid' | 'Replace';
  suspend?: boolean; successfulJobsHistoryLimit?: number; failedJobsHistoryLimit?: number;
  jobTemplate: { metadata?: ObjectMeta; spec: JobSpec };
}

export interface CronJob extends KubeObject {
  spec: CronJobSpec;
  status?: { active?: { kind: string; namespace: string; name: string; uid: string; apiVersion: string; resourceVersion?: string }[]; lastScheduleTime?: string; lastSuccessfulTime?: string };
}

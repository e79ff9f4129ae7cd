// apps/v1 workloads: Deployment, ReplicaSet, DaemonSet, StatefulSet, ControllerRevision.
import type { KubeObject, LabelSelector, PodSpec } from '../types.js';
import type { PersistentVolumeClaim } from './storage.js';

export interface PodTemplate { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec }

/** An int or a percentage ("25%"), as maxSurge and maxUnavailable take. */
export type IntOrPercent = number | string;

export interface DeploymentSpec {
  replicas?: number; selector: LabelSelector; minReadySeconds?: number; revisionHistoryLimit?: number;
  paused?: boolean; progressDeadlineSeconds?: number;
  strategy?: { type?: 'RollingUpdate' | 'Recreate'; rollingUpdate?: { maxSurge?: IntOrPercent; maxUnavailable?: IntOrPercent } };
  template: PodTemplate;
}

export interface DeploymentCondition {
  type: string; status: 'True' | 'False' | 'Unknown'; reason?: string; message?: string;
  lastUpdateTime?: string; lastTransitionTime?: string;
}

export interface DeploymentStatus {
  observedGeneration?: number; replicas?: number; updatedReplicas?: number; readyReplicas?: number;
  availableReplicas?: number; unavailableReplicas?: number; conditions?: DeploymentCondition[]; collisionCount?: number;
}

export interface Deployment extends KubeObject { spec: DeploymentSpec; status?: DeploymentStatus }

export interface ReplicaSetSpec { replicas?: number; minReadySeconds?: number; selector: LabelSelector; template: PodTemplate }

export interface ReplicaSet extends KubeObject {
  spec: ReplicaSetSpec;
  status?: { replicas: number; fullyLabeledReplicas?: number; readyReplicas?: number; availableReplicas?: number; observedGeneration?: number; conditions?: unknown[] };
}

export interface DaemonSetSpec {
  selector: LabelSelector;
  template: PodTemplate;
  updateStrategy?: { type?: 'RollingUpdate' | 'OnDelete'; rollingUpdate?: { maxUnavailable?: IntOrPercent; maxSurge?: IntOrPercent } };
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
}

export interface DaemonSet extends KubeObject {
  spec: DaemonSetSpec;
  status?: { collisionCount?: number; [field: string]: unknown };
}

export interface StatefulSetSpec {
  replicas?: number;
  selector: LabelSelector;
  template: PodTemplate;
  serviceName?: string;
  podManagementPolicy?: 'OrderedReady' | 'Parallel';
  updateStrategy?: { type?: 'RollingUpdate' | 'OnDelete'; rollingUpdate?: { partition?: number } };
  volumeClaimTemplates?: PersistentVolumeClaim[];
  revisionHistoryLimit?: number;
  minReadySeconds?: number;
  persistentVolumeClaimRetentionPolicy?: { whenDeleted?: 'Retain' | 'Delete'; whenScaled?: 'Retain' | 'Delete' };
  ordinals?: { start?: number };
}

export interface StatefulSet extends KubeObject {
  spec: StatefulSetSpec;
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    currentReplicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
    collisionCount?: number;
  };
}

export interface ControllerRevision extends KubeObject { data?: { spec?: { template?: PodTemplate } }; revision: number }

/** The built-in kinds with a scale subresource: what `spec.replicas` and `spec.selector` are read from. */
export type ScalableWorkload = Deployment | ReplicaSet | StatefulSet;

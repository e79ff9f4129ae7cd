// Field numbers of the apps/v1 protobuf messages that request bodies may carry.
// Each row: field number → [JSON name ('' when inlined), type, flags].
import { type MessageTable, REP, PTR } from '../message-table.js';

export const appsV1Messages: Record<string, MessageTable> = {
  'apps/v1.ControllerRevision': {
    1: ['metadata', 'meta/v1.ObjectMeta'],
    2: ['data', 'RawExtension'],
    3: ['revision', 'int64'],
  },
  'apps/v1.DaemonSet': {
    1: ['metadata', 'meta/v1.ObjectMeta'],
    2: ['spec', 'apps/v1.DaemonSetSpec'],
    3: ['status', 'apps/v1.DaemonSetStatus'],
  },
  'apps/v1.DaemonSetCondition': {
    1: ['type', 'string'],
    2: ['status', 'string'],
    3: ['lastTransitionTime', 'Time'],
    4: ['reason', 'string'],
    5: ['message', 'string'],
  },
  'apps/v1.DaemonSetSpec': {
    1: ['selector', 'meta/v1.LabelSelector', PTR],
    2: ['template', 'core/v1.PodTemplateSpec'],
    3: ['updateStrategy', 'apps/v1.DaemonSetUpdateStrategy'],
    4: ['minReadySeconds', 'int32'],
    6: ['revisionHistoryLimit', 'int32', PTR],
  },
  'apps/v1.DaemonSetStatus': {
    1: ['currentNumberScheduled', 'int32'],
    2: ['numberMisscheduled', 'int32'],
    3: ['desiredNumberScheduled', 'int32'],
    4: ['numberReady', 'int32'],
    5: ['observedGeneration', 'int64'],
    6: ['updatedNumberScheduled', 'int32'],
    7: ['numberAvailable', 'int32'],
    8: ['numberUnavailable', 'int32'],
    9: ['collisionCount', 'int32', PTR],
    10: ['conditions', 'apps/v1.DaemonSetCondition', REP],
  },
  'apps/v1.DaemonSetUpdateStrategy': {
    1: ['type', 'string'],
    2: ['rollingUpdate', 'apps/v1.RollingUpdateDaemonSet', PTR],
  },
  'apps/v1.Deployment': {
    1: ['metadata', 'meta/v1.ObjectMeta'],
    2: ['spec', 'apps/v1.DeploymentSpec'],
    3: ['status', 'apps/v1.DeploymentStatus'],
  },
  'apps/v1.DeploymentCondition': {
    1: ['type', 'string'],
    2: ['status', 'string'],
    4: ['reason', 'string'],
    5: ['message', 'string'],
    6: ['lastUpdateTime', 'Time'],
    7: ['lastTransitionTime', 'Time'],
  },
  'apps/v1.DeploymentSpec': {
    1: ['replicas', 'int32', PTR],
    2: ['selector', 'meta/v1.LabelSelector', PTR],
    3: ['template', 'core/v1.PodTemplateSpec'],
    4: ['strategy', 'apps/v1.DeploymentStrategy'],
    5: ['minReadySeconds', 'int32'],
    6: ['revisionHistoryLimit', 'int32', PTR],
    7: ['paused', 'bool'],
    9: ['progressDeadlineSeconds', 'int32', PTR],
  },
  'apps/v1.DeploymentStatus': {
    1: ['observedGeneration', 'int64'],
    2: ['replicas', 'int32'],
    3: ['updatedReplicas', 'int32'],
    4: ['availableReplicas', 'int32'],
    5: ['unavailableReplicas', 'int32'],
    6: ['conditions', 'apps/v1.DeploymentCondition', REP],
    7: ['readyReplicas', 'int32'],
    8: ['collisionCount', 'int32', PTR],
    9: ['terminatingReplicas', 'int32', PTR],
  },
  'apps/v1.DeploymentStrategy': {
    1: ['type', 'string'],
    2: ['rollingUpdate', 'apps/v1.RollingUpdateDeployment', PTR],
  },
  'apps/v1.ReplicaSet': {
    1: ['metadata', 'meta/v1.ObjectMeta'],
    2: ['spec', 'apps/v1.ReplicaSetSpec'],
    3: ['status', 'apps/v1.ReplicaSetStatus'],
  },
  'apps/v1.ReplicaSetCondition': {
    1: ['type', 'string'],
    2: ['status', 'string'],
    3: ['lastTransitionTime', 'Time'],
    4: ['reason', 'string'],
    5: ['message', 'string'],
  },
  'apps/v1.ReplicaSetSpec': {
    1: ['replicas', 'int32', PTR],
    2: ['selector', 'meta/v1.LabelSelector', PTR],
    3: ['template', 'core/v1.PodTemplateSpec'],
    4: ['minReadySeconds', 'int32'],
  },
  'apps/v1.ReplicaSetStatus': {
    1: ['replicas', 'int32'],
    2: ['fullyLabeledReplicas', 'int32'],
    3: ['observedGeneration', 'int64'],
    4: ['readyReplicas', 'int32'],
    5: ['availableReplicas', 'int32'],
    6: ['conditions', 'apps/v1.ReplicaSetCondition', REP],
    7: ['terminatingReplicas', 'int32', PTR],
  },
  'apps/v1.RollingUpdateDaemonSet': {
    1: ['maxUnavailable', 'IntOrString', PTR],
    2: ['maxSurge', 'IntOrString', PTR],
  },
  'apps/v1.RollingUpdateDeployment': {
    1: ['maxUnavailable', 'IntOrString', PTR],
    2: ['maxSurge', 'IntOrString', PTR],
  },
};

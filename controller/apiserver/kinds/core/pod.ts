// v1 Pod: containers run together on one node (pkg/registry/core/pod).
import type { Pod, PodStatus } from '../../../../protocol/kube/types.js';
import { REP, PTR } from '../../protobuf/message-table.js';
import { podQosClass } from '../../admission/pod-defaults.js';
import { type KindDefinition, WORKLOAD } from '../kind-definition.js';
import { mergeBy, nested, objectMeta, podSpec } from '../../patch/patch-meta.js';
import { podPrinter } from '../../tables/pod-printers.js';
import { dns1123Subdomain } from '../../validation/names.js';
import { validatePodSpec, validatePodSpecUpdate } from '../../validation/pod-validation.js';
import { spec, specUpdate } from '../../validation/spec-rules.js';

export const pod: KindDefinition = {
  group: '', version: 'v1', kind: 'Pod', resource: 'pods', scope: 'Namespaced',
  shortNames: ['po'],
  categories: ['all'],
  subresources: ['status', 'binding', 'log', 'exec', 'eviction'],
  strategy: WORKLOAD,
  // Defaults depend on the cluster's toleration seconds: admission/pod-defaults.ts.
  prepareForCreate(obj) {
    const status: PodStatus = { phase: 'Pending', qosClass: podQosClass(obj) };
    obj.status = status;
    if ((obj as Pod).spec?.nodeName) {
      status.conditions = [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: obj.metadata.creationTimestamp }];
    }
  },
  printer: podPrinter,
  protobuf: {
    message: 'core/v1.Pod',
    // Field numbers from k8s.io/api/core/v1/generated.proto.
    messages: {
      'core/v1.Pod': {
        1: ['metadata', 'meta/v1.ObjectMeta'],
        2: ['spec', 'core/v1.PodSpec'],
        3: ['status', 'core/v1.PodStatus'],
      },
      'core/v1.PodStatus': {
        1: ['phase', 'string'],
        2: ['conditions', 'core/v1.PodCondition', REP],
        3: ['message', 'string'],
        4: ['reason', 'string'],
        5: ['hostIP', 'string'],
        6: ['podIP', 'string'],
        7: ['startTime', 'Time', PTR],
        8: ['containerStatuses', 'core/v1.ContainerStatus', REP],
        9: ['qosClass', 'string'],
        10: ['initContainerStatuses', 'core/v1.ContainerStatus', REP],
        11: ['nominatedNodeName', 'string'],
        12: ['podIPs', 'core/v1.PodIP', REP],
        13: ['ephemeralContainerStatuses', 'core/v1.ContainerStatus', REP],
        14: ['resize', 'string'],
        15: ['resourceClaimStatuses', 'core/v1.PodResourceClaimStatus', REP],
        16: ['hostIPs', 'core/v1.HostIP', REP],
        17: ['observedGeneration', 'int64'],
        18: ['extendedResourceClaimStatus', 'core/v1.PodExtendedResourceClaimStatus', PTR],
        19: ['allocatedResources', 'map:Quantity'],
        20: ['resources', 'core/v1.ResourceRequirements', PTR],
        21: ['nodeAllocatableResourceClaimStatuses', 'core/v1.NodeAllocatableResourceClaimStatus', REP],
        22: ['volumeHealth', 'core/v1.PodVolumeHealth', REP],
      },
      'core/v1.PodCondition': {
        1: ['type', 'string'],
        2: ['status', 'string'],
        3: ['lastProbeTime', 'Time'],
        4: ['lastTransitionTime', 'Time'],
        5: ['reason', 'string'],
        6: ['message', 'string'],
        7: ['observedGeneration', 'int64'],
      },
      'core/v1.PodIP': {
        1: ['ip', 'string'],
      },
      'core/v1.HostIP': {
        1: ['ip', 'string'],
      },
      'core/v1.ContainerStatus': {
        1: ['name', 'string'],
        2: ['state', 'core/v1.ContainerState'],
        3: ['lastState', 'core/v1.ContainerState'],
        4: ['ready', 'bool'],
        5: ['restartCount', 'int32'],
        6: ['image', 'string'],
        7: ['imageID', 'string'],
        8: ['containerID', 'string'],
        9: ['started', 'bool', PTR],
        10: ['allocatedResources', 'map:Quantity'],
        11: ['resources', 'core/v1.ResourceRequirements', PTR],
        12: ['volumeMounts', 'core/v1.VolumeMountStatus', REP],
        13: ['user', 'core/v1.ContainerUser', PTR],
        14: ['allocatedResourcesStatus', 'core/v1.ResourceStatus', REP],
        15: ['stopSignal', 'string', PTR],
      },
      'core/v1.ContainerState': {
        1: ['waiting', 'core/v1.ContainerStateWaiting', PTR],
        2: ['running', 'core/v1.ContainerStateRunning', PTR],
        3: ['terminated', 'core/v1.ContainerStateTerminated', PTR],
      },
      'core/v1.ContainerStateRunning': {
        1: ['startedAt', 'Time'],
      },
      'core/v1.ContainerStateTerminated': {
        1: ['exitCode', 'int32'],
        2: ['signal', 'int32'],
        3: ['reason', 'string'],
        4: ['message', 'string'],
        5: ['startedAt', 'Time'],
        6: ['finishedAt', 'Time'],
        7: ['containerID', 'string'],
      },
      'core/v1.ContainerStateWaiting': {
        1: ['reason', 'string'],
        2: ['message', 'string'],
      },
      'core/v1.ContainerUser': {
        1: ['linux', 'core/v1.LinuxContainerUser', PTR],
      },
      'core/v1.LinuxContainerUser': {
        1: ['uid', 'int64'],
        2: ['gid', 'int64'],
        3: ['supplementalGroups', 'int64', REP],
      },
      'core/v1.ResourceStatus': {
        1: ['name', 'string'],
        2: ['resources', 'core/v1.ResourceHealth', REP],
      },
      'core/v1.ResourceHealth': {
        1: ['resourceID', 'string'],
        2: ['health', 'string'],
        6: ['message', 'string', PTR],
      },
      'core/v1.VolumeMountStatus': {
        1: ['name', 'string'],
        2: ['mountPath', 'string'],
        3: ['readOnly', 'bool'],
        4: ['recursiveReadOnly', 'string', PTR],
        5: ['volumeStatus', 'core/v1.VolumeStatus', PTR],
      },
      'core/v1.PodResourceClaimStatus': {
        1: ['name', 'string'],
        2: ['resourceClaimName', 'string', PTR],
      },
      'core/v1.PodExtendedResourceClaimStatus': {
        1: ['requestMappings', 'core/v1.ContainerExtendedResourceRequest', REP],
        2: ['resourceClaimName', 'string'],
      },
      'core/v1.ContainerExtendedResourceRequest': {
        1: ['containerName', 'string'],
        2: ['resourceName', 'string'],
        3: ['requestName', 'string'],
      },
    },
  },
  patch: {
    metadata: nested(objectMeta),
    spec: nested(podSpec),
    status: nested({
      conditions: mergeBy('type'),
      hostIPs: mergeBy('ip'),
      podIPs: mergeBy('ip'),
      resourceClaimStatuses: { strategy: 'merge,retainKeys', mergeKey: 'name' },
    }),
  },
  validation: { name: dns1123Subdomain, create: spec(validatePodSpec), update: specUpdate(validatePodSpecUpdate) },
};

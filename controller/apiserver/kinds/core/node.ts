// v1 Node: a board that runs pods (pkg/registry/core/node).
import { REP, PTR } from '../../protobuf/message-table.js';
import { type KindDefinition, WITH_STATUS } from '../kind-definition.js';
import { mergeBy, nested, objectMeta } from '../../patch/patch-meta.js';
import { nodePrinter } from '../../tables/node-printers.js';
import { dns1123Subdomain } from '../../validation/names.js';

export const node: KindDefinition = {
  group: '', version: 'v1', kind: 'Node', resource: 'nodes', scope: 'Cluster',
  shortNames: ['no'],
  subresources: ['status'],
  strategy: WITH_STATUS,
  printer: nodePrinter,
  protobuf: {
    message: 'core/v1.Node',
    // Field numbers from k8s.io/api/core/v1/generated.proto.
    messages: {
      'core/v1.Node': {
        1: ['metadata', 'meta/v1.ObjectMeta'],
        2: ['spec', 'core/v1.NodeSpec'],
        3: ['status', 'core/v1.NodeStatus'],
      },
      'core/v1.NodeAddress': {
        1: ['type', 'string'],
        2: ['address', 'string'],
      },
      'core/v1.NodeAllocatableMappedResources': {
        1: ['name', 'string'],
        2: ['quantity', 'Quantity', PTR],
      },
      'core/v1.NodeAllocatableOverheadResources': {
        1: ['name', 'string'],
        2: ['perPod', 'Quantity', PTR],
        3: ['perContainer', 'Quantity', PTR],
      },
      'core/v1.NodeCondition': {
        1: ['type', 'string'],
        2: ['status', 'string'],
        3: ['lastHeartbeatTime', 'Time'],
        4: ['lastTransitionTime', 'Time'],
        5: ['reason', 'string'],
        6: ['message', 'string'],
      },
      'core/v1.NodeConfigSource': {
        2: ['configMap', 'core/v1.ConfigMapNodeConfigSource', PTR],
      },
      'core/v1.NodeConfigStatus': {
        1: ['assigned', 'core/v1.NodeConfigSource', PTR],
        2: ['active', 'core/v1.NodeConfigSource', PTR],
        3: ['lastKnownGood', 'core/v1.NodeConfigSource', PTR],
        4: ['error', 'string'],
      },
      'core/v1.NodeDaemonEndpoints': {
        1: ['kubeletEndpoint', 'core/v1.DaemonEndpoint'],
      },
      'core/v1.NodeFeatures': {
        1: ['supplementalGroupsPolicy', 'bool', PTR],
      },
      'core/v1.NodePodPreemptionPolicy': {
        1: ['disableResizePreemption', 'string', REP],
      },
      'core/v1.NodeRuntimeHandler': {
        1: ['name', 'string'],
        2: ['features', 'core/v1.NodeRuntimeHandlerFeatures', PTR],
      },
      'core/v1.NodeRuntimeHandlerFeatures': {
        1: ['recursiveReadOnlyMounts', 'bool', PTR],
        2: ['userNamespaces', 'bool', PTR],
      },
      'core/v1.NodeSpec': {
        1: ['podCIDR', 'string'],
        2: ['externalID', 'string'],
        3: ['providerID', 'string'],
        4: ['unschedulable', 'bool'],
        5: ['taints', 'core/v1.Taint', REP],
        6: ['configSource', 'core/v1.NodeConfigSource', PTR],
        7: ['podCIDRs', 'string', REP],
        8: ['podPreemptionPolicy', 'core/v1.NodePodPreemptionPolicy', PTR],
      },
      'core/v1.NodeStatus': {
        1: ['capacity', 'map:Quantity'],
        2: ['allocatable', 'map:Quantity'],
        3: ['phase', 'string'],
        4: ['conditions', 'core/v1.NodeCondition', REP],
        5: ['addresses', 'core/v1.NodeAddress', REP],
        6: ['daemonEndpoints', 'core/v1.NodeDaemonEndpoints'],
        7: ['nodeInfo', 'core/v1.NodeSystemInfo'],
        8: ['images', 'core/v1.ContainerImage', REP],
        9: ['volumesInUse', 'string', REP],
        10: ['volumesAttached', 'core/v1.AttachedVolume', REP],
        11: ['config', 'core/v1.NodeConfigStatus', PTR],
        12: ['runtimeHandlers', 'core/v1.NodeRuntimeHandler', REP],
        13: ['features', 'core/v1.NodeFeatures', PTR],
        14: ['declaredFeatures', 'string', REP],
      },
      'core/v1.NodeSwapStatus': {
        1: ['capacity', 'int64', PTR],
      },
      'core/v1.NodeSystemInfo': {
        1: ['machineID', 'string'],
        2: ['systemUUID', 'string'],
        3: ['bootID', 'string'],
        4: ['kernelVersion', 'string'],
        5: ['osImage', 'string'],
        6: ['containerRuntimeVersion', 'string'],
        7: ['kubeletVersion', 'string'],
        8: ['kubeProxyVersion', 'string'],
        9: ['operatingSystem', 'string'],
        10: ['architecture', 'string'],
        11: ['swap', 'core/v1.NodeSwapStatus', PTR],
      },
      'core/v1.DaemonEndpoint': {
        1: ['Port', 'int32'],
      },
      'core/v1.AttachedVolume': {
        1: ['name', 'string'],
        2: ['devicePath', 'string'],
      },
      'core/v1.ContainerImage': {
        1: ['names', 'string', REP],
        2: ['sizeBytes', 'int64'],
      },
      'core/v1.ConfigMapNodeConfigSource': {
        1: ['namespace', 'string'],
        2: ['name', 'string'],
        3: ['uid', 'string'],
        4: ['resourceVersion', 'string'],
        5: ['kubeletConfigKey', 'string'],
      },
      'core/v1.Taint': {
        1: ['key', 'string'],
        2: ['value', 'string'],
        3: ['effect', 'string'],
        4: ['timeAdded', 'Time', PTR],
      },
    },
  },
  patch: {
    metadata: nested(objectMeta),
    spec: nested({ podCIDRs: { strategy: 'merge' } }),
    status: nested({ conditions: mergeBy('type'), addresses: mergeBy('type') }),
  },
  validation: { name: dns1123Subdomain },
};

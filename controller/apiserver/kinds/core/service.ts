// v1 Service: a stable address for a set of pods (pkg/registry/core/service).
import { REP, PTR } from '../../protobuf/message-table.js';
import { type KindDefinition, WITH_STATUS } from '../kind-definition.js';
import { conditionsByType, mergeBy, nested, objectMeta } from '../../patch/patch-meta.js';
import { servicePrinter } from '../../tables/networking-printers.js';
import { dns1123Label } from '../../validation/names.js';
import { validateServiceSpec, validateServiceSpecUpdate } from '../../validation/service-validation.js';
import { spec, specUpdate } from '../../validation/spec-rules.js';

export const service: KindDefinition = {
  group: '', version: 'v1', kind: 'Service', resource: 'services', scope: 'Namespaced',
  shortNames: ['svc'],
  categories: ['all'],
  subresources: ['status'],
  strategy: WITH_STATUS,
  // Defaults allocate cluster IPs and node ports: admission/service-allocator.ts.
  prepareForCreate(obj) {
    obj.status = { loadBalancer: {} };
  },
  printer: servicePrinter,
  protobuf: {
    message: 'core/v1.Service',
    // Field numbers from k8s.io/api/core/v1/generated.proto.
    messages: {
      'core/v1.Service': {
        1: ['metadata', 'meta/v1.ObjectMeta'],
        2: ['spec', 'core/v1.ServiceSpec'],
        3: ['status', 'core/v1.ServiceStatus'],
      },
      'core/v1.ServiceSpec': {
        1: ['ports', 'core/v1.ServicePort', REP],
        2: ['selector', 'map:string'],
        3: ['clusterIP', 'string'],
        4: ['type', 'string'],
        5: ['externalIPs', 'string', REP],
        7: ['sessionAffinity', 'string'],
        8: ['loadBalancerIP', 'string'],
        9: ['loadBalancerSourceRanges', 'string', REP],
        10: ['externalName', 'string'],
        11: ['externalTrafficPolicy', 'string'],
        12: ['healthCheckNodePort', 'int32'],
        13: ['publishNotReadyAddresses', 'bool'],
        14: ['sessionAffinityConfig', 'core/v1.SessionAffinityConfig', PTR],
        17: ['ipFamilyPolicy', 'string', PTR],
        18: ['clusterIPs', 'string', REP],
        19: ['ipFamilies', 'string', REP],
        20: ['allocateLoadBalancerNodePorts', 'bool', PTR],
        21: ['loadBalancerClass', 'string', PTR],
        22: ['internalTrafficPolicy', 'string', PTR],
        23: ['trafficDistribution', 'string', PTR],
      },
      'core/v1.ServicePort': {
        1: ['name', 'string'],
        2: ['protocol', 'string'],
        3: ['port', 'int32'],
        4: ['targetPort', 'IntOrString'],
        5: ['nodePort', 'int32'],
        6: ['appProtocol', 'string', PTR],
      },
      'core/v1.ServiceStatus': {
        1: ['loadBalancer', 'core/v1.LoadBalancerStatus'],
        2: ['conditions', 'meta/v1.Condition', REP],
      },
      'core/v1.SessionAffinityConfig': {
        1: ['clientIP', 'core/v1.ClientIPConfig', PTR],
      },
      'core/v1.ClientIPConfig': {
        1: ['timeoutSeconds', 'int32', PTR],
      },
      'core/v1.LoadBalancerStatus': {
        1: ['ingress', 'core/v1.LoadBalancerIngress', REP],
      },
      'core/v1.LoadBalancerIngress': {
        1: ['ip', 'string'],
        2: ['hostname', 'string'],
        3: ['ipMode', 'string', PTR],
        4: ['ports', 'core/v1.PortStatus', REP],
      },
      'core/v1.PortStatus': {
        1: ['port', 'int32'],
        2: ['protocol', 'string'],
        3: ['error', 'string', PTR],
      },
    },
  },
  patch: { metadata: nested(objectMeta), spec: nested({ ports: mergeBy('port') }), status: nested(conditionsByType) },
  validation: { name: dns1123Label, create: spec(validateServiceSpec), update: specUpdate(validateServiceSpecUpdate) },
};

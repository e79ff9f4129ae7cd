// networking.k8s.io/v1 Ingress: HTTP routes from hosts and paths to Services (pkg/registry/networking/ingress).
import { REP, PTR, INL } from '../../protobuf/message-table.js';
import { type KindDefinition, WORKLOAD } from '../kind-definition.js';
import { ingressPrinter } from '../../tables/ingress-printers.js';
import { validateIngressSpec } from '../../validation/ingress-validation.js';
import { dns1123Subdomain } from '../../validation/names.js';
import { spec } from '../../validation/spec-rules.js';

export const ingress: KindDefinition = {
  group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', resource: 'ingresses', scope: 'Namespaced',
  shortNames: ['ing'],
  subresources: ['status'],
  strategy: WORKLOAD,
  printer: ingressPrinter,
  protobuf: {
    message: 'networking/v1.Ingress',
    // Field numbers from k8s.io/api/networking/v1/generated.proto.
    messages: {
      'networking/v1.Ingress': {
        1: ['metadata', 'meta/v1.ObjectMeta'],
        2: ['spec', 'networking/v1.IngressSpec'],
        3: ['status', 'networking/v1.IngressStatus'],
      },
      'networking/v1.IngressSpec': {
        1: ['defaultBackend', 'networking/v1.IngressBackend', PTR],
        2: ['tls', 'networking/v1.IngressTLS', REP],
        3: ['rules', 'networking/v1.IngressRule', REP],
        4: ['ingressClassName', 'string', PTR],
      },
      'networking/v1.IngressBackend': {
        3: ['resource', 'core/v1.TypedLocalObjectReference', PTR],
        4: ['service', 'networking/v1.IngressServiceBackend', PTR],
      },
      'networking/v1.IngressServiceBackend': {
        1: ['name', 'string'],
        2: ['port', 'networking/v1.ServiceBackendPort'],
      },
      'networking/v1.ServiceBackendPort': {
        1: ['name', 'string'],
        2: ['number', 'int32'],
      },
      'networking/v1.IngressTLS': {
        1: ['hosts', 'string', REP],
        2: ['secretName', 'string'],
      },
      'networking/v1.IngressRule': {
        1: ['host', 'string'],
        2: ['', 'networking/v1.IngressRuleValue', INL],
      },
      'networking/v1.IngressRuleValue': {
        1: ['http', 'networking/v1.HTTPIngressRuleValue', PTR],
      },
      'networking/v1.HTTPIngressRuleValue': {
        1: ['paths', 'networking/v1.HTTPIngressPath', REP],
      },
      'networking/v1.HTTPIngressPath': {
        1: ['path', 'string'],
        2: ['backend', 'networking/v1.IngressBackend'],
        3: ['pathType', 'string', PTR],
      },
      'networking/v1.IngressStatus': {
        1: ['loadBalancer', 'networking/v1.IngressLoadBalancerStatus'],
      },
      'networking/v1.IngressLoadBalancerStatus': {
        1: ['ingress', 'networking/v1.IngressLoadBalancerIngress', REP],
      },
      'networking/v1.IngressLoadBalancerIngress': {
        1: ['ip', 'string'],
        2: ['hostname', 'string'],
        4: ['ports', 'networking/v1.IngressPortStatus', REP],
      },
      'networking/v1.IngressPortStatus': {
        1: ['port', 'int32'],
        2: ['protocol', 'string'],
        3: ['error', 'string', PTR],
      },
    },
  },
  validation: { name: dns1123Subdomain, create: spec(validateIngressSpec) },
};

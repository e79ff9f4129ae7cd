// Field numbers of the networking/v1 protobuf messages that request bodies may carry
// (`kubectl create ingress` sends an Ingress as protobuf).
// Each row: field number → [JSON name ('' when inlined), type, flags].
import { type MessageTable, REP, PTR, INL } from '../message-table.js';

export const networkingV1Messages: Record<string, MessageTable> = {
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
  'networking/v1.IngressClass': {
    1: ['metadata', 'meta/v1.ObjectMeta'],
    2: ['spec', 'networking/v1.IngressClassSpec'],
  },
  'networking/v1.IngressClassSpec': {
    1: ['controller', 'string'],
    2: ['parameters', 'networking/v1.IngressClassParametersReference', PTR],
  },
  'networking/v1.IngressClassParametersReference': {
    1: ['apiGroup', 'string', PTR],
    2: ['kind', 'string'],
    3: ['name', 'string'],
    4: ['scope', 'string', PTR],
    5: ['namespace', 'string', PTR],
  },
};

// networking.k8s.io/v1 IngressClass: which controller serves an Ingress (pkg/registry/networking/ingressclass).
import { PTR } from '../../protobuf/message-table.js';
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { ingressClassPrinter } from '../../tables/ingress-printers.js';
import { validateIngressClass } from '../../validation/ingress-validation.js';
import { dns1123Subdomain } from '../../validation/names.js';

export const ingressClass: KindDefinition = {
  group: 'networking.k8s.io', version: 'v1', kind: 'IngressClass', resource: 'ingressclasses', scope: 'Cluster',
  strategy: PLAIN,
  printer: ingressClassPrinter,
  protobuf: {
    message: 'networking/v1.IngressClass',
    // Field numbers from k8s.io/api/networking/v1/generated.proto.
    messages: {
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
    },
  },
  validation: { name: dns1123Subdomain, create: (o) => validateIngressClass(o), update: (o, old) => validateIngressClass(o, old) },
};

// networking.k8s.io/v1 IngressClass: which controller serves an Ingress (pkg/registry/networking/ingressclass).
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { ingressClassPrinter } from '../../tables/ingress.js';
import { validateIngressClass } from '../../validation/ingress.js';
import { dns1123Subdomain } from '../../validation/names.js';

export const ingressClass: KindDefinition = {
  group: 'networking.k8s.io', version: 'v1', kind: 'IngressClass', resource: 'ingressclasses', scope: 'Cluster',
  strategy: PLAIN,
  printer: ingressClassPrinter,
  protobuf: { message: 'networking/v1.IngressClass' },
  validation: { name: dns1123Subdomain, create: (o) => validateIngressClass(o), update: (o, old) => validateIngressClass(o, old) },
};

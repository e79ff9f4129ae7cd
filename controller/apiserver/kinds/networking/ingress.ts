// networking.k8s.io/v1 Ingress: HTTP routes from hosts and paths to Services (pkg/registry/networking/ingress).
import { type KindDefinition, WORKLOAD } from '../kind-definition.js';
import { ingressPrinter } from '../../tables/ingress.js';
import { validateIngressSpec } from '../../validation/ingress.js';
import { dns1123Subdomain } from '../../validation/names.js';
import { spec } from '../../validation/spec-rules.js';

export const ingress: KindDefinition = {
  group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', resource: 'ingresses', scope: 'Namespaced',
  shortNames: ['ing'],
  subresources: ['status'],
  strategy: WORKLOAD,
  printer: ingressPrinter,
  protobuf: { message: 'networking/v1.Ingress' },
  validation: { name: dns1123Subdomain, create: spec(validateIngressSpec) },
};

// apiextensions.k8s.io/v1 CustomResourceDefinition: kinds defined at run time
// (apiextensions-apiserver pkg/registry/customresourcedefinition); serving them is crd/.
import { type KindDefinition, WORKLOAD } from '../kind-definition.js';
import { defaultCrd, validateCrd, validateCrdUpdate } from '../../crd/definition-rules.js';
import { dns1123Subdomain } from '../../validation/names.js';

export const customResourceDefinition: KindDefinition = {
  group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition', resource: 'customresourcedefinitions', scope: 'Cluster',
  shortNames: ['crd', 'crds'],
  categories: ['api-extensions'],
  subresources: ['status'],
  strategy: WORKLOAD,
  defaults: defaultCrd,
  validation: { name: dns1123Subdomain, create: validateCrd, update: validateCrdUpdate },
};

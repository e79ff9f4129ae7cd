/** Which rules apply to which kind, beyond the schema: declared in the kind's module under kinds/ (or, for kinds not yet declared there, in the table below). */
import { dns1123Label, dns1123Subdomain } from './names.js';
import { validateDataKeys } from './data-keys.js';
import { validateCrd, validateCrdUpdate } from '../crd/definition-rules.js';
import { kindNamed } from '../kinds/index.js';
import { spec, specUpdate, type KindRules } from './spec-rules.js';
import { validatePodSpec, validatePodSpecUpdate } from './pod.js';
import { validateServiceSpec, validateServiceSpecUpdate } from './service.js';
import { validateIngressClass, validateIngressSpec } from './ingress.js';
import { pathSegmentName, validateBinding, validateBindingUpdate, validateRules } from './rbac.js';
import { validateClaimSpec, validateClaimSpecUpdate, validateVolumeSpec } from './storage.js';

export type { KindRules } from './spec-rules.js';

const RULES: Record<string, KindRules> = {
  '/Pod': { name: dns1123Subdomain, create: spec(validatePodSpec), update: specUpdate(validatePodSpecUpdate) },
  '/Namespace': { name: dns1123Label },
  '/Node': { name: dns1123Subdomain },
  '/Service': { name: dns1123Label, create: spec(validateServiceSpec), update: specUpdate(validateServiceSpecUpdate) },
  '/ConfigMap': { name: dns1123Subdomain, create: (o) => validateDataKeys(o, ['data', 'binaryData']) },
  '/Secret': { name: dns1123Subdomain, create: (o) => validateDataKeys(o, ['data', 'stringData']) },
  'apiextensions.k8s.io/CustomResourceDefinition': { name: dns1123Subdomain, create: validateCrd, update: validateCrdUpdate },
  'rbac.authorization.k8s.io/Role': { name: pathSegmentName, create: validateRules, update: validateRules },
  'rbac.authorization.k8s.io/ClusterRole': { name: pathSegmentName, create: validateRules, update: validateRules },
  'rbac.authorization.k8s.io/RoleBinding': { name: pathSegmentName, create: validateBinding, update: validateBindingUpdate },
  'rbac.authorization.k8s.io/ClusterRoleBinding': { name: pathSegmentName, create: validateBinding, update: validateBindingUpdate },
  'networking.k8s.io/Ingress': { name: dns1123Subdomain, create: spec(validateIngressSpec) },
  'networking.k8s.io/IngressClass': { name: dns1123Subdomain, create: (o) => validateIngressClass(o), update: (o, old) => validateIngressClass(o, old) },
  '/PersistentVolumeClaim': { name: dns1123Subdomain, create: spec(validateClaimSpec), update: specUpdate(validateClaimSpecUpdate) },
  '/PersistentVolume': { name: dns1123Subdomain, create: spec(validateVolumeSpec), update: spec(validateVolumeSpec) },
};

const DEFAULT_RULES: KindRules = { name: dns1123Subdomain };

export function rulesFor(group: string, kind: string): KindRules {
  const declared = kindNamed(group, kind);
  if (declared) return declared.validation ?? DEFAULT_RULES;
  return RULES[`${group}/${kind}`] ?? DEFAULT_RULES;
}

/** Which rules apply to which kind, beyond the schema. */
import { FieldPath, type FieldCause } from './field-cause.js';
import { dns1123Label, dns1123Subdomain } from './names.js';
import { validateDataKeys } from './data-keys.js';
import type { NameRule } from './object-meta.js';
import { validatePodSpec, validatePodSpecUpdate } from './pod.js';
import { validateServiceSpec, validateServiceSpecUpdate } from './service.js';
import { asObj, type Obj } from './shape.js';
import { validateClaimSpec, validateClaimSpecUpdate, validateStatefulSetSpec, validateStatefulSetSpecUpdate, validateVolumeSpec } from './storage.js';
import { validateDaemonSetSpec, validateDeploymentSpec, validateReplicaSetSpec, validateSelectorUpdate } from './workloads.js';

export interface KindRules {
  /** Syntax of metadata.name. */
  name: NameRule;
  create?: (obj: Obj) => FieldCause[];
  update?: (obj: Obj, old: Obj) => FieldCause[];
}

const SPEC = new FieldPath('spec');
const spec = (validate: (spec: unknown, path: FieldPath) => FieldCause[]) => (obj: Obj) => validate(obj.spec, SPEC);
const specUpdate = (validate: (spec: unknown, old: unknown, path: FieldPath) => FieldCause[]) => (obj: Obj, old: Obj) => validate(obj.spec, asObj(old)?.spec, SPEC);

const RULES: Record<string, KindRules> = {
  '/Pod': { name: dns1123Subdomain, create: spec(validatePodSpec), update: specUpdate(validatePodSpecUpdate) },
  '/Namespace': { name: dns1123Label },
  '/Node': { name: dns1123Subdomain },
  '/Service': { name: dns1123Label, create: spec(validateServiceSpec), update: specUpdate(validateServiceSpecUpdate) },
  '/ConfigMap': { name: dns1123Subdomain, create: (o) => validateDataKeys(o, ['data', 'binaryData']) },
  '/Secret': { name: dns1123Subdomain, create: (o) => validateDataKeys(o, ['data', 'stringData']) },
  'apps/Deployment': { name: dns1123Subdomain, create: spec(validateDeploymentSpec), update: specUpdate(validateSelectorUpdate) },
  'apps/ReplicaSet': { name: dns1123Subdomain, create: spec(validateReplicaSetSpec), update: specUpdate(validateSelectorUpdate) },
  'apps/DaemonSet': { name: dns1123Subdomain, create: spec(validateDaemonSetSpec), update: specUpdate(validateSelectorUpdate) },
  'apps/StatefulSet': { name: dns1123Label, create: spec(validateStatefulSetSpec), update: specUpdate(validateStatefulSetSpecUpdate) },
  '/PersistentVolumeClaim': { name: dns1123Subdomain, create: spec(validateClaimSpec), update: specUpdate(validateClaimSpecUpdate) },
  '/PersistentVolume': { name: dns1123Subdomain, create: spec(validateVolumeSpec), update: spec(validateVolumeSpec) },
};

const DEFAULT_RULES: KindRules = { name: dns1123Subdomain };

export function rulesFor(group: string, kind: string): KindRules {
  return RULES[`${group}/${kind}`] ?? DEFAULT_RULES;
}

/**
 * rbac.authorization.k8s.io rules beyond the schema (upstream pkg/apis/rbac/validation):
 * names are path segments (so `system:` names work), every rule has verbs, a binding's
 * role reference is complete and never changes, subjects are of a known kind.
 */
import { invalid, required, type FieldCause } from './field-cause.js';
import { asArray, asObj, asString, type Obj } from './shape.js';

export function pathSegmentName(value: string): string[] {
  if (value === '.' || value === '..') return [`may not be '${value}'`];
  for (const bad of ['/', '%']) if (value.includes(bad)) return [`may not contain '${bad}'`];
  return [];
}

export function validateRules(obj: Obj): FieldCause[] {
  const out: FieldCause[] = [];
  asArray(obj.rules).forEach((r, i) => {
    const rule = asObj(r) ?? {};
    const p = `rules[${i}]`;
    if (!asArray(rule.verbs).length) out.push(required(`${p}.verbs`, 'verbs must contain at least one value'));
    const urls = asArray(rule.nonResourceURLs);
    if (urls.length) {
      if (obj.kind === 'Role') out.push(invalid(`${p}.nonResourceURLs`, urls, 'namespaced rules cannot apply to non-resource URLs'));
      if (asArray(rule.apiGroups).length || asArray(rule.resources).length) out.push(invalid(`${p}.nonResourceURLs`, urls, 'rules cannot apply to both regular resources and non-resource URLs'));
      return;
    }
    if (!asArray(rule.apiGroups).length) out.push(required(`${p}.apiGroups`, 'resource rules must supply at least one api group'));
    if (!asArray(rule.resources).length) out.push(required(`${p}.resources`, 'resource rules must supply at least one resource'));
  });
  return out;
}

const SUBJECT_KINDS = ['ServiceAccount', 'User', 'Group'];

export function validateBinding(obj: Obj): FieldCause[] {
  const out: FieldCause[] = [];
  const ref = asObj(obj.roleRef) ?? {};
  const kinds = obj.kind === 'RoleBinding' ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!asString(ref.kind)) out.push(required('roleRef.kind'));
  else if (!kinds.includes(ref.kind as string)) out.push({ reason: 'FieldValueNotSupported', field: 'roleRef.kind', message: `Unsupported value: ${JSON.stringify(ref.kind)}: supported values: ${kinds.map((k) => JSON.stringify(k)).join(', ')}` });
  if (!asString(ref.name)) out.push(required('roleRef.name'));
  if (asString(ref.apiGroup) !== undefined && ref.apiGroup !== 'rbac.authorization.k8s.io') {
    out.push({ reason: 'FieldValueNotSupported', field: 'roleRef.apiGroup', message: `Unsupported value: ${JSON.stringify(ref.apiGroup)}: supported values: "rbac.authorization.k8s.io"` });
  }
  asArray(obj.subjects).forEach((s, i) => {
    const subj = asObj(s) ?? {};
    const p = `subjects[${i}]`;
    if (!asString(subj.name)) out.push(required(`${p}.name`));
    if (!SUBJECT_KINDS.includes(asString(subj.kind) ?? '')) {
      out.push({ reason: 'FieldValueNotSupported', field: `${p}.kind`, message: `Unsupported value: ${JSON.stringify(subj.kind ?? '')}: supported values: "ServiceAccount", "User", "Group"` });
    } else if (subj.kind === 'ServiceAccount' && obj.kind === 'ClusterRoleBinding' && !asString(subj.namespace)) {
      out.push(required(`${p}.namespace`));
    }
  });
  return out;
}

export function validateBindingUpdate(obj: Obj, old: Obj): FieldCause[] {
  const out = validateBinding(obj);
  const a = asObj(obj.roleRef) ?? {};
  const b = asObj(old.roleRef) ?? {};
  if (a.kind !== b.kind || a.name !== b.name || (a.apiGroup ?? '') !== (b.apiGroup ?? '')) {
    out.push(invalid('roleRef', obj.roleRef, 'cannot change roleRef'));
  }
  return out;
}

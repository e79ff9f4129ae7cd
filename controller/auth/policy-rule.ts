// Does one RBAC PolicyRule allow a request? (upstream's rbac/v1 helpers and
// plugin/pkg/auth/authorizer/rbac: VerbMatches, APIGroupMatches, ResourceMatches, ...)
import type { PolicyRule } from '../../protocol/kube/types.js';
import type { RequestAttributes } from './attributes.js';

export type { PolicyRule } from '../../protocol/kube/types.js';

const ALL = '*';

function has(list: string[] | undefined, value: string): boolean {
  if (!list) return false;
  for (const v of list) if (v === ALL || v === value) return true;
  return false;
}

function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const r of rule.resources ?? []) {
    if (r === ALL || r === combined) return true;
    if (!subresource) continue;
    // "pods/*" covers every subresource of pods; "*/scale" covers scale of everything.
    if (r === `${resource}/*` || r === `*/${subresource}`) return true;
  }
  return false;
}

function nameMatches(rule: PolicyRule, name: string): boolean {
  if (!rule.resourceNames || rule.resourceNames.length === 0) return true;
  return name !== '' && rule.resourceNames.includes(name);
}

function urlMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === ALL || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

export function ruleAllows(rule: PolicyRule, a: Pick<RequestAttributes, 'verb' | 'resourceRequest' | 'path' | 'apiGroup' | 'resource' | 'subresource' | 'name'>): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.resourceRequest) return urlMatches(rule, a.path);
  return has(rule.apiGroups, a.apiGroup) && resourceMatches(rule, a.resource, a.subresource) && nameMatches(rule, a.name);
}

// RBAC's escalation prevention (upstream pkg/registry/rbac: role and binding storage with
// rbac/validation's ConfirmNoEscalation). Whoever writes a Role or ClusterRole must already
// hold every rule in it, or have the `escalate` verb on it; whoever writes a RoleBinding or
// ClusterRoleBinding must hold every rule of the role it refers to, or have `bind` on that
// role. Setting a ClusterRole's aggregationRule, which can gather anything, takes rights on
// everything. system:masters is exempt, and so are the cluster's own writes (no requester).
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../protocol/kube/types.js';
import type { WriteCheck } from '../apiserver/admission/admission.js';
import type { ApiCore } from '../apiserver/api-core.js';
import { forbidden, notFound } from '../apiserver/errors.js';
import type { UserInfo } from '../apiserver/http/server.js';
import { findResource } from '../apiserver/resources.js';
import type { RequestAttributes } from './attributes.js';
import { ruleAllows, type PolicyRule } from './policy-rule.js';
import { MASTERS_GROUP, type RbacAuthorizer } from './rbac-authorizer.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** `*` on everything, resources and URLs: what an aggregation rule may need. */
const FULL_AUTHORITY: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

type Unit = Pick<RequestAttributes, 'verb' | 'resourceRequest' | 'path' | 'apiGroup' | 'resource' | 'subresource' | 'name'>;

/** A rule broken into single verb/group/resource/name (or verb/URL) permissions. */
function units(rule: PolicyRule): { unit: Unit; rule: PolicyRule }[] {
  const out: { unit: Unit; rule: PolicyRule }[] = [];
  for (const verb of rule.verbs ?? []) {
    for (const url of rule.nonResourceURLs ?? []) {
      out.push({ unit: { verb, resourceRequest: false, path: url, apiGroup: '', resource: '', subresource: '', name: '' }, rule: { verbs: [verb], nonResourceURLs: [url] } });
    }
    for (const group of rule.apiGroups ?? []) {
      for (const full of rule.resources ?? []) {
        const slash = full.indexOf('/');
        const resource = slash < 0 ? full : full.slice(0, slash);
        const subresource = slash < 0 ? '' : full.slice(slash + 1);
        const names = rule.resourceNames?.length ? rule.resourceNames : [''];
        for (const name of names) {
          out.push({
            unit: { verb, resourceRequest: true, path: '', apiGroup: group, resource, subresource, name },
            rule: { verbs: [verb], apiGroups: [group], resources: [full], ...(name ? { resourceNames: [name] } : {}) },
          });
        }
      }
    }
  }
  return out;
}

/** The parts of `wanted` no rule in `held` covers, merged back per target (upstream's Covers + CompactRules). */
export function uncoveredRules(held: readonly PolicyRule[], wanted: readonly PolicyRule[]): PolicyRule[] {
  const missing = new Map<string, PolicyRule>();
  for (const rule of wanted) {
    for (const { unit, rule: single } of units(rule)) {
      if (held.some((h) => ruleAllows(h, unit))) continue;
      const { verbs, ...target } = single;
      const key = JSON.stringify(target);
      const seen = missing.get(key);
      if (seen) { if (!seen.verbs!.includes(verbs![0]!)) seen.verbs!.push(verbs![0]!); } else missing.set(key, { ...target, verbs: [...verbs!] });
    }
  }
  return [...missing.values()];
}

/** Go's %q of a string list: `["a" "b"]`. */
const goQuoted = (list: readonly string[]) => `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;

/** Upstream's PolicyRule.CompactString. */
export function compactRule(r: PolicyRule): string {
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${goQuoted(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${goQuoted(r.resources)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${goQuoted(r.nonResourceURLs)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${goQuoted(r.resourceNames)}`);
  if (r.verbs?.length) parts.push(`Verbs:${goQuoted(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}

/** Only what the garbage collector changes on its way to deleting (upstream's IsOnlyMutatingGCFields). */
function onlyGcFieldsChanged(obj: KubeObject, old: KubeObject): boolean {
  const strip = (o: KubeObject) => {
    const { ownerReferences: _o, finalizers: _f, resourceVersion: _r, managedFields: _m, generation: _g, ...meta } = o.metadata as Record<string, unknown>;
    return { ...o, metadata: meta };
  };
  return isDeepStrictEqual(strip(obj), strip(old));
}

export function escalationCheck(core: ApiCore, authorizer: RbacAuthorizer): WriteCheck {
  const may = (user: UserInfo, verb: string, resource: string, namespace: string, name: string) => authorizer.authorize({
    user, verb, resourceRequest: true, path: '', apiGroup: RBAC_GROUP, apiVersion: 'v1', resource, subresource: '', namespace, name,
  }).allowed;

  const refuse = (resource: string, name: string, why: string) =>
    forbidden(`${resource}.${RBAC_GROUP} "${name}" is forbidden: ${why}`, { name, group: RBAC_GROUP, kind: resource });

  const confirmNoEscalation = (user: UserInfo, resource: string, name: string, namespace: string, rules: readonly PolicyRule[]) => {
    const missing = uncoveredRules(authorizer.rulesFor(user, namespace), rules);
    if (missing.length === 0) return;
    throw refuse(resource, name, `user "${user.username}" (groups=${goQuoted(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${missing.map(compactRule).join('\n')}`);
  };

  const roleRules = (kind: string | undefined, roleName: string, namespace: string): PolicyRule[] => {
    if (kind === 'ClusterRole') {
      if (!core.tryGet(findResource(RBAC_GROUP, 'clusterroles')!, undefined, roleName)) throw notFound('clusterroles', roleName, RBAC_GROUP);
      return authorizer.clusterRoleRules(roleName);
    }
    const role = core.tryGet(findResource(RBAC_GROUP, 'roles')!, namespace, roleName) as (KubeObject & { rules?: PolicyRule[] }) | undefined;
    if (!role) throw notFound('roles', roleName, RBAC_GROUP);
    return role.rules ?? [];
  };

  return (info, obj, old, user) => {
    if (info.group !== RBAC_GROUP || !user || user.groups.includes(MASTERS_GROUP)) return;
    if (old && onlyGcFieldsChanged(obj, old)) return;
    const name = obj.metadata.name ?? '';
    const namespace = info.namespaced ? obj.metadata.namespace ?? '' : '';
    switch (info.resource) {
      case 'roles':
      case 'clusterroles': {
        if (may(user, 'escalate', info.resource, namespace, name)) return;
        confirmNoEscalation(user, info.resource, name, namespace, (obj.rules as PolicyRule[] | undefined) ?? []);
        const aggregation = obj.aggregationRule as { clusterRoleSelectors?: unknown[] } | undefined;
        const oldAggregation = old?.aggregationRule as { clusterRoleSelectors?: unknown[] } | undefined;
        const aggregates = !!aggregation?.clusterRoleSelectors?.length || !!oldAggregation?.clusterRoleSelectors?.length;
        if (info.resource === 'clusterroles' && aggregates && (!old || !isDeepStrictEqual(aggregation, oldAggregation))
          && uncoveredRules(authorizer.rulesFor(user, ''), FULL_AUTHORITY).length > 0) {
          throw refuse(info.resource, name, 'must have cluster-admin privileges to use an aggregationRule');
        }
        return;
      }
      case 'rolebindings':
      case 'clusterrolebindings': {
        const ref = obj.roleRef as { kind?: string; name?: string } | undefined;
        const roleName = ref?.name ?? '';
        if (may(user, 'bind', ref?.kind === 'Role' ? 'roles' : 'clusterroles', namespace, roleName)) return;
        confirmNoEscalation(user, info.resource, name, namespace, roleRules(ref?.kind, roleName, namespace));
      }
    }
  };
}

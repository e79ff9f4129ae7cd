// The RBAC authorizer (upstream plugin/pkg/auth/authorizer/rbac): a request is allowed
// when a rule of a role bound to the user, one of its groups or its service account
// allows it. Cluster bindings apply everywhere, role bindings in their namespace.
// Rules per user and namespace are cached until any RBAC object changes.
import type { PolicyRule, Role, RoleBinding, Subject } from '../../protocol/kube/types.js';
import { selectorMatches } from '../../protocol/kube/labels.js';
import type { ApiCore } from '../apiserver/api-core.js';
import type { UserInfo } from '../apiserver/http/server.js';
import { findResource, type ResourceInfo } from '../apiserver/resources.js';
import type { RequestAttributes } from './attributes.js';
import { ruleAllows } from './policy-rule.js';

export const MASTERS_GROUP = 'system:masters';

export type { Subject } from '../../protocol/kube/types.js';

export interface Decision { allowed: boolean; reason: string }

const rbac = (resource: string): ResourceInfo => findResource('rbac.authorization.k8s.io', resource)!;

export function subjectMatches(s: Subject, user: UserInfo, bindingNamespace: string): boolean {
  switch (s.kind) {
    case 'User': return s.name === user.username;
    case 'Group': return s.name !== undefined && user.groups.includes(s.name);
    case 'ServiceAccount': {
      const ns = s.namespace || bindingNamespace;
      return user.username === `system:serviceaccount:${ns}:${s.name}`;
    }
    default: return false;
  }
}

export class RbacAuthorizer {
  private generation = 0;
  private cache = new Map<string, { generation: number; rules: PolicyRule[] }>();
  private stops: (() => void)[] = [];

  constructor(private readonly core: ApiCore) {
    const bump = () => { this.generation++; };
    for (const r of ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings']) {
      this.stops.push(core.watch(rbac(r), undefined, { resourceVersion: String(core.store.revision) }, bump));
    }
  }

  stop(): void {
    for (const s of this.stops.splice(0)) s();
  }

  authorize(a: RequestAttributes): Decision {
    if (a.user.groups.includes(MASTERS_GROUP)) return { allowed: true, reason: '' };
    for (const rule of this.rulesFor(a.user, a.namespace)) {
      if (ruleAllows(rule, a)) return { allowed: true, reason: 'RBAC: allowed by a role binding' };
    }
    return { allowed: false, reason: '' };
  }

  /** Every rule that applies to the user in a namespace ('' = cluster-wide ones only). */
  rulesFor(user: UserInfo, namespace: string): PolicyRule[] {
    const key = `${user.username}\n${user.groups.join('\n')}\n${namespace}`;
    const hit = this.cache.get(key);
    if (hit && hit.generation === this.generation) return hit.rules;
    const rules: PolicyRule[] = [];
    for (const b of this.core.list(rbac('clusterrolebindings'), undefined).items as RoleBinding[]) {
      if (!(b.subjects ?? []).some((s) => subjectMatches(s, user, ''))) continue;
      if (b.roleRef?.kind === 'ClusterRole') rules.push(...this.clusterRoleRules(b.roleRef.name ?? ''));
    }
    if (namespace) {
      for (const b of this.core.list(rbac('rolebindings'), namespace).items as RoleBinding[]) {
        if (!(b.subjects ?? []).some((s) => subjectMatches(s, user, namespace))) continue;
        if (b.roleRef?.kind === 'ClusterRole') rules.push(...this.clusterRoleRules(b.roleRef.name ?? ''));
        else if (b.roleRef?.kind === 'Role') {
          const role = this.core.tryGet(rbac('roles'), namespace, b.roleRef.name ?? '') as Role | undefined;
          rules.push(...(role?.rules ?? []));
        }
      }
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { generation: this.generation, rules });
    return rules;
  }

  /**
   * A ClusterRole's rules; an aggregated role also gets the rules of every ClusterRole its
   * selectors pick (the aggregation controller writes them into the object as well).
   */
  clusterRoleRules(name: string, seen = new Set<string>()): PolicyRule[] {
    if (seen.has(name)) return [];
    seen.add(name);
    const role = this.core.tryGet(rbac('clusterroles'), undefined, name) as Role | undefined;
    if (!role) return [];
    const selectors = role.aggregationRule?.clusterRoleSelectors;
    if (!selectors?.length) return role.rules ?? [];
    return aggregatedRules(this.core, role, seen, (n, s) => this.clusterRoleRules(n, s));
  }
}

/** The union of the rules of the ClusterRoles an aggregation rule selects, without repeats. */
export function aggregatedRules(core: ApiCore, role: Role, seen: Set<string>, rulesOf: (name: string, seen: Set<string>) => PolicyRule[]): PolicyRule[] {
  const selectors = role.aggregationRule?.clusterRoleSelectors ?? [];
  const out: PolicyRule[] = [];
  const keys = new Set<string>();
  const all = (core.list(rbac('clusterroles'), undefined).items as Role[])
    .filter((r) => r.metadata.name !== role.metadata.name)
    .sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
  for (const other of all) {
    if (!selectors.some((sel) => selectorMatches(sel as never, other.metadata.labels))) continue;
    for (const rule of rulesOf(other.metadata.name!, new Set(seen))) {
      const k = JSON.stringify(rule);
      if (!keys.has(k)) { keys.add(k); out.push(rule); }
    }
  }
  return out;
}

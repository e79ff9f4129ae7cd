// The ClusterRole aggregation loop (upstream pkg/controller/clusterroleaggregation): a
// ClusterRole with an aggregationRule has its rules replaced by the union of the rules of
// the ClusterRoles its selectors pick, whenever any ClusterRole changes.
import type { KubeObject } from '../../protocol/kube/types.js';
import type { ApiCore } from '../apiserver/api-core.js';
import { findResource } from '../apiserver/resources.js';
import { aggregatedRules } from './rbac-authorizer.js';
import type { PolicyRule } from './policy-rule.js';

type Role = KubeObject & { rules?: PolicyRule[]; aggregationRule?: { clusterRoleSelectors?: object[] } };

export class ClusterRoleAggregator {
  readonly name = 'clusterrole-aggregation';
  private stopWatch?: () => void;
  private pending?: NodeJS.Timeout;
  private running = Promise.resolve();

  constructor(private readonly core: ApiCore, private readonly log: { warn: (o: object, m: string) => void }) {}

  async start(): Promise<void> {
    await this.syncAll();
    const info = findResource('rbac.authorization.k8s.io', 'clusterroles')!;
    this.stopWatch = this.core.watch(info, undefined, { resourceVersion: String(this.core.store.revision) }, () => this.schedule());
  }

  stop(): Promise<void> {
    this.stopWatch?.();
    if (this.pending) clearTimeout(this.pending);
    return this.running;
  }

  private schedule(): void {
    if (this.pending) return;
    // Changes come in bursts (an install writes several roles): one pass after them.
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.running = this.running.then(() => this.syncAll()).catch((err) => this.log.warn({ err: (err as Error).message }, 'clusterrole aggregation failed'));
    }, 50);
  }

  async syncAll(): Promise<void> {
    const info = findResource('rbac.authorization.k8s.io', 'clusterroles')!;
    const all = this.core.list(info, undefined).items as Role[];
    const byName = new Map(all.map((r) => [r.metadata.name!, r]));
    const rulesOf = (name: string, seen: Set<string>): PolicyRule[] => {
      if (seen.has(name)) return [];
      seen.add(name);
      const r = byName.get(name);
      if (!r) return [];
      return r.aggregationRule?.clusterRoleSelectors?.length ? aggregatedRules(this.core, r, seen, rulesOf) : (r.rules ?? []);
    };
    // Written together, so that one group commit carries them.
    await Promise.all(all.filter((role) => role.aggregationRule?.clusterRoleSelectors?.length).map(async (role) => {
      const rules = aggregatedRules(this.core, role, new Set([role.metadata.name!]), rulesOf);
      if (JSON.stringify(rules) === JSON.stringify(role.rules ?? [])) return;
      await this.core.mutate(info, undefined, role.metadata.name!, (d) => { d.rules = rules; return d; });
    }));
  }
}

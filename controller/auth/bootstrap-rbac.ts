// Writes the bootstrap policy at start-up, like upstream's RBAC post-start hook: a role
// missing is created, one whose rules fell behind is brought up to date unless an admin set
// rbac.authorization.kubernetes.io/autoupdate=false on it. Aggregated roles get their
// rules filled in (and kept filled in by the aggregation loop).
import type { KubeObject } from '../../protocol/kube/types.js';
import type { ApiCore } from '../apiserver/api-core.js';
import { findResource } from '../apiserver/resources.js';
import { AGGREGATE_TO, BOOTSTRAP_CLUSTER_ROLE_BINDINGS, BOOTSTRAP_CLUSTER_ROLES } from './bootstrap-policy.js';

const GROUP = 'rbac.authorization.k8s.io';
const AUTOUPDATE = 'rbac.authorization.kubernetes.io/autoupdate';
const BOOTSTRAP_LABEL = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };

function autoUpdate(obj: KubeObject | undefined): boolean {
  return obj?.metadata.annotations?.[AUTOUPDATE] !== 'false';
}

export async function ensureBootstrapRbac(core: ApiCore): Promise<void> {
  const roles = findResource(GROUP, 'clusterroles')!;
  const bindings = findResource(GROUP, 'clusterrolebindings')!;
  // All at once: the store's group commit then writes them with a handful of fsyncs.
  await Promise.all(BOOTSTRAP_CLUSTER_ROLES.map(async (r) => {
    const want: KubeObject = {
      apiVersion: `${GROUP}/v1`, kind: 'ClusterRole',
      metadata: { name: r.name, labels: { ...BOOTSTRAP_LABEL, ...(r.labels ?? {}) }, annotations: { [AUTOUPDATE]: 'true' } },
      ...(r.aggregateFrom ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [AGGREGATE_TO(r.aggregateFrom as 'admin')]: 'true' } }] } } : {}),
      rules: r.rules,
    };
    const have = core.tryGet(roles, undefined, r.name);
    if (!have) await core.create(roles, undefined, want);
    else if (autoUpdate(have) && !r.aggregateFrom && JSON.stringify(have.rules) !== JSON.stringify(r.rules)) {
      await core.mutate(roles, undefined, r.name, (d) => { d.rules = r.rules; d.metadata.labels = { ...(d.metadata.labels ?? {}), ...want.metadata.labels }; return d; });
    }
  }));
  await Promise.all(BOOTSTRAP_CLUSTER_ROLE_BINDINGS.map(async (b) => {
    const subjects = b.subjects.map((s) => ({ apiGroup: GROUP, kind: s.kind, name: s.name }));
    const have = core.tryGet(bindings, undefined, b.name);
    if (!have) {
      await core.create(bindings, undefined, {
        apiVersion: `${GROUP}/v1`, kind: 'ClusterRoleBinding',
        metadata: { name: b.name, labels: BOOTSTRAP_LABEL, annotations: { [AUTOUPDATE]: 'true' } },
        roleRef: { apiGroup: GROUP, kind: 'ClusterRole', name: b.role }, subjects,
      });
    } else if (autoUpdate(have)) {
      // Bootstrap subjects come back if removed; subjects an admin added stay.
      const current = (have.subjects as { kind: string; name: string }[] | undefined) ?? [];
      const missing = subjects.filter((s) => !current.some((c) => c.kind === s.kind && c.name === s.name));
      if (missing.length) await core.mutate(bindings, undefined, b.name, (d) => { d.subjects = [...current, ...missing]; return d; });
    }
  }));
}

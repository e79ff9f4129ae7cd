// NodeRestriction for what an agent reports (upstream plugin/pkg/admission/noderestriction):
// a node may not set labels under node-restriction.kubernetes.io/ or node-role.kubernetes.io/
// on itself, since scheduling and policy trust them. Such labels are dropped, logged with the
// node's name and counted.

const RESTRICTED_PREFIXES = ['node-restriction.kubernetes.io/', 'node-role.kubernetes.io/'];

export function isRestrictedNodeLabel(key: string): boolean {
  const domain = key.includes('/') ? key.slice(0, key.indexOf('/') + 1) : '';
  if (!domain) return false;
  const host = domain.slice(0, -1);
  return RESTRICTED_PREFIXES.some((p) => domain === p || host.endsWith(`.${p.slice(0, -1)}`));
}

export type NodeDenial = (node: string, what: string, detail: object) => void;

/** The labels a node may set on itself; the rest are reported through `denied`. */
export function allowedNodeLabels(node: string, labels: Record<string, string> | undefined, denied: NodeDenial): Record<string, string> {
  const out: Record<string, string> = {};
  const refused: string[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (isRestrictedNodeLabel(k)) refused.push(k);
    else out[k] = v;
  }
  if (refused.length) denied(node, 'restricted-label', { labels: refused });
  return out;
}

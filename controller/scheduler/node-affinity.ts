// nodeSelector and node affinity, compiled once per pod into plain functions of a
// node's labels and name. Terms of nodeSelectorTerms are ORed; inside a term every
// matchExpression and matchField must hold; an empty term matches nothing.
import type { Node, NodeSelectorRequirement, NodeSelectorTerm, Pod, PodSpec, PreferredSchedulingTerm } from '../../protocol/kube/types.js';

export type { NodeSelectorRequirement, NodeSelectorTerm, PreferredSchedulingTerm } from '../../protocol/kube/types.js';

export type NodeMatcher = (labels: Readonly<Record<string, string>>, nodeName: string) => boolean;

function integerOf(text: string | undefined): number | undefined {
  if (text === undefined || !/^-?\d+$/.test(text.trim())) return undefined;
  return Number(text);
}

function requirementMatcher(r: NodeSelectorRequirement): (value: string | undefined) => boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In': return (v) => v !== undefined && values.includes(v);
    case 'NotIn': return (v) => v === undefined || !values.includes(v);
    case 'Exists': return (v) => v !== undefined;
    case 'DoesNotExist': return (v) => v === undefined;
    case 'Gt':
    case 'Lt': {
      const bound = integerOf(values[0]);
      if (bound === undefined || values.length !== 1) return () => false;
      return (v) => {
        const n = integerOf(v);
        if (n === undefined) return false;
        return r.operator === 'Gt' ? n > bound : n < bound;
      };
    }
    default: return () => false;
  }
}

export function termMatcher(term: NodeSelectorTerm | undefined | null): NodeMatcher {
  const expressions = (term?.matchExpressions ?? []).map((r) => ({ key: r.key, test: requirementMatcher(r) }));
  // Only metadata.name is a supported field, and only with In/NotIn.
  const fields = (term?.matchFields ?? []).map((r) => ({
    test: r.key === 'metadata.name' && (r.operator === 'In' || r.operator === 'NotIn') ? requirementMatcher(r) : () => false,
  }));
  if (expressions.length === 0 && fields.length === 0) return () => false;
  return (labels, nodeName) => {
    for (const e of expressions) if (!e.test(Object.prototype.hasOwnProperty.call(labels, e.key) ? labels[e.key] : undefined)) return false;
    for (const f of fields) if (!f.test(nodeName)) return false;
    return true;
  };
}

/** nodeSelector AND required node affinity; undefined when the pod constrains nothing. */
export function requiredNodeMatcher(pod: Pod): NodeMatcher | undefined {
  return requiredNodeMatcherOf(pod.spec);
}

/**
 * The same rule for a pod template's spec: the DaemonSet controller decides where its pods
 * belong with it, so that it and the scheduler never disagree about a node.
 */
export function requiredNodeMatcherOf(spec: PodSpec | undefined): NodeMatcher | undefined {
  const selector = Object.entries(spec?.nodeSelector ?? {});
  const terms: NodeSelectorTerm[] | undefined = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (selector.length === 0 && terms === undefined) return undefined;
  const termMatchers = terms?.map(termMatcher);
  return (labels, nodeName) => {
    for (const [k, v] of selector) if (labels[k] !== v) return false;
    if (!termMatchers) return true;
    for (const m of termMatchers) if (m(labels, nodeName)) return true;
    return false;
  };
}

export interface PreferredMatcher { weight: number; matches: NodeMatcher }

export function preferredNodeMatchers(pod: Pod): PreferredMatcher[] {
  const terms: PreferredSchedulingTerm[] = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  return terms.filter((t) => t && t.weight > 0).map((t) => ({ weight: t.weight, matches: termMatcher(t.preference) }));
}

/** Whether a pod spec's nodeSelector and required node affinity admit the node. */
export function nodeMatchesRequired(spec: PodSpec | undefined, node: Node): boolean {
  const m = requiredNodeMatcherOf(spec);
  return !m || m(node.metadata.labels ?? {}, node.metadata.name ?? '');
}

// What a binding's state means for each node: the taint or labels on every selected node
// while the condition holds, off every node otherwise (and off nodes that no longer match
// the selector). Pure: reconcile computes the plan, then writes only the nodes it names.
import type { Node, Taint } from '../../protocol/kube/types.js';
import type { TopicBindingSpec } from './topic-binding-types.js';

export interface NodeChange {
  node: string;
  taints?: Taint[];
  /** Labels to set (string) or remove (null), as a merge patch writes them. */
  labels?: Record<string, string | null>;
}

export function nodeSelected(spec: TopicBindingSpec, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  return Object.entries(spec.nodeSelector ?? {}).every(([k, v]) => labels[k] === v);
}

const sameTaint = (a: Pick<Taint, 'key' | 'effect'>, b: Pick<Taint, 'key' | 'effect'>) => a.key === b.key && a.effect === b.effect;

/** The changes that bring every node in line with `active`; nodes already right are left out. */
export function planNodeChanges(spec: TopicBindingSpec, active: boolean, nodes: readonly Node[]): NodeChange[] {
  const changes: NodeChange[] = [];
  for (const node of nodes) {
    const want = active && nodeSelected(spec, node);
    const change: NodeChange = { node: node.metadata.name! };
    if (spec.taint) {
      const taints = node.spec?.taints ?? [];
      const has = taints.find((t) => sameTaint(t, spec.taint!));
      const right = want ? has && (has.value ?? '') === (spec.taint.value ?? '') : !has;
      if (!right) {
        const others = taints.filter((t) => !sameTaint(t, spec.taint!));
        change.taints = want ? [...others, { key: spec.taint.key, effect: spec.taint.effect, ...(spec.taint.value ? { value: spec.taint.value } : {}) }] : others;
      }
    }
    const labels = node.metadata.labels ?? {};
    for (const [k, v] of Object.entries(spec.labels ?? {})) {
      if (want && labels[k] !== v) (change.labels ??= {})[k] = v;
      // Only a label with the binding's own value is the binding's to remove.
      if (!want && labels[k] === v) (change.labels ??= {})[k] = null;
    }
    if (change.taints || change.labels) changes.push(change);
  }
  return changes;
}

/** Nodes that carry the binding's taint or labels. */
export function nodesCarrying(spec: TopicBindingSpec, nodes: readonly Node[]): string[] {
  return nodes.filter((n) => {
    if (spec.taint && (n.spec?.taints ?? []).some((t) => sameTaint(t, spec.taint!))) return true;
    const labels = n.metadata.labels ?? {};
    const entries = Object.entries(spec.labels ?? {});
    return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
  }).map((n) => n.metadata.name!).sort();
}

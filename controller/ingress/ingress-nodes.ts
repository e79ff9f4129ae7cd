// Which nodes serve ingress. A node's agent says whether its ingress proxy runs (the
// PROXY_LABEL it reports about itself). Whether the node may serve, and so receive the
// private keys of the Ingresses' TLS Secrets, is the administrator's word: once any node
// carries SERVE_LABEL=true only those nodes serve (like k3s's ServiceLB `enablelb`
// label); while none does, every node with a running proxy serves. SERVE_LABEL lives
// under `node-restriction.kubernetes.io/`, the prefix upstream's NodeRestriction keeps
// nodes from setting on themselves, so a board cannot grant itself the keys.
import type { Node } from '../../protocol/kube/types.js';
import { INGRESS_PROXY_LABEL as PROXY_LABEL } from '../../protocol/mqtt/ingress-payload.js';
import { internalIPs, isNodeReady } from '../controller-manager/load-balancer.js';
/** Set by an administrator: only nodes labelled `true` serve ingress (once any is). */
export const SERVE_LABEL = 'node-restriction.kubernetes.io/ingress';

export function servingNodes(nodes: Iterable<Node>): Node[] {
  const all = [...nodes];
  const running = all.filter((n) => n.metadata.labels?.[PROXY_LABEL] === 'on');
  const chosen = all.some((n) => n.metadata.labels?.[SERVE_LABEL] === 'true');
  return chosen ? running.filter((n) => n.metadata.labels?.[SERVE_LABEL] === 'true') : running;
}

/** Addresses for Ingress status: InternalIPs of the Ready serving nodes, sorted. */
export function ingressAddresses(nodes: Iterable<Node>): string[] {
  const ips = new Set<string>();
  for (const n of servingNodes(nodes)) if (isNodeReady(n)) for (const ip of internalIPs(n)) ips.add(ip);
  return [...ips].sort((a, b) => {
    const pa = a.split('.').map(Number), pb = b.split('.').map(Number);
    for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
    return a.localeCompare(b);
  });
}

/** What about a node changes where ingress is served. */
export function nodeSignature(node: Node): string {
  return JSON.stringify([isNodeReady(node), internalIPs(node), node.metadata.labels?.[PROXY_LABEL], node.metadata.labels?.[SERVE_LABEL]]);
}

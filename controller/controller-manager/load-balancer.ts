// Bare-metal load balancers, the cloud controller's job in a home lab: a LoadBalancer
// Service answers on the boards' own addresses, so its status lists the InternalIP of
// every Ready node that serves it. With externalTrafficPolicy Cluster that is every Ready
// node; with Local only the nodes that hold a ready endpoint (traffic stays on them).
import type { Node } from '../../protocol/kube/types.js';
import { R } from '../apiserver/client.js';
import { ignoreNotFound } from '../client/api-errors.js';
import { compareIp, type Endpoints, type Service } from './endpoints-controller.js';
import { objectKey } from '../client/informer.js';
import { QueueController, type ControllerDeps } from './queue-controller.js';

/** Nodes carrying this label never serve load balancers (upstream's opt-out). */
export const EXCLUDE_FROM_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

export function isNodeReady(node: Node): boolean {
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export function internalIPs(node: Node): string[] {
  return (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP' && a.address).map((a) => a.address);
}

/** Nodes with at least one ready endpoint of the Service. */
export function nodesWithReadyEndpoints(ep: Endpoints | undefined): Set<string> {
  const names = new Set<string>();
  for (const s of ep?.subsets ?? []) for (const a of s.addresses ?? []) if (a.nodeName) names.add(a.nodeName);
  return names;
}

/** The ingress a LoadBalancer Service should report, sorted by address. */
export function loadBalancerIngress(svc: Service, nodes: Iterable<Node>, endpoints: Endpoints | undefined): { ip: string }[] {
  if (svc.spec?.type !== 'LoadBalancer') return [];
  const local = svc.spec.externalTrafficPolicy === 'Local';
  const serving = local ? nodesWithReadyEndpoints(endpoints) : undefined;
  const ips = new Set<string>();
  for (const node of nodes) {
    if (!isNodeReady(node) || node.metadata.labels?.[EXCLUDE_FROM_LB_LABEL] !== undefined) continue;
    if (serving && !serving.has(node.metadata.name!)) continue;
    for (const ip of internalIPs(node)) ips.add(ip);
  }
  return [...ips].sort(compareIp).map((ip) => ({ ip }));
}

/** What about a node changes which load balancers it serves. */
function nodeSignature(node: Node): string {
  return JSON.stringify([isNodeReady(node), internalIPs(node), node.metadata.labels?.[EXCLUDE_FROM_LB_LABEL]]);
}

export class LoadBalancerController extends QueueController {
  readonly name = 'service-lb';

  constructor(deps: ControllerDeps) {
    super(deps, 'service-lb-controller');
  }

  private get services() { return this.informers.get<Service>(R.services); }
  private get nodes() { return this.informers.get<Node>(R.nodes); }
  private get endpoints() { return this.informers.get<Endpoints>(R.endpoints); }

  protected register(): void {
    this.services.on((_type, svc, old) => {
      // A Service that stopped being a LoadBalancer must lose its ingress too.
      if (svc.spec?.type === 'LoadBalancer' || old?.spec?.type === 'LoadBalancer' || svc.status?.loadBalancer?.ingress?.length) this.queue.add(objectKey(svc));
    });
    this.nodes.on((type, node, old) => {
      if (type === 'MODIFIED' && old && nodeSignature(old) === nodeSignature(node)) return;
      for (const svc of this.services.list((s) => s.spec?.type === 'LoadBalancer')) this.queue.add(objectKey(svc));
    });
    this.endpoints.on((_type, ep) => {
      const svc = this.services.getByKey(objectKey(ep));
      if (svc?.spec?.type === 'LoadBalancer' && svc.spec.externalTrafficPolicy === 'Local') this.queue.add(objectKey(svc));
    });
    this.services.start();
    this.nodes.start();
    this.endpoints.start();
    for (const svc of this.services.list((s) => s.spec?.type === 'LoadBalancer')) this.queue.add(objectKey(svc));
  }

  protected async reconcile(key: string): Promise<void> {
    const svc = this.services.getByKey(key);
    if (!svc || svc.metadata.deletionTimestamp) return;
    const ingress = loadBalancerIngress(svc, this.nodes.list(), this.endpoints.getByKey(key));
    const current = svc.status?.loadBalancer?.ingress ?? [];
    if (JSON.stringify(current) === JSON.stringify(ingress)) return;
    const copy = structuredClone(svc);
    copy.status = { ...(copy.status ?? {}), loadBalancer: ingress.length > 0 ? { ingress } : {} };
    await ignoreNotFound(this.client.update(R.services, copy, 'status'));
  }
}

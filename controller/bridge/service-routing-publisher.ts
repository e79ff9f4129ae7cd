// Services, their Endpoints and the nodes → one retained ServiceRoutingPayload on
// `<base>/v1/cluster/services`, read by every agent's proxy and DNS. Level-triggered like
// the desired pods: each publication is complete, coalesced over a short debounce, and
// published only when its content changed. The generation is the store revision, so it
// only rises, across controller restarts too. Services, Endpoints and Nodes are read from
// the bridge's shared informers, as kube-proxy reads them from its informers
// (pkg/proxy/config/config.go).
import type { EndpointAddress, Endpoints, EndpointSubset, LoadBalancerIngress, Node, Service } from '../../protocol/kube/types.js';
import type { ServiceRoute, ServiceRoutingPayload } from '../../protocol/mqtt/payloads.js';
import { R } from '../apiserver/client.js';
import type { SharedInformers } from '../client/shared-informers.js';
import { RetainedTopics } from './retained-topics.js';

export interface ServiceRoutingPublisherOptions {
  /** Caches of Services, Endpoints and Nodes; started by the publisher. */
  informers: SharedInformers;
  publish: (payload: ServiceRoutingPayload) => Promise<unknown>;
  /** Store revision: a generation that only rises. */
  revision: () => number;
  clusterDomain?: string;
  log: { warn: (o: object, m: string) => void; debug?: (o: object, m: string) => void };
  debounceMs?: number;
}

const ROUTED_TYPES = new Set(['ClusterIP', 'NodePort', 'LoadBalancer']);
const isRouted = (type: string): type is ServiceRoute['type'] => ROUTED_TYPES.has(type);

function compareIp(a: string, b: string): number {
  const pa = a.split('.').map(Number), pb = b.split('.').map(Number);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return a.localeCompare(b);
}

/** One Service as the proxy sees it; undefined for kinds no node forwards (ExternalName). */
export function serviceRoute(svc: Service, endpoints: Endpoints | undefined): ServiceRoute | undefined {
  const spec = svc.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  if (!isRouted(type)) return undefined;
  const subsets: EndpointSubset[] = Array.isArray(endpoints?.subsets) ? endpoints!.subsets : [];
  const ports: ServiceRoute['ports'] = [];
  for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
    const protocol = p.protocol ?? 'TCP';
    if (protocol !== 'TCP' && protocol !== 'UDP') continue;
    const eps: ServiceRoute['ports'][number]['endpoints'] = [];
    const seen = new Set<string>();
    // Endpoint ports are matched to Service ports by name (and protocol), as a proxy does.
    for (const s of subsets) {
      const ep = (Array.isArray(s.ports) ? s.ports : []).find((x) => (x.name ?? '') === (p.name ?? '') && (x.protocol ?? 'TCP') === protocol);
      if (!ep) continue;
      const add = (a: EndpointAddress, ready: boolean) => {
        const id = `${a.ip}:${ep.port}`;
        if (!a?.ip || seen.has(id)) return;
        seen.add(id);
        eps.push({ ip: a.ip, port: ep.port, ...(a.nodeName ? { nodeName: a.nodeName } : {}), ...(a.hostname ? { hostname: a.hostname } : {}), ready });
      };
      for (const a of s.addresses ?? []) add(a, true);
      for (const a of s.notReadyAddresses ?? []) add(a, false);
    }
    eps.sort((x, y) => compareIp(x.ip, y.ip) || x.port - y.port);
    ports.push({ ...(p.name ? { name: p.name } : {}), protocol, port: p.port, ...(p.nodePort ? { nodePort: p.nodePort } : {}), endpoints: eps });
  }
  const ingress: LoadBalancerIngress[] = Array.isArray(svc.status?.loadBalancer?.ingress) ? svc.status.loadBalancer.ingress : [];
  const clusterIP = typeof spec.clusterIP === 'string' && spec.clusterIP !== '' ? spec.clusterIP : undefined;
  return {
    namespace: svc.metadata.namespace!, name: svc.metadata.name!, type,
    ...(clusterIP && clusterIP !== 'None' ? { clusterIP } : {}),
    headless: clusterIP === 'None',
    sessionAffinity: spec.sessionAffinity === 'ClientIP' ? 'ClientIP' : 'None',
    externalTrafficPolicy: spec.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    ports,
    loadBalancerIPs: ingress.map((i) => i?.ip).filter((ip): ip is string => typeof ip === 'string' && ip !== '').sort(compareIp),
  };
}

export function nodeRoute(node: Node): NonNullable<ServiceRoutingPayload['nodes']>[number] {
  const podCIDR = node.spec?.podCIDR ?? node.spec?.podCIDRs?.[0];
  const addresses = (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP' && a.address).map((a) => a.address);
  return { name: node.metadata.name!, ...(podCIDR ? { podCIDR } : {}), addresses };
}

/** The one topic's key: the routing is cluster-wide. */
const CLUSTER = 'cluster';

export class ServiceRoutingPublisher {
  private readonly topics: RetainedTopics<ServiceRoutingPayload>;
  private detach: (() => void)[] = [];

  constructor(private readonly opts: ServiceRoutingPublisherOptions) {
    this.topics = new RetainedTopics<ServiceRoutingPayload>({
      render: () => {
        const payload = this.payload();
        return new Map([[CLUSTER, { identity: JSON.stringify({ ...payload, generation: 0 }), payload: () => payload }]]);
      },
      // Never cleared: there is always a routing, if only of the API server's Service.
      publish: (_key, payload) => (payload === '' ? Promise.resolve() : opts.publish(payload)),
      debounceMs: opts.debounceMs ?? 20,
      log: opts.log,
      failure: { message: 'service routing not published; will retry' },
    });
  }

  /** Publications made, for tests and metrics. */
  get published(): number {
    return this.topics.published;
  }

  start(): void {
    this.topics.start();
    for (const ref of [R.services, R.endpoints, R.nodes]) {
      const informer = this.opts.informers.get(ref);
      this.detach.push(informer.addEventHandler(() => this.topics.changed(CLUSTER)));
      informer.start();
    }
    this.topics.changed(CLUSTER);
  }

  stop(): void {
    for (const d of this.detach) d();
    this.detach = [];
    this.topics.stop();
  }

  /** Publishes again even if nothing changed (after a reconnect to the broker). */
  republish(): void {
    this.topics.resend([CLUSTER]);
  }

  /** Resolves once every change seen so far has been published (or found unchanged). */
  async flushed(): Promise<void> {
    await this.topics.flushed();
  }

  payload(): ServiceRoutingPayload {
    const inf = this.opts.informers;
    const endpoints = inf.get<Endpoints>(R.endpoints);
    const services: ServiceRoute[] = [];
    for (const svc of inf.get<Service>(R.services).list()) {
      const route = serviceRoute(svc, endpoints.get(svc.metadata.namespace, svc.metadata.name!));
      if (route) services.push(route);
    }
    services.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
    const nodes = inf.get<Node>(R.nodes).list().map(nodeRoute).sort((a, b) => a.name.localeCompare(b.name));
    return {
      generation: this.opts.revision(), services, nodes,
      ...(this.opts.clusterDomain ? { clusterDomain: this.opts.clusterDomain } : {}),
    };
  }
}

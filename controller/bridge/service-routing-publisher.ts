// Services, their Endpoints and the nodes → one retained ServiceRoutingPayload on
// `<base>/v1/cluster/services`, read by every agent's proxy and DNS. Level-triggered like
// the desired pods: each publication is complete, coalesced over a short debounce, and
// published only when its content changed. The generation is the store revision, so it
// only rises, across controller restarts too.
import { createHash } from 'node:crypto';
import type { KubeObject, Node } from '../../protocol/kube/types.js';
import type { ServiceRoute, ServiceRoutingPayload } from '../../protocol/mqtt/payloads.js';
import { R, type ClusterClient, type WatchHandle } from '../apiserver/client.js';

export interface ServiceRoutingPublisherOptions {
  client: ClusterClient;
  publish: (payload: ServiceRoutingPayload) => Promise<unknown>;
  /** Store revision: a generation that only rises. */
  revision: () => number;
  clusterDomain?: string;
  log: { warn: (o: object, m: string) => void; debug?: (o: object, m: string) => void };
  debounceMs?: number;
}

type Obj = KubeObject & Record<string, any>;

const ROUTED_TYPES = new Set(['ClusterIP', 'NodePort', 'LoadBalancer']);

function compareIp(a: string, b: string): number {
  const pa = a.split('.').map(Number), pb = b.split('.').map(Number);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return a.localeCompare(b);
}

/** One Service as the proxy sees it; undefined for kinds no node forwards (ExternalName). */
export function serviceRoute(svc: Obj, endpoints: Obj | undefined): ServiceRoute | undefined {
  const spec = svc.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  if (!ROUTED_TYPES.has(type)) return undefined;
  const subsets: any[] = Array.isArray(endpoints?.subsets) ? endpoints!.subsets : [];
  const ports: ServiceRoute['ports'] = [];
  for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
    const protocol = p.protocol ?? 'TCP';
    if (protocol !== 'TCP' && protocol !== 'UDP') continue;
    const eps: ServiceRoute['ports'][number]['endpoints'] = [];
    const seen = new Set<string>();
    // Endpoint ports are matched to Service ports by name (and protocol), as a proxy does.
    for (const s of subsets) {
      const ep = (Array.isArray(s.ports) ? s.ports : []).find((x: any) => (x.name ?? '') === (p.name ?? '') && (x.protocol ?? 'TCP') === protocol);
      if (!ep) continue;
      const add = (a: any, ready: boolean) => {
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
  const ingress: any[] = Array.isArray(svc.status?.loadBalancer?.ingress) ? svc.status.loadBalancer.ingress : [];
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

export class ServiceRoutingPublisher {
  private readonly services = new Map<string, Obj>();
  private readonly endpoints = new Map<string, Obj>();
  private readonly nodes = new Map<string, Node>();
  private watches: WatchHandle[] = [];
  private timer?: NodeJS.Timeout;
  private lastHash?: string;
  private publishing = Promise.resolve();
  private stopped = false;
  /** Publications made, for tests and metrics. */
  published = 0;

  constructor(private readonly opts: ServiceRoutingPublisherOptions) {}

  start(): void {
    this.stopped = false;
    const c = this.opts.client;
    const follow = <T extends KubeObject>(map: Map<string, T>) => (e: { type: string; object: T }) => {
      const key = `${e.object.metadata.namespace ?? ''}/${e.object.metadata.name}`;
      if (e.type === 'DELETED') map.delete(key);
      else map.set(key, e.object);
      this.schedule();
    };
    this.watches.push(c.watch<Obj>(R.services, {}, follow(this.services)));
    this.watches.push(c.watch<Obj>(R.endpoints, {}, follow(this.endpoints)));
    this.watches.push(c.watch<Node>(R.nodes, {}, follow(this.nodes)));
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watches) w.stop();
    this.watches = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Publishes again even if nothing changed (after a reconnect to the broker). */
  republish(): void {
    this.lastHash = undefined;
    this.schedule();
  }

  /** Resolves once every change seen so far has been published (or found unchanged). */
  async flushed(): Promise<void> {
    while (this.timer) await new Promise((r) => setTimeout(r, this.opts.debounceMs ?? 20));
    await this.publishing;
  }

  payload(): ServiceRoutingPayload {
    const services: ServiceRoute[] = [];
    for (const [key, svc] of this.services) {
      const route = serviceRoute(svc, this.endpoints.get(key));
      if (route) services.push(route);
    }
    services.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
    const nodes = [...this.nodes.values()].map(nodeRoute).sort((a, b) => a.name.localeCompare(b.name));
    return {
      generation: this.opts.revision(), services, nodes,
      ...(this.opts.clusterDomain ? { clusterDomain: this.opts.clusterDomain } : {}),
    };
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.publishing = this.publishing.then(() => this.flush());
    }, this.opts.debounceMs ?? 20);
  }

  private async flush(): Promise<void> {
    const payload = this.payload();
    const hash = createHash('sha1').update(JSON.stringify({ ...payload, generation: 0 })).digest('hex');
    if (hash === this.lastHash) return;
    this.lastHash = hash;
    try {
      await this.opts.publish(payload);
      this.published++;
    } catch (err) {
      this.lastHash = undefined;
      this.opts.log.warn({ err: String(err) }, 'service routing not published; will retry');
      setTimeout(() => this.schedule(), 1000).unref();
    }
  }
}

// Ingresses → `<base>/v1/nodes/<node>/ingress` for every node that serves ingress: the
// routes of every Ingress pikube serves, and the certificates of the TLS Secrets those
// Ingresses name. Level-triggered like the Service routing: each publication is whole,
// coalesced over a short debounce, sent only to nodes whose content changed. A node
// that stops serving gets its retained message cleared, so its keys leave the broker.
//
// Under node restriction this is the one path by which a node reads a Secret that no
// pod of its own uses, and it is narrow: a kubernetes.io/tls Secret, named in spec.tls
// of an Ingress of pikube's class, in that Ingress's namespace, sent only to nodes an
// administrator lets serve ingress (see ingress-nodes.ts).
import { createHash } from 'node:crypto';
import type { KubeObject, Node } from '../../protocol/kube/types.js';
import type { IngressBackendRef, IngressCertificate, IngressPayload, IngressRouteSet } from '../../protocol/mqtt/ingress-payload.js';
import { R, type ClusterClient, type WatchHandle } from '../apiserver/client.js';
import { ourClasses, servesIngress } from './pikube-ingress-class.js';
import { servingNodes } from './ingress-nodes.js';

export interface IngressPublisherOptions {
  client: ClusterClient;
  /** Publishes one node's payload retained; `''` clears the topic. */
  publish: (node: string, payload: IngressPayload | '') => Promise<unknown>;
  revision: () => number;
  log: { warn: (o: object, m: string) => void };
  debounceMs?: number;
}

/** Annotations that ask for plain HTTP to be redirected to https (ours, and the one charts set for ingress-nginx). */
export const SSL_REDIRECT_ANNOTATIONS = ['ingress.pikube.io/ssl-redirect', 'nginx.ingress.kubernetes.io/ssl-redirect', 'nginx.ingress.kubernetes.io/force-ssl-redirect'];

function backendRef(namespace: string, b: any): IngressBackendRef | undefined {
  const svc = b?.service;
  if (!svc?.name) return undefined;
  const port = typeof svc.port?.number === 'number' && svc.port.number > 0 ? { number: svc.port.number } : svc.port?.name ? { name: String(svc.port.name) } : undefined;
  return port ? { namespace, service: String(svc.name), port } : undefined;
}

/** One Ingress as the node's proxy needs it. Resource backends are not something a proxy can reach: left out. */
export function routeSet(ing: KubeObject): IngressRouteSet {
  const ns = ing.metadata.namespace ?? 'default';
  const spec = ing.spec ?? {};
  const rules: IngressRouteSet['rules'] = [];
  for (const r of Array.isArray(spec.rules) ? spec.rules : []) {
    const paths: IngressRouteSet['rules'][number]['paths'] = [];
    for (const p of Array.isArray(r?.http?.paths) ? r.http.paths : []) {
      const backend = backendRef(ns, p?.backend);
      if (!backend) continue;
      const pathType = ['Exact', 'Prefix'].includes(p.pathType) ? p.pathType : 'ImplementationSpecific';
      paths.push({ path: typeof p.path === 'string' && p.path.startsWith('/') ? p.path : '/', pathType, backend });
    }
    rules.push({ ...(r?.host ? { host: String(r.host).toLowerCase() } : {}), paths });
  }
  const defaultBackend = backendRef(ns, spec.defaultBackend);
  const annotations = ing.metadata.annotations ?? {};
  const tlsHosts = new Set<string>();
  for (const t of Array.isArray(spec.tls) ? spec.tls : []) {
    const hosts: string[] = Array.isArray(t?.hosts) && t.hosts.length ? t.hosts : rules.map((r) => r.host).filter((h): h is string => !!h);
    for (const h of hosts) tlsHosts.add(String(h).toLowerCase());
  }
  return {
    namespace: ns, name: ing.metadata.name!, rules,
    ...(defaultBackend ? { defaultBackend } : {}),
    sslRedirect: SSL_REDIRECT_ANNOTATIONS.some((a) => annotations[a] === 'true'),
    tlsHosts: [...tlsHosts].sort(),
    created: String(ing.metadata.creationTimestamp ?? ''),
  };
}

const decode = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : '');

/** Certificates the Ingress names, from kubernetes.io/tls Secrets of its namespace that exist. */
export function certificatesOf(ing: KubeObject, secret: (namespace: string, name: string) => KubeObject | undefined): IngressCertificate[] {
  const ns = ing.metadata.namespace ?? 'default';
  const out: IngressCertificate[] = [];
  const ruleHosts = (Array.isArray(ing.spec?.rules) ? ing.spec.rules : []).map((r: any) => r?.host).filter((h: unknown): h is string => typeof h === 'string' && h !== '');
  for (const t of Array.isArray(ing.spec?.tls) ? ing.spec.tls : []) {
    if (!t?.secretName) continue;
    const s = secret(ns, String(t.secretName));
    if (!s || s.type !== 'kubernetes.io/tls') continue;
    const data: Record<string, unknown> = (s as Obj).data ?? {};
    const cert = decode(data['tls.crt']);
    const key = decode(data['tls.key']);
    if (!cert || !key) continue;
    const hosts: string[] = (Array.isArray(t.hosts) && t.hosts.length ? t.hosts : ruleHosts).map((h: string) => h.toLowerCase());
    out.push({ secret: `${ns}/${t.secretName}`, hosts, cert, key });
  }
  return out;
}

type Obj = KubeObject & Record<string, any>;

export class IngressPublisher {
  private readonly ingresses = new Map<string, Obj>();
  private readonly classes = new Map<string, Obj>();
  private readonly secrets = new Map<string, Obj>();
  private readonly nodes = new Map<string, Node>();
  /** Hash last published per node; '' = cleared. */
  private readonly sent = new Map<string, string>();
  private watches: WatchHandle[] = [];
  private timer?: NodeJS.Timeout;
  private publishing = Promise.resolve();
  private stopped = false;
  published = 0;

  constructor(private readonly opts: IngressPublisherOptions) {}

  start(): void {
    this.stopped = false;
    const c = this.opts.client;
    const follow = <T extends KubeObject>(map: Map<string, T>, relevant: (o: T) => boolean = () => true) => (e: { type: string; object: T }) => {
      const key = `${e.object.metadata.namespace ?? ''}/${e.object.metadata.name}`;
      const had = map.has(key);
      if (e.type === 'DELETED' || !relevant(e.object)) map.delete(key);
      else map.set(key, e.object);
      if (had || map.has(key)) this.schedule();
    };
    this.watches.push(c.watch<Obj>(R.ingresses, {}, follow(this.ingresses)));
    this.watches.push(c.watch<Obj>(R.ingressclasses, {}, follow(this.classes)));
    // Only TLS Secrets are kept: nothing else is ever sent to a node from here.
    this.watches.push(c.watch<Obj>(R.secrets, {}, follow(this.secrets, (s) => s.type === 'kubernetes.io/tls')));
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

  /** Publishes everything again (after a broker restart retained messages may be gone). */
  republish(): void {
    this.sent.clear();
    this.schedule();
  }

  async flushed(): Promise<void> {
    while (this.timer) await new Promise((r) => setTimeout(r, this.opts.debounceMs ?? 10));
    await this.publishing;
  }

  payload(): IngressPayload {
    const ours = ourClasses(this.classes.values());
    const served = [...this.ingresses.values()].filter((i) => !i.metadata.deletionTimestamp && servesIngress(i, ours))
      .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
    const certificates: IngressCertificate[] = [];
    const seen = new Set<string>();
    for (const ing of served) {
      for (const c of certificatesOf(ing, (ns, name) => this.secrets.get(`${ns}/${name}`))) {
        const id = `${c.secret}|${c.hosts.join(',')}`;
        if (!seen.has(id)) { seen.add(id); certificates.push(c); }
      }
    }
    return { generation: this.opts.revision(), ingresses: served.map(routeSet), certificates };
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.publishing = this.publishing.then(() => this.flush());
    }, this.opts.debounceMs ?? 10);
  }

  private async flush(): Promise<void> {
    const payload = this.payload();
    const hash = createHash('sha1').update(JSON.stringify({ ...payload, generation: 0 })).digest('hex');
    const serving = new Set(servingNodes(this.nodes.values()).map((n) => n.metadata.name!));
    const jobs: Promise<void>[] = [];
    for (const node of new Set([...this.nodes.values()].map((n) => n.metadata.name!))) {
      const want = serving.has(node) ? hash : '';
      if (this.sent.get(node) === want) continue;
      this.sent.set(node, want);
      jobs.push(this.opts.publish(node, want ? payload : '').then(() => { this.published++; }, (err) => {
        this.sent.delete(node);
        this.opts.log.warn({ node, err: String(err) }, 'ingress routes not published; will retry');
        setTimeout(() => this.schedule(), 1000).unref();
      }));
    }
    // Nodes that are gone keep nothing either.
    for (const node of [...this.sent.keys()]) {
      if ([...this.nodes.values()].some((n) => n.metadata.name === node)) continue;
      this.sent.delete(node);
      jobs.push(this.opts.publish(node, '').then(() => undefined, () => undefined));
    }
    await Promise.all(jobs);
  }
}

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
//
// Ingresses, classes, Secrets and Nodes come from the bridge's shared informers, as an
// ingress controller reads them from its informers (ingress-nginx internal/ingress/controller/store).
import type { Ingress, IngressBackend, KubeObject, Node, Secret } from '../../protocol/kube/types.js';
import type { IngressBackendRef, IngressCertificate, IngressPayload, IngressRouteSet } from '../../protocol/mqtt/ingress-payload.js';
import { R, type ResourceRef } from '../apiserver/client.js';
import type { SharedInformers } from '../client/shared-informers.js';
import { RetainedTopics, type Retained } from '../bridge/retained-topics.js';
import { ourClasses, servesIngress } from './pikube-ingress-class.js';
import { servingNodes } from './ingress-nodes.js';

export interface IngressPublisherOptions {
  /** Caches of Ingresses, IngressClasses, Secrets and Nodes; started by the publisher. */
  informers: SharedInformers;
  /** Publishes one node's payload retained; `''` clears the topic. */
  publish: (node: string, payload: IngressPayload | '') => Promise<unknown>;
  revision: () => number;
  log: { warn: (o: object, m: string) => void };
  debounceMs?: number;
}

/** Annotations that ask for plain HTTP to be redirected to https (ours, and the one charts set for ingress-nginx). */
export const SSL_REDIRECT_ANNOTATIONS = ['ingress.pikube.io/ssl-redirect', 'nginx.ingress.kubernetes.io/ssl-redirect', 'nginx.ingress.kubernetes.io/force-ssl-redirect'];

function backendRef(namespace: string, b: IngressBackend | undefined): IngressBackendRef | undefined {
  const svc = b?.service;
  if (!svc?.name) return undefined;
  const port = typeof svc.port?.number === 'number' && svc.port.number > 0 ? { number: svc.port.number } : svc.port?.name ? { name: String(svc.port.name) } : undefined;
  return port ? { namespace, service: String(svc.name), port } : undefined;
}

/** One Ingress as the node's proxy needs it. Resource backends are not something a proxy can reach: left out. */
export function routeSet(ing: KubeObject): IngressRouteSet {
  const ns = ing.metadata.namespace ?? 'default';
  const spec = (ing as Ingress).spec ?? {};
  const rules: IngressRouteSet['rules'] = [];
  for (const r of Array.isArray(spec.rules) ? spec.rules : []) {
    const paths: IngressRouteSet['rules'][number]['paths'] = [];
    for (const p of Array.isArray(r?.http?.paths) ? r.http.paths : []) {
      const backend = backendRef(ns, p?.backend);
      if (!backend) continue;
      const pathType = p.pathType === 'Exact' || p.pathType === 'Prefix' ? p.pathType : 'ImplementationSpecific';
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
  const spec = (ing as Ingress).spec;
  const ruleHosts = (Array.isArray(spec?.rules) ? spec.rules : []).map((r) => r?.host).filter((h: unknown): h is string => typeof h === 'string' && h !== '');
  for (const t of Array.isArray(spec?.tls) ? spec.tls : []) {
    if (!t?.secretName) continue;
    const s = secret(ns, String(t.secretName));
    if (!s || s.type !== 'kubernetes.io/tls') continue;
    const data: Record<string, unknown> = (s as Secret).data ?? {};
    const cert = decode(data['tls.crt']);
    const key = decode(data['tls.key']);
    if (!cert || !key) continue;
    const hosts: string[] = (Array.isArray(t.hosts) && t.hosts.length ? t.hosts : ruleHosts).map((h: string) => h.toLowerCase());
    out.push({ secret: `${ns}/${t.secretName}`, hosts, cert, key });
  }
  return out;
}

const TLS = 'kubernetes.io/tls';

export class IngressPublisher {
  private readonly topics: RetainedTopics<IngressPayload>;
  private detach: (() => void)[] = [];

  constructor(private readonly opts: IngressPublisherOptions) {
    this.topics = new RetainedTopics<IngressPayload>({
      render: (nodes) => this.render(nodes),
      publish: (node, payload) => opts.publish(node, payload),
      debounceMs: opts.debounceMs ?? 10,
      log: opts.log,
      failure: { message: 'ingress routes not published; will retry', keyField: 'node' },
    });
  }

  /** Publications made (clears included), for tests and metrics. */
  get published(): number {
    return this.topics.published;
  }

  start(): void {
    this.topics.start();
    const inf = this.opts.informers;
    const follow = <T extends KubeObject>(ref: ResourceRef, handler: (type: string, obj: T, old?: T) => void) => {
      const informer = inf.get<T>(ref);
      this.detach.push(informer.addEventHandler(handler));
      informer.start();
    };
    follow(R.ingresses, () => this.changedAll());
    follow(R.ingressclasses, () => this.changedAll());
    // Only TLS Secrets matter: nothing else is ever sent to a node from here.
    follow<Secret>(R.secrets, (_type, s, old) => { if (s.type === TLS || old?.type === TLS) this.changedAll(); });
    follow<Node>(R.nodes, (type, node) => {
      // A node that is gone keeps nothing either.
      if (type === 'DELETED') this.topics.clear(node.metadata.name!);
      this.changedAll();
    });
    this.changedAll();
  }

  stop(): void {
    for (const d of this.detach) d();
    this.detach = [];
    this.topics.stop();
  }

  /** Publishes everything again (after a broker restart retained messages may be gone). */
  republish(): void {
    this.topics.resend(this.nodeNames());
  }

  async flushed(): Promise<void> {
    await this.topics.flushed();
  }

  payload(): IngressPayload {
    const inf = this.opts.informers;
    const ours = ourClasses(inf.get(R.ingressclasses).list());
    const served = inf.get<Ingress>(R.ingresses).list((i) => !i.metadata.deletionTimestamp && servesIngress(i, ours))
      .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
    const secrets = inf.get<Secret>(R.secrets);
    const certificates: IngressCertificate[] = [];
    const seen = new Set<string>();
    for (const ing of served) {
      for (const c of certificatesOf(ing, (ns, name) => secrets.get(ns, name))) {
        const id = `${c.secret}|${c.hosts.join(',')}`;
        if (!seen.has(id)) { seen.add(id); certificates.push(c); }
      }
    }
    return { generation: this.opts.revision(), ingresses: served.map(routeSet), certificates };
  }

  private nodeNames(): string[] {
    return this.opts.informers.get<Node>(R.nodes).list().map((n) => n.metadata.name!);
  }

  private changedAll(): void {
    for (const n of this.nodeNames()) this.topics.changed(n);
  }

  /** The same routes for every serving node; the others are cleared. */
  private render(keys: readonly string[]): Map<string, Retained<IngressPayload> | undefined> {
    const payload = this.payload();
    const content: Retained<IngressPayload> = { identity: JSON.stringify({ ...payload, generation: 0 }), payload: () => payload };
    const serving = new Set(servingNodes(this.opts.informers.get<Node>(R.nodes).list()).map((n) => n.metadata.name!));
    return new Map(keys.map((k) => [k, serving.has(k) ? content : undefined]));
  }
}

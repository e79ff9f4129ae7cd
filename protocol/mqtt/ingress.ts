// The ingress routes one node serves, `<base>/v1/nodes/<node>/ingress`, retained, sent
// only to nodes that serve ingress. It is per node (not under `cluster/`) because it
// carries the private keys of the TLS Secrets the Ingresses name: a node reads its own
// topic only, so a key reaches a board only when that board terminates TLS for it.
// Backends name a Service and its port; the node resolves them to endpoints through the
// cluster's Service routing (`cluster/services`) it already follows.
import { parseJson, PayloadError } from './validate.js';

/** Node label the agent reports about itself: `on` while its ingress proxy listens, `off` otherwise. */
export const INGRESS_PROXY_LABEL = 'node.pikube.io/ingress-proxy';

/** A Service port as an Ingress names it: by number or by name. */
export interface IngressBackendRef {
  namespace: string;
  service: string;
  port: { number: number } | { name: string };
}

export interface IngressPathRoute {
  /** Always starts with `/` ("/" when the Ingress left it out). */
  path: string;
  pathType: 'Exact' | 'Prefix' | 'ImplementationSpecific';
  backend: IngressBackendRef;
}

/** One Ingress of the pikube class, as the proxy needs it. */
export interface IngressRouteSet {
  namespace: string;
  name: string;
  rules: { host?: string; paths: IngressPathRoute[] }[];
  defaultBackend?: IngressBackendRef;
  /** Plain-HTTP requests for this Ingress's TLS hosts are redirected to https. */
  sslRedirect: boolean;
  /** Hosts its spec.tls covers (for the redirect). */
  tlsHosts: string[];
  /** Creation time, for upstream's "oldest Ingress wins" between equal rules. */
  created: string;
}

/** A certificate from a kubernetes.io/tls Secret, with the hosts it is offered for. */
export interface IngressCertificate {
  /** `<namespace>/<secret>`: for logs and the error pages, never the key. */
  secret: string;
  hosts: string[];
  /** PEM. */
  cert: string;
  key: string;
}

export interface IngressPayload {
  /** Rises with every publication; older ones are ignored. */
  generation: number;
  ingresses: IngressRouteSet[];
  certificates: IngressCertificate[];
}

export const INGRESS_PAYLOAD_LIMIT = 8 * 1024 * 1024;

type Obj = Record<string, unknown>;
function fail(path: string, expected: string): never {
  throw new PayloadError(`${path}: expected ${expected}`);
}
function obj(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'an object');
  return v as Obj;
}
function str(v: unknown, path: string): string {
  if (typeof v !== 'string' || v.length === 0) fail(path, 'a non-empty string');
  return v;
}
function list(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(path, 'an array');
  return v;
}

function backend(v: unknown, path: string): void {
  const b = obj(v, path);
  str(b.namespace, `${path}.namespace`);
  str(b.service, `${path}.service`);
  const port = obj(b.port, `${path}.port`);
  if (port.number !== undefined) {
    if (!Number.isInteger(port.number) || (port.number as number) < 1 || (port.number as number) > 65535) fail(`${path}.port.number`, 'a port number');
  } else str(port.name, `${path}.port.name`);
}

/** Checks a received payload; throws PayloadError naming the first bad field. */
export function parseIngressPayload(buf: Buffer): IngressPayload {
  const o = obj(parseJson(buf, INGRESS_PAYLOAD_LIMIT), 'ingress');
  if (!Number.isInteger(o.generation) || (o.generation as number) < 0) fail('ingress.generation', 'a non-negative integer');
  list(o.ingresses, 'ingress.ingresses').forEach((x, i) => {
    const p = `ingress.ingresses[${i}]`;
    const ing = obj(x, p);
    str(ing.namespace, `${p}.namespace`);
    str(ing.name, `${p}.name`);
    str(ing.created, `${p}.created`);
    if (typeof ing.sslRedirect !== 'boolean') fail(`${p}.sslRedirect`, 'a boolean');
    list(ing.tlsHosts, `${p}.tlsHosts`).forEach((h, j) => str(h, `${p}.tlsHosts[${j}]`));
    if (ing.defaultBackend !== undefined) backend(ing.defaultBackend, `${p}.defaultBackend`);
    list(ing.rules, `${p}.rules`).forEach((r, j) => {
      const rp = `${p}.rules[${j}]`;
      const rule = obj(r, rp);
      if (rule.host !== undefined) str(rule.host, `${rp}.host`);
      list(rule.paths, `${rp}.paths`).forEach((pa, k) => {
        const pp = `${rp}.paths[${k}]`;
        const path = obj(pa, pp);
        if (typeof path.path !== 'string' || !path.path.startsWith('/')) fail(`${pp}.path`, 'a path starting with /');
        if (!['Exact', 'Prefix', 'ImplementationSpecific'].includes(path.pathType as string)) fail(`${pp}.pathType`, 'Exact, Prefix or ImplementationSpecific');
        backend(path.backend, `${pp}.backend`);
      });
    });
  });
  list(o.certificates, 'ingress.certificates').forEach((x, i) => {
    const p = `ingress.certificates[${i}]`;
    const c = obj(x, p);
    str(c.secret, `${p}.secret`);
    str(c.cert, `${p}.cert`);
    str(c.key, `${p}.key`);
    list(c.hosts, `${p}.hosts`).forEach((h, j) => str(h, `${p}.hosts[${j}]`));
  });
  return o as unknown as IngressPayload;
}

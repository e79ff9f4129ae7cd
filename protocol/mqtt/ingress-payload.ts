// The ingress routes one node serves, `<base>/v1/nodes/<node>/ingress`, retained, sent
// only to nodes that serve ingress. It is per node (not under `cluster/`) because it
// carries the private keys of the TLS Secrets the Ingresses name: a node reads its own
// topic only, so a key reaches a board only when that board terminates TLS for it.
// Backends name a Service and its port; the node resolves them to endpoints through the
// cluster's Service routing (`cluster/services`) it already follows.
import { Type, type Static } from '@sinclair/typebox';
import { OneOf } from './payloads.js';

/** Node label the agent reports about itself: `on` while its ingress proxy listens, `off` otherwise. */
export const INGRESS_PROXY_LABEL = 'node.pikube.io/ingress-proxy';

const NonEmpty = () => Type.String({ minLength: 1 });

/** A Service port as an Ingress names it: by number or by name. */
export const IngressBackendRef = Type.Object({
  namespace: NonEmpty(),
  service: NonEmpty(),
  port: Type.Union([Type.Object({ number: Type.Integer({ minimum: 1, maximum: 65535 }) }), Type.Object({ name: NonEmpty() })]),
});
export type IngressBackendRef = Static<typeof IngressBackendRef>;

export const IngressPathRoute = Type.Object({
  /** Always starts with `/` ("/" when the Ingress left it out). */
  path: Type.String({ pattern: '^/', expected: 'a path starting with /' }),
  pathType: OneOf(['Exact', 'Prefix', 'ImplementationSpecific'] as const),
  backend: IngressBackendRef,
});
export type IngressPathRoute = Static<typeof IngressPathRoute>;

/** One Ingress of the pikube class, as the proxy needs it. */
export const IngressRouteSet = Type.Object({
  namespace: NonEmpty(),
  name: NonEmpty(),
  rules: Type.Array(Type.Object({ host: Type.Optional(NonEmpty()), paths: Type.Array(IngressPathRoute) })),
  defaultBackend: Type.Optional(IngressBackendRef),
  /** Plain-HTTP requests for this Ingress's TLS hosts are redirected to https. */
  sslRedirect: Type.Boolean(),
  /** Hosts its spec.tls covers (for the redirect). */
  tlsHosts: Type.Array(NonEmpty()),
  /** Creation time, for upstream's "oldest Ingress wins" between equal rules. */
  created: NonEmpty(),
});
export type IngressRouteSet = Static<typeof IngressRouteSet>;

/** A certificate from a kubernetes.io/tls Secret, with the hosts it is offered for. */
export const IngressCertificate = Type.Object({
  /** `<namespace>/<secret>`: for logs and the error pages, never the key. */
  secret: NonEmpty(),
  hosts: Type.Array(NonEmpty()),
  /** PEM. */
  cert: NonEmpty(),
  key: NonEmpty(),
});
export type IngressCertificate = Static<typeof IngressCertificate>;

export const IngressPayload = Type.Object({
  /** Rises with every publication; older ones are ignored. */
  generation: Type.Integer({ minimum: 0 }),
  ingresses: Type.Array(IngressRouteSet),
  certificates: Type.Array(IngressCertificate),
});
export type IngressPayload = Static<typeof IngressPayload>;

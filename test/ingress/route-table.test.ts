// Route matching with upstream's precedence, from payloads as the controller builds them.
import test from 'ava';
import { prefixMatches, RouteTable, normalizeHost } from '../../agent/ingress/route-table.js';
import { routeSet } from '../../controller/ingress/ingress-publisher.js';
import type { IngressPayload } from '../../protocol/mqtt/ingress-payload.js';

const backend = (service: string, port: number | string = 80) => ({ service: { name: service, port: typeof port === 'number' ? { number: port } : { name: port } } });
function ingress(name: string, spec: object, created = '2026-01-01T00:00:00Z', annotations: Record<string, string> = {}) {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: 'default', creationTimestamp: created, annotations }, spec };
}
const table = (...ings: ReturnType<typeof ingress>[]) => new RouteTable({ generation: 1, ingresses: ings.map(routeSet), certificates: [] } satisfies IngressPayload);
const service = (t: RouteTable, host: string, path: string) => {
  const m = t.match(host, path);
  return m.kind === 'route' ? m.entry.backend.service : `miss: ${m.reason}`;
};

test('Prefix matches whole path elements, with or without a trailing slash', (t) => {
  t.true(prefixMatches('/foo', '/foo'));
  t.true(prefixMatches('/foo', '/foo/'));
  t.true(prefixMatches('/foo', '/foo/bar'));
  t.true(prefixMatches('/foo/', '/foo'));
  t.false(prefixMatches('/foo', '/foobar'));
  t.false(prefixMatches('/foo/bar', '/foo'));
  t.true(prefixMatches('/', '/anything'));
});

test('the longest path wins, Exact before Prefix at equal length, query strings ignored', (t) => {
  const rt = table(ingress('a', {
    rules: [{ host: 'app.home.lan', http: { paths: [
      { path: '/', pathType: 'Prefix', backend: backend('root') },
      { path: '/api', pathType: 'Prefix', backend: backend('api') },
      { path: '/api', pathType: 'Exact', backend: backend('api-exact') },
      { path: '/api/v2', pathType: 'ImplementationSpecific', backend: backend('v2') },
    ] } }],
  }));
  t.is(service(rt, 'app.home.lan', '/api'), 'api-exact');
  t.is(service(rt, 'app.home.lan', '/api?x=1'), 'api-exact');
  t.is(service(rt, 'app.home.lan', '/api/'), 'api');
  t.is(service(rt, 'app.home.lan', '/api/v2/users'), 'v2');
  t.is(service(rt, 'app.home.lan', '/apiary'), 'root');
  t.is(service(rt, 'APP.home.lan:8080', '/'), 'root', 'host case and port do not matter');
});

test('an exact host before a wildcard before rules without a host; a wildcard covers one label', (t) => {
  const rt = table(
    ingress('any', { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('catch-all') }] } }] }),
    ingress('wild', { rules: [{ host: '*.home.lan', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('wild') }] } }] }),
    ingress('exact', { rules: [{ host: 'nas.home.lan', http: { paths: [{ path: '/files', pathType: 'Prefix', backend: backend('nas') }] } }] }),
  );
  t.is(service(rt, 'nas.home.lan', '/files/a'), 'nas');
  t.is(service(rt, 'tv.home.lan', '/'), 'wild');
  t.is(service(rt, 'a.tv.home.lan', '/'), 'catch-all', 'a wildcard matches a single label only');
  t.is(service(rt, 'example.org', '/'), 'catch-all');
  // the exact host has rules but none for this path: the miss names them
  t.regex(String(service(rt, 'nas.home.lan', '/photos')), /miss: the host nas\.home\.lan has rules, but no path matches \/photos: \/files \(Prefix, Ingress default\/exact\)/);
});

test('between equal rules the oldest Ingress wins; a defaultBackend takes what no rule does', (t) => {
  const rt = table(
    ingress('newer', { rules: [{ host: 'x.lan', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('newer') }] } }] }, '2026-03-01T00:00:00Z'),
    ingress('older', { defaultBackend: backend('fallback', 'http'), rules: [{ host: 'x.lan', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('older') }] } }] }, '2026-02-01T00:00:00Z'),
  );
  t.is(service(rt, 'x.lan', '/'), 'older');
  const m = rt.match('other.lan', '/');
  t.is(m.kind, 'route');
  if (m.kind === 'route') t.deepEqual(m.entry.backend, { namespace: 'default', service: 'fallback', port: { name: 'http' } });
});

test('a miss says whether no Ingress or no host matched', (t) => {
  t.regex(String(service(table(), 'a.lan', '/')), /no Ingress is served by this node/);
  const rt = table(ingress('a', { rules: [{ host: 'a.lan', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('a') }] } }] }));
  t.regex(String(service(rt, 'b.lan', '/')), /no Ingress rule matches host b\.lan/);
});

test('redirect to https only for TLS hosts of an Ingress that asks for it', (t) => {
  const rt = table(
    ingress('secure', { tls: [{ hosts: ['s.lan'], secretName: 's' }], rules: [{ host: 's.lan', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('s') }] } }] }, undefined, { 'ingress.pikube.io/ssl-redirect': 'true' }),
    ingress('plain', { tls: [{ hosts: ['p.lan'], secretName: 'p' }], rules: [{ host: 'p.lan', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('p') }] } }] }),
  );
  t.is(rt.redirectFor('s.lan')?.name, 'secure');
  t.is(rt.redirectFor('p.lan'), undefined);
});

test('host headers are normalised', (t) => {
  t.is(normalizeHost('Hello.Home.LAN:80'), 'hello.home.lan');
  t.is(normalizeHost('hello.home.lan.'), 'hello.home.lan');
  t.is(normalizeHost('[::1]:8080'), '[::1]');
  t.is(normalizeHost(undefined), '');
});

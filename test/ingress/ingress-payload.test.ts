// What the controller sends to which node: serving nodes, certificates only from TLS
// Secrets an Ingress names in its own namespace, and the agent's check of the payload.
import test from 'ava';
import { certificatesOf, routeSet } from '../../controller/ingress/ingress-publisher.js';
import { ingressAddresses, servingNodes } from '../../controller/ingress/ingress-nodes.js';
import { ourClasses, servesIngress } from '../../controller/ingress/pikube-ingress-class.js';
import { parseIngressPayload } from '../../protocol/mqtt/validate.js';
import type { KubeObject, Node } from '../../protocol/kube/types.js';

const node = (name: string, ip: string, labels: Record<string, string>, ready = true): Node => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, labels },
  status: { addresses: [{ type: 'InternalIP', address: ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
} as Node);

test('every node with a running proxy serves, until an administrator labels some', (t) => {
  const nodes = [
    node('a', '10.0.0.2', { 'node.pikube.io/ingress-proxy': 'on' }),
    node('b', '10.0.0.10', { 'node.pikube.io/ingress-proxy': 'on' }),
    node('c', '10.0.0.3', { 'node.pikube.io/ingress-proxy': 'off' }),
    node('d', '10.0.0.4', { 'node.pikube.io/ingress-proxy': 'on' }, false),
  ];
  t.deepEqual(servingNodes(nodes).map((n) => n.metadata.name), ['a', 'b', 'd']);
  t.deepEqual(ingressAddresses(nodes), ['10.0.0.2', '10.0.0.10'], 'Ready ones only, in address order');
  nodes[1]!.metadata.labels!['node-restriction.kubernetes.io/ingress'] = 'true';
  nodes[2]!.metadata.labels!['node-restriction.kubernetes.io/ingress'] = 'true';
  t.deepEqual(servingNodes(nodes).map((n) => n.metadata.name), ['b'], 'labelled and running');
});

test('Ingresses of our class, or of none while ours is the default', (t) => {
  const cls = (name: string, controller: string, isDefault: boolean): KubeObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name, annotations: isDefault ? { 'ingressclass.kubernetes.io/is-default-class': 'true' } : {} }, spec: { controller } });
  const ing = (spec: object, annotations: Record<string, string> = {}): KubeObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'x', namespace: 'default', annotations }, spec });
  const ours = ourClasses([cls('pikube', 'pikube.io/ingress', true), cls('nginx', 'k8s.io/ingress-nginx', false)]);
  t.true(servesIngress(ing({ ingressClassName: 'pikube' }), ours));
  t.false(servesIngress(ing({ ingressClassName: 'nginx' }), ours));
  t.true(servesIngress(ing({}), ours));
  t.false(servesIngress(ing({}, { 'kubernetes.io/ingress.class': 'nginx' }), ours));
  t.false(servesIngress(ing({}), ourClasses([cls('pikube', 'pikube.io/ingress', false)])));
});

test('certificates come only from kubernetes.io/tls Secrets of the Ingress\'s namespace; hosts default to the rules\'', (t) => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const secrets: Record<string, KubeObject> = {
    'web/site-tls': { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'site-tls', namespace: 'web' }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64('CERT'), 'tls.key': b64('KEY') } } as KubeObject,
    'web/opaque': { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'opaque', namespace: 'web' }, type: 'Opaque', data: { 'tls.crt': b64('C'), 'tls.key': b64('K') } } as KubeObject,
  };
  const ing: KubeObject = {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'site', namespace: 'web' },
    spec: {
      tls: [{ secretName: 'site-tls' }, { hosts: ['x.lan'], secretName: 'opaque' }, { hosts: ['y.lan'], secretName: 'missing' }],
      rules: [{ host: 'Site.Lan', http: { paths: [{ pathType: 'ImplementationSpecific', backend: { service: { name: 's', port: { number: 80 } } } }] } }],
    },
  };
  t.deepEqual(certificatesOf(ing, (ns, name) => secrets[`${ns}/${name}`]), [{ secret: 'web/site-tls', hosts: ['site.lan'], cert: 'CERT', key: 'KEY' }]);
  const set = routeSet(ing);
  t.deepEqual(set.rules, [{ host: 'site.lan', paths: [{ path: '/', pathType: 'ImplementationSpecific', backend: { namespace: 'web', service: 's', port: { number: 80 } } }] }]);
  t.deepEqual(set.tlsHosts, ['site.lan', 'x.lan', 'y.lan']);
});

test('the agent drops a malformed payload with the field named', (t) => {
  const good = { generation: 3, ingresses: [], certificates: [] };
  t.deepEqual(parseIngressPayload(Buffer.from(JSON.stringify(good))), good);
  const bad = { generation: 3, ingresses: [{ namespace: 'd', name: 'x', created: 't', sslRedirect: false, tlsHosts: [], rules: [{ paths: [{ path: 'nope', pathType: 'Prefix', backend: {} }] }] }], certificates: [] };
  t.throws(() => parseIngressPayload(Buffer.from(JSON.stringify(bad))), { message: /ingress\.ingresses\[0\]\.rules\[0\]\.paths\[0\]\.path: expected a path starting with \// });
  t.throws(() => parseIngressPayload(Buffer.from('{"generation":-1,"ingresses":[],"certificates":[]}')), { message: /ingress.generation: must be >= 0/ });
  const port = structuredClone(bad);
  port.ingresses[0]!.rules[0]!.paths[0] = { path: '/ok', pathType: 'Prefix', backend: { namespace: 'd', service: 's', port: { number: 70000 } } as never };
  t.throws(() => parseIngressPayload(Buffer.from(JSON.stringify(port))), { message: /ingress\.ingresses\[0\]\.rules\[0\]\.paths\[0\]\.backend\.port: expected one of \{number\}\|\{name\}/ });
});

// The MQTT bridge's bootstrap role is exactly enough: every part of the bridge (the three
// publishers on their shared informers, node and pod status, events) does its whole job
// under system:pikube-bridge with no request refused, every right the role grants is used
// by that job, and anything else (deleting a node, writing a ConfigMap, creating a pod) is
// a 403 that is logged under the bridge's name. Real store, RBAC authorizer and bootstrap
// policy; only the broker is left out (the parts are driven by the calls its messages make).
import test from 'ava';
import type { KubeObject, Node, Pod } from '../../protocol/kube/types.js';
import type { NodeStatusPayload } from '../../protocol/mqtt/payloads.js';
import { R } from '../../controller/apiserver/client.js';
import { ApiError } from '../../controller/apiserver/errors.js';
import { LocalClient } from '../../controller/apiserver/local-client.js';
import type { RequestAttributes } from '../../controller/auth/attributes.js';
import { BOOTSTRAP_CLUSTER_ROLES } from '../../controller/auth/bootstrap-policy.js';
import { ensureBootstrapRbac } from '../../controller/auth/bootstrap-rbac.js';
import { AuthorizedClient, MQTT_BRIDGE_USER } from '../../controller/auth/component-identities.js';
import { RbacAuthorizer } from '../../controller/auth/rbac-authorizer.js';
import { DesiredStatePublisher } from '../../controller/bridge/desired-state-publisher.js';
import { NodeEvents } from '../../controller/bridge/node-events.js';
import { NodeStatusSync } from '../../controller/bridge/node-status-sync.js';
import { PodStatusSync } from '../../controller/bridge/pod-status-sync.js';
import { ServiceRoutingPublisher } from '../../controller/bridge/service-routing-publisher.js';
import { NodeTelemetry } from '../../controller/client/node-telemetry.js';
import { SharedInformers } from '../../controller/client/shared-informers.js';
import { IngressPublisher } from '../../controller/ingress/ingress-publisher.js';
import { startTestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const silent = { warn: () => {}, info: () => {}, debug: () => {} };
const ROLE = BOOTSTRAP_CLUSTER_ROLES.find((r) => r.name === 'system:pikube-bridge')!;
const NODE = 'pi-01';

/** `verb group/resource[/subresource]`, as a rule names it. */
const grant = (verb: string, group: string, resource: string) => `${verb} ${group}/${resource}`;

async function bridgeUnderRbac(t: import('ava').ExecutionContext) {
  const c = await startTestCluster();
  await ensureBootstrapRbac(c.core);
  const authorizer = new RbacAuthorizer(c.core);
  const asked = new Set<string>();
  const refused: object[] = [];
  const client = new AuthorizedClient({
    client: new LocalClient(c.core, MQTT_BRIDGE_USER), user: MQTT_BRIDGE_USER,
    authorize: (a: RequestAttributes) => {
      asked.add(grant(a.verb, a.apiGroup, a.subresource ? `${a.resource}/${a.subresource}` : a.resource));
      return authorizer.authorize(a).allowed;
    },
    log: { warn: (o) => refused.push(o) },
  });
  const informers = new SharedInformers(client);
  t.teardown(async () => { informers.stop(); authorizer.stop(); await c.stop(); });
  return { c, client, informers, asked, refused };
}

function nodeStatus(): NodeStatusPayload {
  const now = new Date().toISOString();
  const res = { cpuCores: 4, memoryBytes: 4e9, pods: 110 };
  return {
    time: now, bootTime: now, capacity: res, allocatable: res, usage: { cpuCores: 0.1, memoryBytes: 1e8 },
    pressure: { memory: false, disk: false, pid: false },
    nodeInfo: { osImage: 'Debian', kernelVersion: '6', architecture: 'arm64', operatingSystem: 'linux', containerRuntimeVersion: 'podman://5', agentVersion: '0.1.0' },
    addresses: [{ type: 'InternalIP', address: '192.0.2.7' }],
    labels: { 'node.pikube.io/ingress-proxy': 'on' }, pods: [],
  };
}

const obj = (o: Record<string, unknown>) => o as unknown as KubeObject;

test('the bridge does its whole job under its role, uses every right it grants, and nothing else is allowed', async (t) => {
  const { c, client, informers, asked, refused } = await bridgeUnderRbac(t);
  const admin = c.client;
  // What the publishers read: a pod with a ConfigMap, a Secret, a claim and a service
  // account; a Service with Endpoints; an Ingress of pikube's class with its TLS Secret.
  await admin.create(R.configmaps, obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { a: '1' } }));
  await admin.create(R.secrets, obj({
    apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'tls', namespace: 'default' },
    data: { 'tls.crt': Buffer.from('CERT').toString('base64'), 'tls.key': Buffer.from('KEY').toString('base64') },
  }));
  await admin.create(R.serviceaccounts, obj({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'default' } }));
  const claim = await admin.create(R.persistentvolumeclaims, obj({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'default' }, spec: { volumeName: 'pv-data', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }));
  await admin.create(R.persistentvolumes, obj({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv-data' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/srv/data' }, claimRef: { namespace: 'default', name: 'data', uid: claim.metadata.uid } } }));
  await admin.create(R.services, obj({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } }));
  await admin.create(R.endpoints, obj({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'default' }, subsets: [{ addresses: [{ ip: '10.42.1.5' }], ports: [{ port: 8080 }] }] }));
  await admin.create(R.ingresses, obj({
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'default' },
    spec: { tls: [{ hosts: ['web.example'], secretName: 'tls' }], rules: [{ host: 'web.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
  }));
  const pod = await admin.create<Pod>(R.pods, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      nodeName: NODE, containers: [{ name: 'c', image: 'localhost/busybox:latest', envFrom: [{ configMapRef: { name: 'cfg' } }], env: [{ name: 'K', valueFrom: { secretKeyRef: { name: 'tls', key: 'tls.key' } } }] }],
      volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }],
    },
  } as Pod);

  const sent = new Map<string, unknown>();
  const desired = new DesiredStatePublisher({
    informers, log: silent, revision: () => c.store.revision,
    // What the control plane's token source does first: look the pod's account up as the bridge.
    serviceAccount: (p) => (client.get(R.serviceaccounts, p.metadata.namespace, p.spec.serviceAccountName ?? 'default') ? { token: 't', caCrt: 'ca', namespace: p.metadata.namespace!, apiServer: 'https://127.0.0.1:6443' } : undefined),
    publish: async (node, payload) => { sent.set(`pods/${node}`, payload === '' ? '' : JSON.parse(payload.toString())); },
  });
  const routing = new ServiceRoutingPublisher({ informers, log: silent, revision: () => c.store.revision, publish: async (p) => { sent.set('services', p); } });
  const ingress = new IngressPublisher({ informers, log: silent, revision: () => c.store.revision, publish: async (node, p) => { sent.set(`ingress/${node}`, p); } });
  for (const p of [desired, routing, ingress]) p.start();
  t.teardown(() => { for (const p of [desired, routing, ingress]) p.stop(); });

  // The node joins and reports itself (registration, then status), then its pod's status,
  // events (the second one a repeat, so a patch), and the end of the deleted pod.
  const nodes = new NodeStatusSync({ client, telemetry: new NodeTelemetry(), log: silent });
  nodes.availability(NODE, true);
  nodes.status(NODE, nodeStatus());
  await waitFor('the Node registered with its status', () => admin.get<Node>(R.nodes, undefined, NODE)?.status?.nodeInfo, 10_000, 20);
  const pods = new PodStatusSync({ client, log: silent });
  await pods.apply(NODE, [{ uid: pod.metadata.uid!, namespace: 'default', name: 'web', status: { phase: 'Running', podIP: '10.42.1.5' } }]);
  t.is(admin.get<Pod>(R.pods, 'default', 'web')?.status?.phase, 'Running');
  const events = new NodeEvents(client, silent);
  const event = { involvedObject: { kind: 'Pod', namespace: 'default', name: 'web', uid: pod.metadata.uid }, type: 'Normal' as const, reason: 'Started', message: 'Started container c', time: new Date().toISOString() };
  events.record(NODE, [event]);
  await waitFor('the event recorded', () => admin.list(R.events, { namespace: 'default' }).items.length === 1, 5_000, 20);
  events.record(NODE, [event]);
  await waitFor('the repeat counted', () => admin.list(R.events, { namespace: 'default' }).items[0]?.count === 2, 5_000, 20);

  const published = await waitFor('all three publications', () => {
    const set = sent.get(`pods/${NODE}`) as { pods: { claims?: object; serviceAccount?: object }[] } | undefined;
    return set?.pods[0]?.claims && set.pods[0].serviceAccount && sent.get('services') && sent.get(`ingress/${NODE}`) ? set : undefined;
  }, 10_000, 20);
  t.deepEqual(published.pods[0]!.claims, { data: { volumeName: 'pv-data', path: '/srv/data' } });
  t.is((sent.get(`ingress/${NODE}`) as { certificates: unknown[] }).certificates.length, 1);

  await admin.delete(R.pods, 'default', 'web', { gracePeriodSeconds: 30 });
  await pods.apply(NODE, [{ uid: pod.metadata.uid!, namespace: 'default', name: 'web', gone: true }]);
  t.is(admin.get(R.pods, 'default', 'web'), undefined, 'the stopped pod is removed');

  t.deepEqual(refused, [], 'nothing the bridge did was refused');
  const granted = ROLE.rules.flatMap((r) => (r.verbs ?? []).flatMap((v) => (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).map((res) => grant(v, g, res)))));
  t.deepEqual(granted.filter((g) => !asked.has(g)), [], 'every right of the role is used');
  t.deepEqual([...asked].filter((a) => !granted.includes(a)), [], 'nothing outside the role was asked for');
});

test('writes outside the role are Forbidden and logged under the bridge\'s name', async (t) => {
  const { c, client, refused } = await bridgeUnderRbac(t);
  const verbs = (resource: string) => ROLE.rules.filter((r) => r.resources?.includes(resource)).flatMap((r) => r.verbs);
  t.false(verbs('nodes').includes('delete'), 'the bridge never deletes a node');
  t.false(verbs('configmaps').some((v) => v !== 'list' && v !== 'watch'), 'ConfigMaps are only read');
  t.false(verbs('pods').includes('create'));

  await c.client.create<Node>(R.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE } } as Node);
  await c.client.create(R.configmaps, obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { a: '1' } }));
  const forbidden = (p: Promise<unknown>) => t.throwsAsync(p, { instanceOf: ApiError, message: /is forbidden: User "system:pikube-bridge" cannot / }).then((e) => t.is((e as ApiError).code, 403));
  await forbidden(client.delete(R.nodes, undefined, NODE));
  await forbidden(client.update(R.configmaps, { ...c.client.get(R.configmaps, 'default', 'cfg')!, data: { a: '2' } } as KubeObject));
  await forbidden(client.create<Pod>(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'i' }] } } as Pod));
  await forbidden(client.patch(R.nodes, undefined, NODE, { metadata: { labels: { a: 'b' } } }));
  t.throws(() => client.list(R.namespaces), { instanceOf: ApiError });
  t.truthy(c.client.get(R.nodes, undefined, NODE), 'the node is still there');
  t.is(c.client.get<KubeObject & { data: Record<string, string> }>(R.configmaps, 'default', 'cfg')?.data.a, '1');
  t.deepEqual(refused.map((r) => (r as { user: string; verb: string; resource: string }).verb), ['delete', 'update', 'create', 'patch', 'list']);
  t.true(refused.every((r) => (r as { user: string }).user === 'system:pikube-bridge'));
});

test('a node\'s reports still touch only its own pods under the bridge\'s identity', async (t) => {
  const { c, client } = await bridgeUnderRbac(t);
  const pod = await c.client.create<Pod>(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { nodeName: NODE, containers: [{ name: 'c', image: 'i' }] } } as Pod);
  const pods = new PodStatusSync({ client, log: silent });
  await pods.apply('pi-02', [{ uid: pod.metadata.uid!, namespace: 'default', name: 'web', status: { phase: 'Failed' } }]);
  t.not(c.client.get<Pod>(R.pods, 'default', 'web')?.status?.phase, 'Failed', 'another node\'s report about the pod is ignored');
  await c.client.delete(R.pods, 'default', 'web', { gracePeriodSeconds: 30 });
  await pods.apply('pi-02', [{ uid: pod.metadata.uid!, namespace: 'default', name: 'web', gone: true }]);
  t.truthy(c.client.get(R.pods, 'default', 'web'), 'another node cannot finish the pod\'s deletion');
});

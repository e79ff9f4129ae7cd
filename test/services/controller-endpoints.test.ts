import test from 'ava';
import { R } from '../../controller/apiserver/client.js';
import { EndpointsController, type Endpoints } from '../../controller/controller-manager/endpoints-controller.js';
import { EndpointSliceController, MANAGED_BY, MANAGED_BY_LABEL, SERVICE_NAME_LABEL, type EndpointSlice } from '../../controller/controller-manager/endpointslice-controller.js';
import { SharedInformers } from '../../controller/client/shared-informers.js';
import { startTestCluster } from '../helpers/cluster.js';
import { addPod, addService, setPodStatus, waitUntil } from './controller-objects.js';

async function setup(t: { teardown: (fn: () => Promise<void>) => void }) {
  const c = await startTestCluster();
  const informers = new SharedInformers(c.client);
  const epc = new EndpointsController({ client: c.client, informers });
  const esc = new EndpointSliceController({ client: c.client, informers });
  epc.start();
  esc.start();
  t.teardown(async () => { epc.stop(); esc.stop(); informers.stop(); await c.stop(); });
  return c;
}

const ep = (c: { client: any }, name: string) => c.client.get(R.endpoints, 'default', name) as Endpoints | undefined;
const ips = (list: { ip: string }[] | undefined) => (list ?? []).map((a) => a.ip);
const slicesOf = (c: { client: any }, name: string) =>
  (c.client.list(R.endpointslices, { namespace: 'default' }).items as EndpointSlice[]).filter((s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === name);

test('endpoints follow pod readiness, scale and deletion; the Service takes them along', async (t) => {
  const c = await setup(t);
  await addService(c.client, 'hello', { selector: { app: 'hello' }, ports: [{ port: 80, targetPort: 8080 }] });
  // A Service without pods has an empty Endpoints object.
  await waitUntil('empty endpoints', () => ep(c, 'hello'));
  t.deepEqual(ep(c, 'hello')!.subsets, []);

  await addPod(c.client, 'hello-1', { node: 'node-a' });
  await addPod(c.client, 'hello-2', { node: 'node-b' });
  await addPod(c.client, 'other', { labels: { app: 'other' } });
  await setPodStatus(c.client, 'other', '10.88.0.9', true);
  await setPodStatus(c.client, 'hello-1', '10.88.0.5', true);
  await setPodStatus(c.client, 'hello-2', '10.88.0.6', false);
  const e = await waitUntil('one ready, one not', () => { const x = ep(c, 'hello'); return x?.subsets?.[0]?.notReadyAddresses?.length === 1 && x; });
  t.deepEqual(e.subsets, [{
    addresses: [{ ip: '10.88.0.5', nodeName: 'node-a', targetRef: { kind: 'Pod', namespace: 'default', name: 'hello-1', uid: c.client.get(R.pods, 'default', 'hello-1')!.metadata.uid! } }],
    notReadyAddresses: [{ ip: '10.88.0.6', nodeName: 'node-b', targetRef: { kind: 'Pod', namespace: 'default', name: 'hello-2', uid: c.client.get(R.pods, 'default', 'hello-2')!.metadata.uid! } }],
    ports: [{ port: 8080, protocol: 'TCP' }],
  }]);

  // Readiness flips both ways.
  await setPodStatus(c.client, 'hello-2', '10.88.0.6', true);
  await waitUntil('both ready', () => ips(ep(c, 'hello')?.subsets?.[0]?.addresses).join() === '10.88.0.5,10.88.0.6');
  t.is(ep(c, 'hello')!.subsets![0]!.notReadyAddresses, undefined);
  await setPodStatus(c.client, 'hello-1', '10.88.0.5', false);
  await waitUntil('hello-1 not ready', () => ips(ep(c, 'hello')?.subsets?.[0]?.notReadyAddresses).join() === '10.88.0.5');

  // Nothing changes → nothing is written.
  const rv = ep(c, 'hello')!.metadata.resourceVersion;
  await setPodStatus(c.client, 'hello-1', '10.88.0.5', false);
  await new Promise((r) => setTimeout(r, 200));
  t.is(ep(c, 'hello')!.metadata.resourceVersion, rv);

  // Scale up, then a terminating pod drops out at once.
  await addPod(c.client, 'hello-3', { node: 'node-a' });
  await setPodStatus(c.client, 'hello-3', '10.88.0.7', true);
  await waitUntil('three pods', () => ips(ep(c, 'hello')?.subsets?.[0]?.addresses).join() === '10.88.0.6,10.88.0.7');
  await c.client.delete(R.pods, 'default', 'hello-2', { gracePeriodSeconds: 30 });
  t.truthy(c.client.get(R.pods, 'default', 'hello-2')?.metadata.deletionTimestamp, 'pod is terminating, not gone');
  await waitUntil('terminating pod excluded', () => ips(ep(c, 'hello')?.subsets?.[0]?.addresses).join() === '10.88.0.7');
  // Slices keep the terminating pod, flagged.
  await waitUntil('slice shows terminating', () => slicesOf(c, 'hello')[0]?.endpoints.some((x) => x.addresses[0] === '10.88.0.6' && x.conditions.terminating && !x.conditions.ready));

  // Labels that stop matching remove the pod.
  await c.client.patch(R.pods, 'default', 'hello-3', { metadata: { labels: { app: 'moved' } } });
  await waitUntil('relabelled pod removed', () => ips(ep(c, 'hello')?.subsets?.[0]?.addresses).length === 0);

  // Deleting the Service deletes its Endpoints and slices.
  await c.client.delete(R.services, 'default', 'hello');
  await waitUntil('endpoints gone', () => !ep(c, 'hello') && slicesOf(c, 'hello').length === 0);
  t.pass();
});

test('named target ports resolve per pod; pods without the name are left out of that port', async (t) => {
  const c = await setup(t);
  await addService(c.client, 'web', {
    selector: { app: 'web' },
    ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 }],
  });
  await addPod(c.client, 'web-old', { labels: { app: 'web' }, ports: [{ name: 'http', containerPort: 8080 }] });
  await addPod(c.client, 'web-new', { labels: { app: 'web' }, ports: [{ name: 'http', containerPort: 9090 }] });
  await addPod(c.client, 'web-bare', { labels: { app: 'web' } });
  await setPodStatus(c.client, 'web-old', '10.88.1.1', true);
  await setPodStatus(c.client, 'web-new', '10.88.1.2', true);
  await setPodStatus(c.client, 'web-bare', '10.88.1.3', true);
  const e = await waitUntil('three subsets', () => { const x = ep(c, 'web'); return x?.subsets?.length === 3 && x; });
  const byIp = new Map(e.subsets!.map((s) => [s.addresses![0]!.ip, s.ports]));
  t.deepEqual(byIp.get('10.88.1.1'), [{ name: 'dns', port: 5353, protocol: 'UDP' }, { name: 'http', port: 8080, protocol: 'TCP' }]);
  t.deepEqual(byIp.get('10.88.1.2'), [{ name: 'dns', port: 5353, protocol: 'UDP' }, { name: 'http', port: 9090, protocol: 'TCP' }]);
  t.deepEqual(byIp.get('10.88.1.3'), [{ name: 'dns', port: 5353, protocol: 'UDP' }]);

  // EndpointSlices: one per distinct port set, labelled for discovery and owned by the Service.
  const slices = await waitUntil('three slices', () => { const s = slicesOf(c, 'web'); return s.length === 3 && s; });
  const svc = c.client.get(R.services, 'default', 'web')!;
  for (const s of slices) {
    t.is(s.addressType, 'IPv4');
    t.is(s.metadata.labels?.[MANAGED_BY_LABEL], MANAGED_BY);
    t.is(s.metadata.ownerReferences?.[0]?.uid, svc.metadata.uid);
    t.is(s.endpoints.length, 1);
    t.deepEqual(s.endpoints[0]!.conditions, { ready: true, serving: true, terminating: false });
  }
  t.deepEqual(slices.map((s) => s.endpoints[0]!.addresses[0]).sort(), ['10.88.1.1', '10.88.1.2', '10.88.1.3']);
});

test('Services without a selector keep hand-made Endpoints; headless Services get the headless label', async (t) => {
  const c = await setup(t);
  await addService(c.client, 'external', { ports: [{ port: 5432 }] });
  await c.client.create(R.endpoints, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'external', namespace: 'default' }, subsets: [{ addresses: [{ ip: '192.168.1.50' }], ports: [{ port: 5432, protocol: 'TCP' }] }] });
  await addService(c.client, 'db', { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] });
  await addPod(c.client, 'db-0', { labels: { app: 'db' } });
  await setPodStatus(c.client, 'db-0', '10.88.2.1', true);
  await waitUntil('headless endpoints', () => ep(c, 'db')?.subsets?.[0]?.addresses?.[0]?.ip === '10.88.2.1');
  t.is(ep(c, 'db')!.metadata.labels?.['service.kubernetes.io/headless'], '');
  await new Promise((r) => setTimeout(r, 200));
  t.deepEqual(ips(ep(c, 'external')!.subsets![0]!.addresses), ['192.168.1.50']);
  // The API server's own Endpoints are left alone too.
  t.is(ep(c, 'kubernetes'), undefined);
});

test('a pod not yet given an IP is no endpoint', async (t) => {
  const c = await setup(t);
  await addService(c.client, 'late', { selector: { app: 'late' }, ports: [{ port: 80 }] });
  await addPod(c.client, 'late-1', { labels: { app: 'late' } });
  await waitUntil('endpoints', () => ep(c, 'late'));
  await new Promise((r) => setTimeout(r, 100));
  t.deepEqual(ep(c, 'late')!.subsets, []);
  await setPodStatus(c.client, 'late-1', '10.88.3.1', true);
  await waitUntil('pod listed once it has an IP', () => ep(c, 'late')?.subsets?.[0]?.addresses?.[0]?.ip === '10.88.3.1');
  t.deepEqual(ep(c, 'late')!.subsets![0]!.ports, [{ port: 80, protocol: 'TCP' }]);
});

test('Endpoints left behind by a Service deleted while the controller was down are removed at start', async (t) => {
  const c = await startTestCluster();
  const informers = new SharedInformers(c.client);
  const epc = new EndpointsController({ client: c.client, informers });
  t.teardown(async () => { epc.stop(); informers.stop(); await c.stop(); });
  await addService(c.client, 'kept', { selector: { app: 'kept' }, ports: [{ port: 80 }] });
  for (const name of ['kept', 'orphan']) {
    await c.client.create(R.endpoints, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: 'default' }, subsets: [] });
  }
  epc.start();
  await waitUntil('orphan removed', () => !ep(c, 'orphan'));
  t.truthy(ep(c, 'kept'));
});

import test from 'ava';
import { R } from '../../controller/apiserver/client.js';
import { ServiceAllocator } from '../../controller/apiserver/admission/service-allocator.js';
import { bootstrapCluster } from '../../controller/apiserver/bootstrap.js';
import { ServiceRoutingPublisher } from '../../controller/bridge/service-routing-publisher.js';
import { EndpointsController } from '../../controller/controller-manager/endpoints-controller.js';
import { LoadBalancerController } from '../../controller/controller-manager/load-balancer.js';
import { SharedInformers } from '../../controller/client/shared-informers.js';
import type { ServiceRoutingPayload } from '../../protocol/mqtt/payloads.js';
import type { Service } from '../../protocol/kube/types.js';
import { parseServiceRouting } from '../../protocol/mqtt/validate.js';
import { startTestCluster } from '../helpers/cluster.js';
import { addNode, addPod, addService, setPodStatus, waitUntil } from './controller-objects.js';

async function setup(t: { teardown: (fn: () => Promise<void>) => void }, opts: { failFirst?: boolean } = {}) {
  const c = await startTestCluster();
  // The API server's own Service, as the controller bootstraps it.
  await bootstrapCluster(c.core, { serviceIP: new ServiceAllocator(c.store, '10.43.0.0/16').apiServiceIP, endpointIP: '192.168.70.1', port: 6443 });
  const informers = new SharedInformers(c.client);
  const loops = [new EndpointsController({ client: c.client, informers }), new LoadBalancerController({ client: c.client, informers })];
  for (const l of loops) l.start();
  const sent: ServiceRoutingPayload[] = [];
  let fail = opts.failFirst ?? false;
  const publisher = new ServiceRoutingPublisher({
    informers, revision: () => c.store.revision, clusterDomain: 'cluster.local', debounceMs: 20,
    log: { warn: () => undefined },
    publish: async (p) => {
      if (fail) { fail = false; throw new Error('broker away'); }
      // What goes on the wire must pass the agent's own validation.
      sent.push(parseServiceRouting(Buffer.from(JSON.stringify(p))));
    },
  });
  publisher.start();
  t.teardown(async () => { publisher.stop(); for (const l of loops) l.stop(); informers.stop(); await c.stop(); });
  return { c, sent, publisher, last: () => sent[sent.length - 1] };
}

const route = (p: ServiceRoutingPayload | undefined, name: string) => p?.services.find((s) => s.name === name);

test('the payload carries every Service with endpoints, node ports, load balancer IPs, nodes and the domain', async (t) => {
  const { c, sent, publisher, last } = await setup(t);
  await addNode(c.client, 'pi-1', '192.168.70.11');
  await addNode(c.client, 'pi-2', '192.168.70.12');
  await addService(c.client, 'hello', {
    type: 'LoadBalancer', selector: { app: 'hello' }, sessionAffinity: 'ClientIP', externalTrafficPolicy: 'Local',
    ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }, { name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 }],
  });
  await addService(c.client, 'db', { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] });
  await addService(c.client, 'alias', { type: 'ExternalName', externalName: 'example.org' });
  await addPod(c.client, 'hello-1', { node: 'pi-1' });
  await addPod(c.client, 'hello-2', { node: 'pi-2' });
  await setPodStatus(c.client, 'hello-1', '10.42.11.5', true);
  await setPodStatus(c.client, 'hello-2', '10.42.12.5', false);
  await waitUntil('hello routed', () => route(last(), 'hello')?.ports[0]?.endpoints.length === 2 && route(last(), 'hello')!.loadBalancerIPs.length === 1);
  await publisher.flushed();
  const p = last()!;
  const hello = route(p, 'hello')!;
  const svc = c.client.get<Service>(R.services, 'default', 'hello')!;
  t.deepEqual(hello, {
    namespace: 'default', name: 'hello', type: 'LoadBalancer', clusterIP: svc.spec!.clusterIP, headless: false,
    sessionAffinity: 'ClientIP', externalTrafficPolicy: 'Local',
    ports: [
      { name: 'http', protocol: 'TCP', port: 80, nodePort: 30080, endpoints: [
        { ip: '10.42.11.5', port: 8080, nodeName: 'pi-1', ready: true }, { ip: '10.42.12.5', port: 8080, nodeName: 'pi-2', ready: false }] },
      { name: 'dns', protocol: 'UDP', port: 53, nodePort: svc.spec!.ports![1]!.nodePort, endpoints: [
        { ip: '10.42.11.5', port: 5353, nodeName: 'pi-1', ready: true }, { ip: '10.42.12.5', port: 5353, nodeName: 'pi-2', ready: false }] },
    ],
    // Local: only pi-1 holds a ready endpoint.
    loadBalancerIPs: ['192.168.70.11'],
  });
  t.true(svc.spec!.ports![1]!.nodePort! >= 30000);
  t.like(route(p, 'db'), { headless: true, type: 'ClusterIP', ports: [{ protocol: 'TCP', port: 5432, endpoints: [] }] });
  t.is(route(p, 'db')!.clusterIP, undefined);
  t.is(route(p, 'alias'), undefined, 'ExternalName is DNS only, not routed');
  t.deepEqual(route(p, 'kubernetes'), {
    namespace: 'default', name: 'kubernetes', type: 'ClusterIP', clusterIP: '10.43.0.1', headless: false, sessionAffinity: 'None', externalTrafficPolicy: 'Cluster',
    ports: [{ name: 'https', protocol: 'TCP', port: 443, endpoints: [{ ip: '192.168.70.1', port: 6443, ready: true }] }], loadBalancerIPs: [],
  });
  t.deepEqual(p.nodes, [{ name: 'pi-1', podCIDR: '10.42.11.0/24', addresses: ['192.168.70.11'] }, { name: 'pi-2', podCIDR: '10.42.12.0/24', addresses: ['192.168.70.12'] }]);
  t.is(p.clusterDomain, 'cluster.local');
  // Generations only rise.
  for (let i = 1; i < sent.length; i++) t.true(sent[i]!.generation > sent[i - 1]!.generation);
  t.true(p.generation <= c.store.revision);

  // Nothing changes → nothing is published; a change → one more publication.
  const count = sent.length;
  await c.client.patch(R.pods, 'default', 'hello-1', { metadata: { annotations: { touched: 'yes' } } });
  await new Promise((r) => setTimeout(r, 150));
  await publisher.flushed();
  t.is(sent.length, count);
  await c.client.delete(R.services, 'default', 'db');
  await waitUntil('db gone', () => sent.length > count && !route(last(), 'db'));
  // Republishing (after a broker reconnect) sends the same content again.
  const before = sent.length;
  publisher.republish();
  await waitUntil('republished', () => sent.length === before + 1);
  t.deepEqual({ ...last()!, generation: 0 }, { ...sent[before - 1]!, generation: 0 });
});

test('a burst of changes is coalesced, and a failed publication is retried', async (t) => {
  const { c, sent, last } = await setup(t, { failFirst: true });
  // The first publication fails; the retry must still deliver the state.
  await waitUntil('retried after a failure', () => sent.length >= 1, 5000);
  const n = sent.length;
  await Promise.all(Array.from({ length: 20 }, (_, i) => addService(c.client, `svc-${i}`, { selector: { app: `a${i}` }, ports: [{ port: 80 }] })));
  await waitUntil('all twenty', () => last()!.services.length === 21, 5000);
  await new Promise((r) => setTimeout(r, 100));
  // Twenty Services and their Endpoints: far fewer publications than changes.
  t.true(sent.length - n <= 8, `published ${sent.length - n} times for 40 changes`);
});

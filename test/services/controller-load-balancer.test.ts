import test from 'ava';
import { R } from '../../controller/apiserver/client.js';
import { EndpointsController, type Service } from '../../controller/controller-manager/endpoints-controller.js';
import { EXCLUDE_FROM_LB_LABEL, LoadBalancerController } from '../../controller/controller-manager/load-balancer.js';
import { SharedInformers } from '../../controller/client/shared-informers.js';
import { startTestCluster } from '../helpers/cluster.js';
import { addNode, addPod, addService, setNodeStatus, setPodStatus, waitUntil } from './controller-objects.js';

async function setup(t: { teardown: (fn: () => Promise<void>) => void }) {
  const c = await startTestCluster();
  const informers = new SharedInformers(c.client);
  const loops = [new EndpointsController({ client: c.client, informers }), new LoadBalancerController({ client: c.client, informers })];
  for (const l of loops) l.start();
  t.teardown(async () => { for (const l of loops) l.stop(); informers.stop(); await c.stop(); });
  return c;
}

const ingressOf = (c: { client: any }, name: string) =>
  ((c.client.get(R.services, 'default', name) as Service | undefined)?.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).join(',');

test('Cluster policy: every Ready node, following nodes as they come, fail and go', async (t) => {
  const c = await setup(t);
  await addNode(c.client, 'pi-1', '192.168.50.11');
  await addNode(c.client, 'pi-2', '192.168.50.12');
  await addNode(c.client, 'pi-3', '192.168.50.13', false);
  const svc = await addService(c.client, 'web', { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] });
  t.is(svc.spec?.externalTrafficPolicy, 'Cluster', 'defaulted by the API');
  await waitUntil('two ready nodes', () => ingressOf(c, 'web') === '192.168.50.11,192.168.50.12');

  await setNodeStatus(c.client, 'pi-3', '192.168.50.13', true);
  await waitUntil('third node became Ready', () => ingressOf(c, 'web') === '192.168.50.11,192.168.50.12,192.168.50.13');
  await setNodeStatus(c.client, 'pi-1', '192.168.50.11', false);
  await waitUntil('first node NotReady', () => ingressOf(c, 'web') === '192.168.50.12,192.168.50.13');
  await c.client.delete(R.nodes, undefined, 'pi-2');
  await waitUntil('second node deleted', () => ingressOf(c, 'web') === '192.168.50.13');
  await c.client.patch(R.nodes, undefined, 'pi-3', { metadata: { labels: { [EXCLUDE_FROM_LB_LABEL]: '' } } });
  await waitUntil('excluded node dropped', () => ingressOf(c, 'web') === '');
  t.deepEqual(c.client.get<Service>(R.services, 'default', 'web')!.status?.loadBalancer, {});

  // Other Service types get no ingress; a Service that stops being a LoadBalancer loses it.
  await c.client.patch(R.nodes, undefined, 'pi-3', { metadata: { labels: { [EXCLUDE_FROM_LB_LABEL]: null } } });
  await waitUntil('node back', () => ingressOf(c, 'web') === '192.168.50.13');
  await addService(c.client, 'internal', { selector: { app: 'web' }, ports: [{ port: 80 }] });
  await c.client.patch(R.services, 'default', 'web', { spec: { type: 'NodePort' } });
  await waitUntil('ingress cleared', () => ingressOf(c, 'web') === '');
  await new Promise((r) => setTimeout(r, 100));
  t.is(ingressOf(c, 'internal'), '');
});

test('Local policy: only nodes holding a ready endpoint', async (t) => {
  const c = await setup(t);
  await addNode(c.client, 'pi-a', '192.168.60.1');
  await addNode(c.client, 'pi-b', '192.168.60.2');
  await addNode(c.client, 'pi-c', '192.168.60.3');
  await addService(c.client, 'local', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', selector: { app: 'local' }, ports: [{ port: 80 }] });
  await new Promise((r) => setTimeout(r, 150));
  t.is(ingressOf(c, 'local'), '', 'no endpoints, no node serves it');

  await addPod(c.client, 'local-1', { labels: { app: 'local' }, node: 'pi-b' });
  await addPod(c.client, 'local-2', { labels: { app: 'local' }, node: 'pi-c' });
  await setPodStatus(c.client, 'local-1', '10.42.2.5', true);
  await setPodStatus(c.client, 'local-2', '10.42.3.5', false);
  await waitUntil('only pi-b', () => ingressOf(c, 'local') === '192.168.60.2');
  await setPodStatus(c.client, 'local-2', '10.42.3.5', true);
  await waitUntil('pi-b and pi-c', () => ingressOf(c, 'local') === '192.168.60.2,192.168.60.3');
  await setNodeStatus(c.client, 'pi-c', '192.168.60.3', false);
  await waitUntil('NotReady node leaves', () => ingressOf(c, 'local') === '192.168.60.2');
  await c.client.delete(R.pods, 'default', 'local-1', { gracePeriodSeconds: 0 });
  await waitUntil('no ready endpoint on a Ready node', () => ingressOf(c, 'local') === '');

  // Switching the policy to Cluster widens it to every Ready node.
  await c.client.patch(R.services, 'default', 'local', { spec: { externalTrafficPolicy: 'Cluster' } });
  await waitUntil('cluster policy', () => ingressOf(c, 'local') === '192.168.60.1,192.168.60.2');
  t.pass();
});

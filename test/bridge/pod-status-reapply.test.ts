// A node that was NotReady comes back: the Ready conditions the controller set False on
// its pods are replaced by what the agent last reported, even if the agent never noticed
// it was considered gone (a stale heartbeat, not a disconnect) and sends nothing new.
import test from 'ava';
import type { Pod } from '../../protocol/kube/types.js';
import { R } from '../../controller/apiserver/client.js';
import { PodStatusSync } from '../../controller/bridge/pod-status-sync.js';
import { startTestCluster } from '../helpers/cluster.js';

const silent = { warn: () => {}, info: () => {}, debug: () => {} };

test('last reported pod statuses are re-applied when the node is Ready again', async (t) => {
  const c = await startTestCluster();
  t.teardown(() => c.stop());
  const created = await c.client.create<Pod>(R.pods, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' },
    spec: { nodeName: 'pi-01', containers: [{ name: 'c', image: 'localhost/busybox:latest' }] },
  });
  const sync = new PodStatusSync({ client: c.client, log: silent });
  const ready = { type: 'Ready', status: 'True' as const, lastTransitionTime: '2026-01-01T00:00:00Z' };
  await sync.apply('pi-01', [{ uid: created.metadata.uid!, namespace: 'default', name: 'web', status: { phase: 'Running', podIP: '10.42.0.5', conditions: [ready] } }]);
  const readyOf = () => c.client.get<Pod>(R.pods, 'default', 'web')!.status?.conditions?.find((x) => x.type === 'Ready')?.status;
  t.is(readyOf(), 'True');

  // What the node lifecycle controller does while the node is NotReady.
  const marked = structuredClone(c.client.get<Pod>(R.pods, 'default', 'web')!);
  marked.status!.conditions = marked.status!.conditions!.map((x) => (x.type === 'Ready' ? { ...x, status: 'False' as const } : x));
  await c.client.update(R.pods, marked, 'status');
  t.is(readyOf(), 'False');

  await sync.reapply('pi-01');
  t.is(readyOf(), 'True');
  t.is(c.client.get<Pod>(R.pods, 'default', 'web')!.status?.podIP, '10.42.0.5');

  // A pod that is gone is forgotten, not resurrected.
  await c.client.delete(R.pods, 'default', 'web', { gracePeriodSeconds: 0 });
  await t.notThrowsAsync(sync.reapply('pi-01'));
  t.is(c.client.get(R.pods, 'default', 'web'), undefined);
});

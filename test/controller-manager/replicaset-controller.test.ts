import test from 'ava';
import { R } from '../../controller/apiserver/client.js';
import { ReplicaSetController, type ReplicaSet } from '../../controller/controller-manager/replicaset-controller.js';
import type { Pod } from '../../protocol/kube/types.js';
import { startTestCluster } from '../helpers/cluster.js';
import { markRunningReady, ownedBy, podTemplate, podsOf, waitFor } from './util.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

async function setup() {
  const cluster = await startTestCluster();
  const rsc = new ReplicaSetController({ client: cluster.client });
  rsc.start();
  return { ...cluster, rsc, async close() { rsc.stop(); await cluster.stop(); } };
}

const newRS = (name: string, replicas: number, labels = { app: name }): ReplicaSet => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet',
  metadata: { name, namespace: 'default' },
  spec: { replicas, selector: { matchLabels: labels }, template: podTemplate(labels) },
});

test('creates pods from the template with a controller reference, then scales down', async (t) => {
  const c = await setup();
  try {
    const rs = await c.client.create<ReplicaSet>(R.replicasets, newRS('web', 3));
    const pods = await waitFor('3 pods', () => { const p = podsOf(c.client, 'default', ownedBy(rs)); return p.length === 3 && p; });
    for (const p of pods) {
      t.true(p.metadata.name!.startsWith('web-'));
      t.is(p.metadata.labels?.app, 'web');
      t.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid!, controller: true, blockOwnerDeletion: true }]);
      t.is(p.spec.containers[0]!.image, 'nginx:1.25');
    }
    // Status follows the pods; make two ready.
    const aMinuteAgo = rfc3339Seconds(Date.now() - 60_000);
    await markRunningReady(c.client, pods[0]!, true, aMinuteAgo);
    await markRunningReady(c.client, pods[1]!);
    await waitFor('status', () => {
      const s = c.client.get<ReplicaSet>(R.replicasets, 'default', 'web')?.status;
      return s?.replicas === 3 && s.readyReplicas === 2 && s.availableReplicas === 2 && s.fullyLabeledReplicas === 3 && s.observedGeneration === 1;
    });
    // Scale down to 1: the not-ready pod goes first, then the one ready for less time.
    await c.client.patch(R.replicasets, 'default', 'web', { spec: { replicas: 1 } });
    const left = await waitFor('1 pod', () => { const p = podsOf(c.client, 'default', ownedBy(rs)); return p.length === 1 && p; });
    t.is(left[0]!.metadata.name, pods[0]!.metadata.name);
    await waitFor('status after scale down', () => {
      const got = c.client.get<ReplicaSet>(R.replicasets, 'default', 'web')!;
      return got.status?.replicas === 1 && got.status.observedGeneration === 2;
    });
    // Events were recorded for the RS.
    const events = c.client.list(R.events, { namespace: 'default' }).items.filter((e) => (e as any).involvedObject.name === 'web');
    t.true(events.some((e) => (e as any).reason === 'SuccessfulCreate'));
    t.true(events.some((e) => (e as any).reason === 'SuccessfulDelete'));
  } finally {
    await c.close();
  }
});

test('replaces a deleted pod and ignores terminating and finished pods', async (t) => {
  const c = await setup();
  try {
    const rs = await c.client.create<ReplicaSet>(R.replicasets, newRS('api', 2));
    const pods = await waitFor('2 pods', () => { const p = podsOf(c.client, 'default', ownedBy(rs)); return p.length === 2 && p; });
    await c.client.delete(R.pods, 'default', pods[0]!.metadata.name!);
    await waitFor('replacement', () => { const p = podsOf(c.client, 'default', ownedBy(rs)); return p.length === 2 && !p.some((x) => x.metadata.name === pods[0]!.metadata.name); });
    // A Failed pod does not count: a new one is made.
    const failed = structuredClone(c.client.get<Pod>(R.pods, 'default', pods[1]!.metadata.name!)!);
    failed.status = { phase: 'Failed' };
    await c.client.update(R.pods, failed, 'status');
    await waitFor('replacement for failed', () => podsOf(c.client, 'default', ownedBy(rs)).filter((p) => p.status?.phase !== 'Failed').length === 2);
    t.pass();
  } finally {
    await c.close();
  }
});

test('adopts matching orphans and releases pods whose labels change', async (t) => {
  const c = await setup();
  try {
    const orphan = await c.client.create<Pod>(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', namespace: 'default', labels: { app: 'cache' } }, spec: podTemplate({}).spec });
    const rs = await c.client.create<ReplicaSet>(R.replicasets, newRS('cache', 2));
    await waitFor('2 pods owned', () => podsOf(c.client, 'default', ownedBy(rs)).length === 2);
    const adopted = c.client.get<Pod>(R.pods, 'default', 'stray')!;
    t.is(adopted.metadata.uid, orphan.metadata.uid);
    t.is(adopted.metadata.ownerReferences?.[0]?.uid, rs.metadata.uid);
    // Relabel the adopted pod: the RS lets it go and makes a new one.
    await c.client.patch(R.pods, 'default', 'stray', { metadata: { labels: { app: 'debug' } } });
    await waitFor('released', () => !(c.client.get<Pod>(R.pods, 'default', 'stray')!.metadata.ownerReferences ?? []).length);
    await waitFor('replacement', () => podsOf(c.client, 'default', ownedBy(rs)).length === 2);
    t.is(podsOf(c.client, 'default', (p) => p.metadata.name === 'stray').length, 1);
  } finally {
    await c.close();
  }
});

test('availableReplicas waits for minReadySeconds', async (t) => {
  const c = await setup();
  try {
    const def = newRS('slow', 1);
    def.spec.minReadySeconds = 1;
    const rs = await c.client.create<ReplicaSet>(R.replicasets, def);
    const [pod] = await waitFor('pod', () => { const p = podsOf(c.client, 'default', ownedBy(rs)); return p.length === 1 && p; });
    await markRunningReady(c.client, pod!);
    await waitFor('ready but not available', () => {
      const s = c.client.get<ReplicaSet>(R.replicasets, 'default', 'slow')?.status;
      return s?.readyReplicas === 1 && s.availableReplicas === 0;
    });
    await waitFor('available', () => c.client.get<ReplicaSet>(R.replicasets, 'default', 'slow')?.status?.availableReplicas === 1, 5000);
    t.pass();
  } finally {
    await c.close();
  }
});

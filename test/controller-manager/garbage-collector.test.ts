import test from 'ava';
import { R } from '../../controller/apiserver/client.js';
import type { Deployment } from '../../controller/controller-manager/deployment-controller.js';
import type { ReplicaSet } from '../../controller/controller-manager/replicaset-controller.js';
import type { KubeObject, Pod } from '../../protocol/kube/types.js';
import { ownedBy, podTemplate, podsOf, startClusterWithControllers, waitFor } from './util.js';

type Cluster = Awaited<ReturnType<typeof startClusterWithControllers>>;
const NS = 'default';

async function deploymentWithPods(c: Cluster, name: string, replicas = 2): Promise<{ d: Deployment; rs: ReplicaSet; pods: Pod[] }> {
  const d = await c.client.create<Deployment>(R.deployments, {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: NS },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: podTemplate({ app: name }) },
  });
  const rs = await waitFor('rs', () => c.client.list<ReplicaSet>(R.replicasets, { namespace: NS }).items.find(ownedBy(d)));
  const pods = await waitFor('pods', () => { const p = podsOf(c.client, NS, ownedBy(rs)); return p.length === replicas && p; });
  return { d, rs, pods };
}

const rsGone = (c: Cluster, rs: KubeObject) => !c.client.get(R.replicasets, NS, rs.metadata.name!);

test('background deletion of a deployment removes its ReplicaSet and pods', async (t) => {
  const c = await startClusterWithControllers();
  try {
    const { rs } = await deploymentWithPods(c, 'bg');
    await c.client.delete(R.deployments, NS, 'bg', { propagationPolicy: 'Background' });
    t.falsy(c.client.get(R.deployments, NS, 'bg'), 'the owner goes at once');
    await waitFor('rs gone', () => rsGone(c, rs));
    await waitFor('pods gone', () => podsOf(c.client, NS, (p) => p.metadata.labels?.app === 'bg').length === 0);
    t.pass();
  } finally {
    await c.close();
  }
});

test('foreground deletion keeps the owner until its dependents are gone', async (t) => {
  const c = await startClusterWithControllers();
  try {
    const { rs } = await deploymentWithPods(c, 'fg');
    let ownerGoneWhilePodsLeft = false;
    const watch = c.client.watch(R.deployments, { namespace: NS }, (e) => {
      if (e.type === 'DELETED' && e.object.metadata.name === 'fg') {
        ownerGoneWhilePodsLeft = podsOf(c.client, NS, (p) => p.metadata.labels?.app === 'fg').length > 0 || !rsGone(c, rs);
      }
    });
    await c.client.delete(R.deployments, NS, 'fg', { propagationPolicy: 'Foreground' });
    const marked = c.client.get(R.deployments, NS, 'fg');
    t.truthy(marked?.metadata.deletionTimestamp);
    t.true(marked?.metadata.finalizers?.includes('foregroundDeletion'));
    await waitFor('deployment gone', () => !c.client.get(R.deployments, NS, 'fg'));
    watch.stop();
    t.false(ownerGoneWhilePodsLeft);
    t.true(rsGone(c, rs));
    t.is(podsOf(c.client, NS, (p) => p.metadata.labels?.app === 'fg').length, 0);
  } finally {
    await c.close();
  }
});

test('orphan deletion strips owner references and keeps the dependents', async (t) => {
  const c = await startClusterWithControllers();
  try {
    const { rs, pods } = await deploymentWithPods(c, 'or');
    await c.client.delete(R.deployments, NS, 'or', { propagationPolicy: 'Orphan' });
    await waitFor('deployment gone', () => !c.client.get(R.deployments, NS, 'or'));
    const kept = c.client.get<ReplicaSet>(R.replicasets, NS, rs.metadata.name!)!;
    t.truthy(kept);
    t.deepEqual(kept.metadata.ownerReferences ?? [], []);
    // The orphaned ReplicaSet still controls its pods.
    const still = podsOf(c.client, NS, ownedBy(rs));
    t.deepEqual(still.map((p) => p.metadata.name).sort(), pods.map((p) => p.metadata.name).sort());
    await new Promise((r) => setTimeout(r, 300));
    t.truthy(c.client.get(R.replicasets, NS, rs.metadata.name!));
  } finally {
    await c.close();
  }
});

test('any object whose owner is gone is collected; one with a remaining owner keeps it', async (t) => {
  const c = await startClusterWithControllers();
  try {
    const a = await c.client.create<KubeObject>(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: NS } });
    const b = await c.client.create<KubeObject>(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', namespace: NS } });
    const ref = (o: KubeObject) => ({ apiVersion: 'v1', kind: 'ConfigMap', name: o.metadata.name!, uid: o.metadata.uid! });
    await c.client.create(R.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'only-a', namespace: NS, ownerReferences: [ref(a)] } });
    await c.client.create(R.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'a-and-b', namespace: NS, ownerReferences: [ref(a), ref(b)] } });
    // A dependent created for an owner that never existed (or is long gone) goes too.
    await c.client.create(R.services, {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'ghost', namespace: NS, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'nope', uid: 'b1a2c3d4-0000-4000-8000-000000000000' }] },
      spec: { ports: [{ port: 80 }] },
    });
    await c.client.delete(R.configmaps, NS, 'a');
    await waitFor('only-a collected', () => !c.client.get(R.secrets, NS, 'only-a'));
    await waitFor('dangling reference dropped', () => {
      const s = c.client.get(R.secrets, NS, 'a-and-b');
      return s && s.metadata.ownerReferences?.length === 1 && s.metadata.ownerReferences[0]!.uid === b.metadata.uid;
    });
    await waitFor('ghost collected', () => !c.client.get(R.services, NS, 'ghost'));
    t.truthy(c.client.get(R.secrets, NS, 'a-and-b'));
  } finally {
    await c.close();
  }
});

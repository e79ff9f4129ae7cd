import test from 'ava';
import { R } from '../../controller/apiserver/client.js';
import type { StatefulSet } from '../../controller/controller-manager/statefulset/statefulset-types.js';
import type { PersistentVolumeClaim } from '../../controller/storage/storage-types.js';
import type { Pod } from '../../protocol/kube/types.js';
import { finishTerminating, markRunningReady, ownedBy, podTemplate, podsOf, startClusterWithControllers, waitFor } from './util.js';

type Cluster = Awaited<ReturnType<typeof startClusterWithControllers>>;
const NS = 'default';

const statefulSet = (name: string, extra: Partial<StatefulSet['spec']> = {}): StatefulSet => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, namespace: NS },
  spec: {
    replicas: 3, serviceName: name, selector: { matchLabels: { app: name } }, template: podTemplate({ app: name }, 'busybox:1.36') as StatefulSet['spec']['template'],
    volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } as PersistentVolumeClaim],
    ...extra,
  },
});

const live = (c: Cluster, set: StatefulSet) => podsOf(c.client, NS, (p) => ownedBy(set)(p) && !p.metadata.deletionTimestamp);
const names = (pods: Pod[]) => pods.map((p) => p.metadata.name).sort();
const getSet = (c: Cluster, name: string) => c.client.get<StatefulSet>(R.statefulsets, NS, name)!;

/** Plays the kubelet for the pods of a set: those whose names pass `ready` become ready. */
function kubelet(c: Cluster, ready: (p: Pod) => boolean = () => true): { stop(): void } {
  let stopped = false;
  void (async () => {
    while (!stopped) {
      for (const p of podsOf(c.client, NS)) {
        if (!p.metadata.deletionTimestamp && p.status?.phase !== 'Running' && ready(p)) await markRunningReady(c.client, p).catch(() => undefined);
      }
      await finishTerminating(c.client, NS);
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return { stop: () => { stopped = true; } };
}

test('OrderedReady creates NAME-0..2 one at a time, each with its claim, hostname and subdomain', async (t) => {
  const c = await startClusterWithControllers();
  try {
    const set = await c.client.create<StatefulSet>(R.statefulsets, statefulSet('web'));
    await waitFor('web-0', () => live(c, set).length === 1);
    await new Promise((r) => setTimeout(r, 200));
    t.deepEqual(names(live(c, set)), ['web-0'], 'web-1 waits for web-0 to be ready');
    const k = kubelet(c);
    await waitFor('3 ready', () => getSet(c, 'web').status?.readyReplicas === 3);
    k.stop();
    const pods = live(c, set);
    t.deepEqual(names(pods), ['web-0', 'web-1', 'web-2']);
    for (const p of pods) {
      t.is(p.spec.hostname, p.metadata.name);
      t.is(p.spec.subdomain, 'web');
      t.deepEqual(p.spec.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim, { claimName: `data-${p.metadata.name}` });
      t.is(p.metadata.labels?.['statefulset.kubernetes.io/pod-name'], p.metadata.name);
    }
    const claims = c.client.list<PersistentVolumeClaim>(R.persistentvolumeclaims, { namespace: NS }).items;
    t.deepEqual(claims.map((x) => x.metadata.name).sort(), ['data-web-0', 'data-web-1', 'data-web-2']);
    t.deepEqual(claims[0]!.metadata.labels, { app: 'web' });
    t.is(claims[0]!.spec.storageClassName, 'local-path');
    const status = getSet(c, 'web').status!;
    t.is(status.currentRevision, status.updateRevision);
    t.is(status.currentReplicas, 3);
  } finally {
    await c.close();
  }
});

test('Parallel creates every pod at once; scale-down removes the highest ordinals and keeps claims', async (t) => {
  const c = await startClusterWithControllers();
  try {
    const set = await c.client.create<StatefulSet>(R.statefulsets, statefulSet('par', { podManagementPolicy: 'Parallel', replicas: 4 }));
    await waitFor('4 pods without any ready', () => live(c, set).length === 4);
    const k = kubelet(c);
    await waitFor('4 ready', () => getSet(c, 'par').status?.readyReplicas === 4);
    await c.client.patch(R.statefulsets, NS, 'par', { spec: { replicas: 1 } });
    await waitFor('1 left', () => live(c, set).length === 1 && podsOf(c.client, NS).length === 1);
    k.stop();
    t.deepEqual(names(live(c, set)), ['par-0']);
    t.is(c.client.list(R.persistentvolumeclaims, { namespace: NS }).items.length, 4);
  } finally {
    await c.close();
  }
});

test('RollingUpdate with a partition replaces only ordinals at or above it, highest first', async (t) => {
  const c = await startClusterWithControllers();
  try {
    const set = await c.client.create<StatefulSet>(R.statefulsets, statefulSet('roll', { volumeClaimTemplates: [] }));
    const k = kubelet(c);
    await waitFor('3 ready', () => getSet(c, 'roll').status?.readyReplicas === 3);
    const first = getSet(c, 'roll').status!.updateRevision!;
    const order: string[] = [];
    const watch = c.client.watch<Pod>(R.pods, { namespace: NS, resourceVersion: String(Number(getSet(c, 'roll').metadata.resourceVersion)) }, (e) => {
      if (e.type === 'ADDED') order.push(e.object.metadata.name!);
    });
    await c.client.patch(R.statefulsets, NS, 'roll', {
      spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } }, template: { spec: { containers: [{ name: 'web', image: 'busybox:1.37' }] } } },
    });
    await waitFor('2 updated', () => {
      const s = getSet(c, 'roll');
      return s.status?.updatedReplicas === 2 && s.status.readyReplicas === 3 && s.status.updateRevision !== first;
    });
    k.stop();
    watch.stop();
    const update = getSet(c, 'roll').status!.updateRevision!;
    const byName = Object.fromEntries(live(c, set).map((p) => [p.metadata.name, p]));
    t.is(byName['roll-0']!.metadata.labels!['controller-revision-hash'], first);
    t.is(byName['roll-0']!.spec.containers[0]!.image, 'busybox:1.36');
    t.is(byName['roll-1']!.metadata.labels!['controller-revision-hash'], update);
    t.is(byName['roll-2']!.spec.containers[0]!.image, 'busybox:1.37');
    t.deepEqual(order, ['roll-2', 'roll-1']);
    t.is(getSet(c, 'roll').status!.currentRevision, first, 'a partitioned rollout is not complete');
    t.is(c.client.list(R.controllerrevisions, { namespace: NS }).items.length, 2);
  } finally {
    await c.close();
  }
});

test('OnDelete keeps old pods until they are deleted; whenScaled Delete removes the claims of removed ordinals', async (t) => {
  const c = await startClusterWithControllers();
  try {
    const set = await c.client.create<StatefulSet>(R.statefulsets, statefulSet('od', {
      updateStrategy: { type: 'OnDelete' }, persistentVolumeClaimRetentionPolicy: { whenScaled: 'Delete', whenDeleted: 'Retain' },
    }));
    const k = kubelet(c);
    await waitFor('3 ready', () => getSet(c, 'od').status?.readyReplicas === 3);
    await c.client.patch(R.statefulsets, NS, 'od', { spec: { template: { spec: { containers: [{ name: 'web', image: 'busybox:1.37' }] } } } });
    await waitFor('new update revision', () => getSet(c, 'od').status?.updateRevision !== getSet(c, 'od').status?.currentRevision);
    await new Promise((r) => setTimeout(r, 300));
    t.true(live(c, set).every((p) => p.spec.containers[0]!.image === 'busybox:1.36'), 'nothing replaced by itself');
    await c.client.delete(R.pods, NS, 'od-1');
    await waitFor('od-1 back on the new template', () => live(c, set).find((p) => p.metadata.name === 'od-1')?.spec.containers[0]?.image === 'busybox:1.37');
    await c.client.patch(R.statefulsets, NS, 'od', { spec: { replicas: 1 } });
    await waitFor('claims of od-1 and od-2 gone', () => {
      const claims = c.client.list<PersistentVolumeClaim>(R.persistentvolumeclaims, { namespace: NS }).items.filter((x) => !x.metadata.deletionTimestamp);
      return claims.length === 1 && claims[0]!.metadata.name === 'data-od-0';
    }, 15_000);
    k.stop();
    t.deepEqual(names(live(c, set)), ['od-0']);
  } finally {
    await c.close();
  }
});

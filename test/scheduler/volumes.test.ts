// Scheduling with claims, against the real store, the real volume controller and the
// scheduler: WaitForFirstConsumer provisioning on the chosen node, static volumes with
// node affinity, and upstream's messages when nothing fits.
import test from 'ava';
import { pino } from 'pino';
import type { Pod } from '../../protocol/kube/types.js';
import { R } from '../../controller/apiserver/client.js';
import { Scheduler } from '../../controller/scheduler/scheduler.js';
import { PersistentVolumeController } from '../../controller/storage/persistent-volume-controller.js';
import { StorageProtectionController } from '../../controller/storage/protection-controller.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../../controller/storage/storage-types.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { addNode, getPod, waitFor } from './objects.js';

async function setup(t: { teardown: (fn: () => Promise<void>) => void }): Promise<TestCluster> {
  const c = await startTestCluster();
  const log = pino({ level: 'silent' });
  const scheduler = new Scheduler({ client: c.client, telemetry: c.telemetry, queue: { initialBackoffMs: 20, maxBackoffMs: 100 } });
  const binder = new PersistentVolumeController({ client: c.client, log });
  const protection = new StorageProtectionController({ client: c.client, log });
  binder.start();
  protection.start();
  scheduler.start();
  t.teardown(async () => { scheduler.stop(); binder.stop(); protection.stop(); await c.stop(); });
  return c;
}

/** A node whose agent reported its storage directory. */
async function storageNode(c: TestCluster, name: string, labels: Record<string, string> = {}): Promise<void> {
  await addNode(c.client, c.telemetry, name, { labels });
  await c.client.patch(R.nodes, undefined, name, { metadata: { annotations: { 'pikube.io/storage-dir': `/var/lib/pikube-agent/storage` } } });
}

const claim = (name: string, spec: Partial<PersistentVolumeClaim['spec']> = {}): PersistentVolumeClaim => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'default' },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec },
});

const podWith = (name: string, claimName: string): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
  spec: { volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }], containers: [{ name: 'c', image: 'busybox' }] },
});

const pinnedVolume = (name: string, node: string, extra: Partial<PersistentVolume['spec']> = {}): PersistentVolume => ({
  apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name },
  spec: {
    capacity: { storage: '2Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'local-disk', local: { path: `/mnt/${name}` },
    nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
    ...extra,
  },
});

const condition = (c: TestCluster, name: string) => getPod(c.client, name)?.status?.conditions?.find((x) => x.type === 'PodScheduled' && x.status === 'False')?.message;
const getClaim = (c: TestCluster, name: string) => c.client.get<PersistentVolumeClaim>(R.persistentvolumeclaims, 'default', name)!;

test('a claim of the default class waits for its pod, then is provisioned on the node the pod goes to', async (t) => {
  const c = await setup(t);
  await storageNode(c, 'pi-01');
  await storageNode(c, 'pi-02', { disk: 'ssd' });
  await c.client.create(R.persistentvolumeclaims, claim('data'));
  await new Promise((r) => setTimeout(r, 100));
  t.is(getClaim(c, 'data').status?.phase, 'Pending');
  t.is(getClaim(c, 'data').spec.storageClassName, 'local-path');
  t.deepEqual(getClaim(c, 'data').metadata.finalizers, ['kubernetes.io/pvc-protection']);
  const pod = podWith('app', 'data');
  pod.spec.nodeSelector = { disk: 'ssd' };
  await c.client.create(R.pods, pod);
  await waitFor('pod bound', () => getPod(c.client, 'app')?.spec.nodeName);
  t.is(getPod(c.client, 'app')!.spec.nodeName, 'pi-02');
  const bound = getClaim(c, 'data');
  t.is(bound.status?.phase, 'Bound', 'the claim is bound before the pod');
  t.is(bound.metadata.annotations?.['volume.kubernetes.io/selected-node'], 'pi-02');
  const pv = c.client.get<PersistentVolume>(R.persistentvolumes, undefined, bound.spec.volumeName!)!;
  t.is(pv.metadata.name, `pvc-${bound.metadata.uid}`);
  t.is(pv.spec.hostPath?.path, `/var/lib/pikube-agent/storage/${pv.metadata.name}_default_data`);
  t.deepEqual(pv.spec.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.[0]?.values, ['pi-02']);
  t.is(pv.spec.persistentVolumeReclaimPolicy, 'Delete');
  t.deepEqual(pv.metadata.finalizers, ['kubernetes.io/pv-protection']);
  await waitFor('volume Bound', () => c.client.get<PersistentVolume>(R.persistentvolumes, undefined, pv.metadata.name!)?.status?.phase === 'Bound');

  // The next pod with the same claim follows the volume to its node.
  await c.client.create(R.pods, podWith('app-2', 'data'));
  await waitFor('second pod bound', () => getPod(c.client, 'app-2')?.spec.nodeName);
  t.is(getPod(c.client, 'app-2')!.spec.nodeName, 'pi-02');
});

test('a static volume with node affinity takes its pod to its node; if the node is gone the pod stays Pending', async (t) => {
  const c = await setup(t);
  await storageNode(c, 'pi-01');
  await storageNode(c, 'pi-02');
  await c.client.create(R.storageclasses, { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'local-disk' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' } as never);
  await c.client.create(R.persistentvolumes, pinnedVolume('disk-a', 'pi-02'));
  await c.client.create(R.persistentvolumeclaims, claim('db', { storageClassName: 'local-disk' }));
  await c.client.create(R.pods, podWith('db', 'db'));
  await waitFor('pod bound', () => getPod(c.client, 'db')?.spec.nodeName);
  t.is(getPod(c.client, 'db')!.spec.nodeName, 'pi-02');
  t.is(getClaim(c, 'db').spec.volumeName, 'disk-a');

  // A second claim of the class: no volume left anywhere.
  await c.client.create(R.persistentvolumeclaims, claim('db2', { storageClassName: 'local-disk' }));
  await c.client.create(R.pods, podWith('db2', 'db2'));
  t.is(await waitFor('unschedulable', () => condition(c, 'db2')),
    "0/2 nodes are available: 2 node(s) didn't find available persistent volumes to bind. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.");

  // pi-02 leaves the cluster; the pod of the bound claim can go nowhere.
  await c.client.delete(R.pods, 'default', 'db', { gracePeriodSeconds: 0 });
  await c.client.delete(R.nodes, undefined, 'pi-02');
  await c.client.create(R.pods, podWith('db-again', 'db'));
  t.is(await waitFor('unschedulable', () => condition(c, 'db-again')),
    '0/1 nodes are available: 1 node(s) had volume node affinity conflict. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.');
});

test('static volumes bind by class, access modes and the smallest size that fits; Retain keeps a released volume', async (t) => {
  const c = await setup(t);
  const volume = (name: string, storage: string, modes: string[], cls = 'manual'): PersistentVolume => ({
    apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name },
    spec: { capacity: { storage }, accessModes: modes, storageClassName: cls, nfs: { server: '192.168.1.5', path: `/export/${name}` } },
  });
  await c.client.create(R.persistentvolumes, volume('big', '10Gi', ['ReadWriteMany']));
  await c.client.create(R.persistentvolumes, volume('small', '2Gi', ['ReadWriteMany']));
  await c.client.create(R.persistentvolumes, volume('tiny', '500Mi', ['ReadWriteMany']));
  await c.client.create(R.persistentvolumes, volume('rwo', '2Gi', ['ReadWriteOnce']));
  await c.client.create(R.persistentvolumes, volume('other-class', '2Gi', ['ReadWriteMany'], 'fast'));
  await c.client.create(R.persistentvolumeclaims, claim('share', { storageClassName: 'manual', accessModes: ['ReadWriteMany'] }));
  await waitFor('bound', () => getClaim(c, 'share').status?.phase === 'Bound');
  t.is(getClaim(c, 'share').spec.volumeName, 'small');
  t.deepEqual(getClaim(c, 'share').status?.capacity, { storage: '2Gi' });
  await waitFor('others Available', () => ['big', 'tiny', 'rwo'].every((n) => c.client.get<PersistentVolume>(R.persistentvolumes, undefined, n)?.status?.phase === 'Available'));

  // In use: the claim waits for its pod.
  await c.client.create(R.pods, { ...podWith('user', 'share'), spec: { ...podWith('user', 'share').spec, nodeName: 'pi-01' } });
  await c.client.delete(R.persistentvolumeclaims, 'default', 'share');
  await new Promise((r) => setTimeout(r, 200));
  t.truthy(getClaim(c, 'share')?.metadata.deletionTimestamp);
  await c.client.delete(R.pods, 'default', 'user', { gracePeriodSeconds: 0 });
  await waitFor('claim gone', () => !c.client.get(R.persistentvolumeclaims, 'default', 'share'));
  await waitFor('volume Released', () => c.client.get<PersistentVolume>(R.persistentvolumes, undefined, 'small')?.status?.phase === 'Released');
  t.is(c.client.get<PersistentVolume>(R.persistentvolumes, undefined, 'small')!.spec.claimRef?.name, 'share');
  // A released volume is not offered to the next claim.
  await c.client.create(R.persistentvolumeclaims, claim('share2', { storageClassName: 'manual', accessModes: ['ReadWriteMany'] }));
  await waitFor('bound', () => getClaim(c, 'share2').status?.phase === 'Bound');
  t.is(getClaim(c, 'share2').spec.volumeName, 'big');
});

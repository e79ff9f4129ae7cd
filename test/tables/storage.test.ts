import test from 'ava';
import { toTable } from '../../controller/apiserver/tables/index.js';
import type { KubeObject, PersistentVolumeClaim } from '../../protocol/kube/types.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

const NOW = new Date('2025-06-01T12:00:00Z');
const ago = (seconds: number) => rfc3339Seconds(NOW.getTime() - seconds * 1000);

interface Table { columnDefinitions: { name: string; priority: number }[]; rows: { cells: unknown[] }[] }
const table = (group: string, resource: string, objects: KubeObject[]) => toTable(group, resource, objects, { resourceVersion: '1', includeObject: 'None', now: NOW }) as Table;
const columns = (t: Table) => t.columnDefinitions.map((c) => (c.priority > 0 ? `${c.name}*` : c.name));

test('persistent volumes: capacity, short access modes, claim, class', (t) => {
  const pv: KubeObject = {
    apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pvc-1', creationTimestamp: ago(90) },
    spec: { capacity: { storage: '10Mi' }, accessModes: ['ReadWriteMany', 'ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Delete', storageClassName: 'local-path', claimRef: { namespace: 'default', name: 'data-db-0' }, volumeMode: 'Filesystem' },
    status: { phase: 'Bound' },
  };
  const out = table('', 'persistentvolumes', [pv]);
  t.deepEqual(columns(out), ['Name', 'Capacity', 'Access Modes', 'Reclaim Policy', 'Status', 'Claim', 'StorageClass', 'VolumeAttributesClass', 'Reason', 'Age', 'VolumeMode*']);
  t.deepEqual(out.rows[0]!.cells, ['pvc-1', '10Mi', 'RWO,RWX', 'Delete', 'Bound', 'default/data-db-0', 'local-path', '<unset>', '', '90s', 'Filesystem']);
});

test('claims: capacity and modes only once bound', (t) => {
  const pending: PersistentVolumeClaim = {
    apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'default', creationTimestamp: ago(5) },
    spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'local-path', volumeMode: 'Filesystem' }, status: { phase: 'Pending' },
  };
  const bound: KubeObject = {
    ...pending, metadata: { ...pending.metadata, name: 'bound' }, spec: { ...pending.spec, volumeName: 'pvc-2' },
    status: { phase: 'Bound', capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] },
  };
  const out = table('', 'persistentvolumeclaims', [pending, bound]);
  t.deepEqual(columns(out), ['Name', 'Status', 'Volume', 'Capacity', 'Access Modes', 'StorageClass', 'VolumeAttributesClass', 'Age', 'VolumeMode*']);
  t.deepEqual(out.rows[0]!.cells, ['data', 'Pending', '', '', '', 'local-path', '<unset>', '5s', 'Filesystem']);
  t.deepEqual(out.rows[1]!.cells, ['bound', 'Bound', 'pvc-2', '1Gi', 'RWO', 'local-path', '<unset>', '5s', 'Filesystem']);
});

test('storage classes mark the default one; stateful sets show ready of desired', (t) => {
  const sc: KubeObject = {
    apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'local-path', creationTimestamp: ago(3600), annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: 'pikube.io/local-path', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer',
  };
  t.deepEqual(table('storage.k8s.io', 'storageclasses', [sc]).rows[0]!.cells, ['local-path (default)', 'pikube.io/local-path', 'Delete', 'WaitForFirstConsumer', 'false', '60m']);
  const sts: KubeObject = {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'default', creationTimestamp: ago(120) },
    spec: { replicas: 3, template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } }, status: { readyReplicas: 2 },
  };
  const out = table('apps', 'statefulsets', [sts]);
  t.deepEqual(columns(out), ['Name', 'Ready', 'Age', 'Containers*', 'Images*']);
  t.deepEqual(out.rows[0]!.cells, ['db', '2/3', '2m', 'c', 'busybox']);
});

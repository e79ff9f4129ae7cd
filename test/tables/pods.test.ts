import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { parse } from 'yaml';
import { toTable } from '../../controller/apiserver/tables/index.js';
import type { KubeObject, Pod } from '../../protocol/kube/types.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

const NOW = new Date('2025-06-01T12:00:00Z');
const ago = (seconds: number) => rfc3339Seconds(NOW.getTime() - seconds * 1000);

// Source path of the fixture: dist/test/tables → test/fixtures.
const seedPath = fileURLToPath(new URL('../../../test/fixtures/pod-definition.yaml', import.meta.url));

interface Table { metadata: Record<string, unknown>; columnDefinitions: { name: string; priority: number; type: string }[]; rows: { cells: unknown[]; object?: any; conditions?: any[] }[] }

function podRow(pod: KubeObject): unknown[] {
  const table = toTable('', 'pods', [pod], { resourceVersion: '7', includeObject: 'Metadata', now: NOW }) as Table;
  return table.rows[0]!.cells;
}

function seedPod(): Pod {
  const pod = parse(readFileSync(seedPath, 'utf8')) as Pod;
  pod.metadata = { ...pod.metadata, namespace: 'default', uid: 'u1', resourceVersion: '5', creationTimestamp: ago(42) };
  pod.status = { phase: 'Pending', qosClass: 'Burstable' };
  return pod;
}

test('pod columns are upstream names with wide ones at priority 1', (t) => {
  const table = toTable('', 'pods', [], { resourceVersion: '1', includeObject: 'Metadata' }) as Table;
  t.deepEqual(table.columnDefinitions.map((c) => [c.name, c.priority]), [
    ['Name', 0], ['Ready', 0], ['Status', 0], ['Restarts', 0], ['Age', 0],
    ['IP', 1], ['Node', 1], ['Nominated Node', 1], ['Readiness Gates', 1],
  ]);
  t.deepEqual(table.rows, []);
});

test('the seed pod, just created, reads 0/1 Pending 0', (t) => {
  t.deepEqual(podRow(seedPod()), ['web', '0/1', 'Pending', '0', '42s', '<none>', '<none>', '<none>', '<none>']);
});

test('a scheduled pod whose image is being prepared shows the waiting reason', (t) => {
  const pod = seedPod();
  pod.spec.nodeName = 'pi-1';
  pod.status = {
    phase: 'Pending',
    containerStatuses: [{ name: 'httpd', ready: false, restartCount: 0, image: 'localhost/busybox:latest', imageID: '', state: { waiting: { reason: 'ContainerCreating' } }, lastState: {} }],
  };
  t.deepEqual(podRow(pod).slice(0, 4), ['web', '0/1', 'ContainerCreating', '0']);
  t.is(podRow(pod)[6], 'pi-1');
});

test('a running ready pod shows Running with IP and node', (t) => {
  const pod = seedPod();
  pod.spec.nodeName = 'pi-1';
  pod.status = {
    phase: 'Running',
    podIP: '10.42.0.7',
    podIPs: [{ ip: '10.42.0.7' }],
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [{ name: 'httpd', ready: true, restartCount: 0, image: 'x', imageID: '', state: { running: { startedAt: ago(30) } }, lastState: {} }],
  };
  t.deepEqual(podRow(pod), ['web', '1/1', 'Running', '0', '42s', '10.42.0.7', 'pi-1', '<none>', '<none>']);
});

test('a crash-looping pod shows CrashLoopBackOff and restarts with the last one\'s age', (t) => {
  const pod = seedPod();
  pod.status = {
    phase: 'Running',
    containerStatuses: [{
      name: 'httpd', ready: false, restartCount: 3, image: 'x', imageID: '',
      state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } },
      lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(25) } },
    }],
  };
  t.deepEqual(podRow(pod).slice(0, 4), ['web', '0/1', 'CrashLoopBackOff', '3 (25s ago)']);
});

test('a terminating pod shows Terminating, unless it was lost with its node', (t) => {
  const pod = seedPod();
  pod.metadata.deletionTimestamp = ago(1);
  pod.status = { phase: 'Running', containerStatuses: [{ name: 'httpd', ready: true, restartCount: 0, image: 'x', imageID: '', state: { running: {} }, lastState: {} }] };
  t.is(podRow(pod)[2], 'Terminating');
  pod.status.reason = 'NodeLost';
  t.is(podRow(pod)[2], 'Unknown');
  delete pod.metadata.deletionTimestamp;
  t.is(podRow(pod)[2], 'NodeLost');
});

test('a finished pod is Completed and not Terminating while deleted', (t) => {
  const pod = seedPod();
  pod.metadata.deletionTimestamp = ago(1);
  pod.status = { phase: 'Succeeded', containerStatuses: [{ name: 'httpd', ready: false, restartCount: 0, image: 'x', imageID: '', state: { terminated: { exitCode: 0, reason: 'Completed' } }, lastState: {} }] };
  const table = toTable('', 'pods', [pod], { resourceVersion: '9', includeObject: 'Metadata', now: NOW }) as Table;
  t.is(table.rows[0]!.cells[2], 'Completed');
  t.is(table.rows[0]!.conditions![0].reason, 'Succeeded');
});

test('a failed container without a reason shows its exit code or signal', (t) => {
  const pod = seedPod();
  pod.status = { phase: 'Failed', containerStatuses: [{ name: 'httpd', ready: false, restartCount: 0, image: 'x', imageID: '', state: { terminated: { exitCode: 2 } }, lastState: {} }] };
  t.is(podRow(pod)[2], 'ExitCode:2');
  pod.status.containerStatuses![0]!.state.terminated = { exitCode: 137, signal: 9 };
  t.is(podRow(pod)[2], 'Signal:9');
  pod.status.containerStatuses![0]!.state.terminated = { exitCode: 1, reason: 'Error' };
  t.is(podRow(pod)[2], 'Error');
});

test('init containers: Init:0/1 while running, Init:Error when failed, ErrImageNeverPull when waiting', (t) => {
  const pod = seedPod();
  pod.spec.initContainers = [{ name: 'setup', image: 'localhost/busybox:latest' }];
  const init = (state: object) => ({ name: 'setup', ready: false, restartCount: 0, image: 'x', imageID: '', state, lastState: {} });
  pod.status = { phase: 'Pending', initContainerStatuses: [init({ running: {} })], containerStatuses: [{ name: 'httpd', ready: false, restartCount: 0, image: 'x', imageID: '', state: { waiting: { reason: 'PodInitializing' } }, lastState: {} }] };
  t.is(podRow(pod)[2], 'Init:0/1');
  pod.status.initContainerStatuses = [init({ terminated: { exitCode: 1, reason: 'Error' } })];
  t.is(podRow(pod)[2], 'Init:Error');
  pod.status.initContainerStatuses = [init({ waiting: { reason: 'ErrImageNeverPull' } })];
  t.is(podRow(pod)[2], 'Init:ErrImageNeverPull');
  pod.status.initContainerStatuses = [init({ terminated: { exitCode: 0, reason: 'Completed' } })];
  t.is(podRow(pod)[2], 'PodInitializing');
});

test('a main container that cannot get its image shows ErrImageNeverPull', (t) => {
  const pod = seedPod();
  pod.status = { phase: 'Pending', containerStatuses: [{ name: 'httpd', ready: false, restartCount: 0, image: 'x', imageID: '', state: { waiting: { reason: 'ErrImageNeverPull' } }, lastState: {} }] };
  t.is(podRow(pod)[2], 'ErrImageNeverPull');
});

test('a sidecar (restartable init container) counts toward readiness', (t) => {
  const pod = seedPod();
  pod.spec.initContainers = [{ name: 'proxy', image: 'x', restartPolicy: 'Always' }];
  pod.status = {
    phase: 'Running',
    conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }],
    initContainerStatuses: [{ name: 'proxy', ready: true, started: true, restartCount: 1, image: 'x', imageID: '', state: { running: {} }, lastState: { terminated: { exitCode: 1, finishedAt: ago(200) } } }],
    containerStatuses: [{ name: 'httpd', ready: true, restartCount: 0, image: 'x', imageID: '', state: { running: {} }, lastState: {} }],
  };
  t.deepEqual(podRow(pod).slice(0, 4), ['web', '2/2', 'Running', '1 (3m20s ago)']);
});

test('readiness gates count the true ones', (t) => {
  const pod = seedPod();
  pod.spec.readinessGates = [{ conditionType: 'example.com/a' }, { conditionType: 'example.com/b' }];
  pod.status = { phase: 'Pending', conditions: [{ type: 'example.com/a', status: 'True' }] };
  t.is(podRow(pod)[8], '1/2');
});

test('row objects follow includeObject', (t) => {
  const pod = seedPod();
  const meta = toTable('', 'pods', [pod], { resourceVersion: '11', includeObject: 'Metadata', now: NOW }) as Table;
  t.deepEqual(meta.rows[0]!.object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: pod.metadata });
  const full = toTable('', 'pods', [pod], { resourceVersion: '11', includeObject: 'Object', now: NOW }) as Table;
  t.is(full.rows[0]!.object.spec.containers[0].name, 'httpd');
  const none = toTable('', 'pods', [pod], { resourceVersion: '11', includeObject: 'None', now: NOW }) as Table;
  t.false('object' in none.rows[0]!);
});

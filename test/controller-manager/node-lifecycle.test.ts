import test from 'ava';
import type { Node, Taint } from '../../protocol/kube/types.js';
import { R } from '../../controller/apiserver/client.js';
import { NodeLifecycleController } from '../../controller/controller-manager/node-lifecycle.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { addNode, addPod, getNode, getPod, podObject, waitFor } from '../scheduler/objects.js';

const GRACE_MS = 400;

async function setup(t: { teardown: (fn: () => Promise<void>) => void }, opts: { defaultTolerationSeconds?: number; podEvictionTimeoutMs?: number } = {}): Promise<{ c: TestCluster; nlc: NodeLifecycleController }> {
  const c = await startTestCluster({ defaultTolerationSeconds: opts.defaultTolerationSeconds ?? 300 });
  const nlc = new NodeLifecycleController({
    client: c.client, telemetry: c.telemetry,
    nodeMonitorGracePeriodMs: GRACE_MS, defaultTolerationSeconds: opts.defaultTolerationSeconds ?? 300, podEvictionTimeoutMs: opts.podEvictionTimeoutMs,
  });
  t.teardown(async () => { nlc.stop(); await c.stop(); });
  return { c, nlc };
}

function ready(node: Node | undefined) {
  return node?.status?.conditions?.find((x) => x.type === 'Ready');
}

function taintsOf(node: Node | undefined): Taint[] {
  return node?.spec?.taints ?? [];
}

function hasTaint(node: Node | undefined, key: string, effect: string): boolean {
  return taintsOf(node).some((x) => x.key === key && x.effect === effect);
}

function podReady(c: TestCluster, name: string) {
  return getPod(c.client, name)?.status?.conditions?.find((x) => x.type === 'Ready');
}

/** Keeps a node's heartbeat fresh, like an agent posting status. */
function heartbeat(c: TestCluster, name: string, everyMs = 100): () => void {
  const timer = setInterval(() => c.telemetry.update(name, { online: true, lastSeen: Date.now() }), everyMs);
  return () => clearInterval(timer);
}

test('a node whose agent goes offline is NotReady at once, tainted unreachable, its pods not ready', async (t) => {
  const { c, nlc } = await setup(t);
  await addNode(c.client, c.telemetry, 'pi-01');
  await addPod(c.client, 'web', { nodeName: 'pi-01' });
  const stopBeat = heartbeat(c, 'pi-01');
  t.teardown(stopBeat);
  nlc.start();
  await new Promise((r) => setTimeout(r, GRACE_MS * 1.5));
  t.is(ready(getNode(c.client, 'pi-01'))?.status, 'True', 'a node with a fresh heartbeat stays Ready');
  t.deepEqual(taintsOf(getNode(c.client, 'pi-01')), []);

  stopBeat();
  const before = Date.now();
  c.telemetry.update('pi-01', { online: false });
  const cond = await waitFor('Ready=Unknown', () => ready(getNode(c.client, 'pi-01'))?.status === 'Unknown' && ready(getNode(c.client, 'pi-01')), 2000);
  t.true(Date.now() - before < GRACE_MS, 'offline is acted on without waiting for the grace period');
  t.is(cond.reason, 'NodeStatusUnknown');
  t.is(cond.message, 'Kubelet stopped posting node status.');
  const node = await waitFor('taints', () => {
    const n = getNode(c.client, 'pi-01');
    return hasTaint(n, 'node.kubernetes.io/unreachable', 'NoExecute') && hasTaint(n, 'node.kubernetes.io/unreachable', 'NoSchedule') && n;
  });
  for (const taint of taintsOf(node)) t.truthy(taint.timeAdded && !Number.isNaN(Date.parse(taint.timeAdded)));
  await waitFor('pod Ready=False', () => podReady(c, 'web')?.status === 'False');
  t.truthy(getPod(c.client, 'web'), 'the pod stays while its toleration (300 s) runs');
});

test('a node that stops posting status is NotReady once the grace period passes', async (t) => {
  const { c, nlc } = await setup(t);
  await addNode(c.client, c.telemetry, 'pi-02');
  const stopBeat = heartbeat(c, 'pi-02');
  t.teardown(stopBeat);
  nlc.start();
  await new Promise((r) => setTimeout(r, GRACE_MS));
  stopBeat();
  const lastBeat = c.telemetry.get('pi-02')!.lastSeen;
  await waitFor('Ready=Unknown', () => ready(getNode(c.client, 'pi-02'))?.status === 'Unknown', GRACE_MS * 5);
  const took = Date.now() - lastBeat;
  t.true(took >= GRACE_MS - 5, `not before the grace period (${took} ms)`);
  t.true(took < GRACE_MS + 500, `soon after the grace period (${took} ms)`);
  t.true(c.telemetry.get('pi-02')!.online, 'the availability topic still said online');
});

test('pods are evicted when their toleration runs out; DaemonSet pods stay; evicted pods are gone, not stuck Terminating', async (t) => {
  const { c, nlc } = await setup(t, { defaultTolerationSeconds: 2 });
  await addNode(c.client, c.telemetry, 'pi-03');
  // Admission gives this one the default toleration (2 s here; timeAdded has whole seconds).
  await addPod(c.client, 'defaulted', { nodeName: 'pi-03' });
  await addPod(c.client, 'patient', { nodeName: 'pi-03', tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 600 }] });
  await addPod(c.client, 'daemon', { nodeName: 'pi-03', owner: { uid: 'ds-1', kind: 'DaemonSet', name: 'agent' } });
  nlc.start();
  const offlineAt = Date.now();
  c.telemetry.update('pi-03', { online: false });
  await waitFor('defaulted pod deleted', () => !getPod(c.client, 'defaulted'), 5000);
  const took = Date.now() - offlineAt;
  t.true(took >= 1000 && took < 4000, `evicted after the toleration ran out (${took} ms)`);
  await new Promise((r) => setTimeout(r, 500));
  t.truthy(getPod(c.client, 'patient'), 'a longer toleration keeps the pod');
  t.falsy(getPod(c.client, 'patient')?.metadata.deletionTimestamp);
  t.truthy(getPod(c.client, 'daemon'), 'DaemonSet pods tolerate unreachable nodes forever');
  t.falsy(getPod(c.client, 'daemon')?.metadata.deletionTimestamp);
});

test('pods without any toleration get defaultTolerationSeconds from the controller', async (t) => {
  const { c, nlc } = await setup(t, { defaultTolerationSeconds: 300 });
  const controller = new NodeLifecycleController({ client: c.client, telemetry: c.telemetry, nodeMonitorGracePeriodMs: GRACE_MS, defaultTolerationSeconds: 7 });
  const node = await addNode(c.client, c.telemetry, 'pi-04', { online: false, taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2030-01-01T00:00:00Z' }] });
  const pod = podObject('bare', { nodeName: 'pi-04' });
  t.is(controller.evictionDeadline({ ...pod, spec: { ...pod.spec, tolerations: [] } }, node, Date.parse('2030-01-01T00:00:00Z')), Date.parse('2030-01-01T00:00:07Z'));
  t.is(nlc.name, 'node-lifecycle');
});

test('podEvictionTimeoutMs: an evicted pod on an unreachable node stays Terminating that long, then is force-deleted', async (t) => {
  const { c, nlc } = await setup(t, { podEvictionTimeoutMs: 700 });
  await addNode(c.client, c.telemetry, 'pi-08');
  await addPod(c.client, 'impatient', { nodeName: 'pi-08', tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 }] });
  nlc.start();
  c.telemetry.update('pi-08', { online: false });
  await waitFor('terminating', () => getPod(c.client, 'impatient')?.metadata.deletionTimestamp);
  const terminatingAt = Date.now();
  await waitFor('force-deleted', () => !getPod(c.client, 'impatient'), 5000);
  const took = Date.now() - terminatingAt;
  t.true(took >= 500 && took < 2500, `forced after the timeout (${took} ms)`);
});

test('a node that returns before eviction keeps its pods untouched and loses the taints', async (t) => {
  const { c, nlc } = await setup(t, { defaultTolerationSeconds: 3 });
  await addNode(c.client, c.telemetry, 'pi-05');
  await addPod(c.client, 'survivor', { nodeName: 'pi-05' });
  const uid = getPod(c.client, 'survivor')!.metadata.uid;
  nlc.start();
  c.telemetry.update('pi-05', { online: false });
  await waitFor('tainted', () => hasTaint(getNode(c.client, 'pi-05'), 'node.kubernetes.io/unreachable', 'NoExecute'));
  await new Promise((r) => setTimeout(r, 500));
  // The agent comes back; the bridge writes Ready=True itself.
  c.telemetry.update('pi-05', { online: true, lastSeen: Date.now() });
  const stopBeat = heartbeat(c, 'pi-05');
  t.teardown(stopBeat);
  await waitFor('taints removed', () => taintsOf(getNode(c.client, 'pi-05')).length === 0);
  t.is(ready(getNode(c.client, 'pi-05'))?.status, 'Unknown', 'Ready=True is the bridge\'s to write');
  await new Promise((r) => setTimeout(r, 3500));
  const pod = getPod(c.client, 'survivor');
  t.is(pod?.metadata.uid, uid);
  t.falsy(pod?.metadata.deletionTimestamp);
});

test('a NoExecute taint the pod does not tolerate evicts it at once', async (t) => {
  const { c, nlc } = await setup(t);
  await addNode(c.client, c.telemetry, 'pi-06');
  const stopBeat = heartbeat(c, 'pi-06');
  t.teardown(stopBeat);
  await addPod(c.client, 'evictee', { nodeName: 'pi-06' });
  await addPod(c.client, 'stayer', { nodeName: 'pi-06', tolerations: [{ key: 'maintenance', operator: 'Exists', effect: 'NoExecute' }] });
  nlc.start();
  await c.client.patch(R.nodes, undefined, 'pi-06', { spec: { taints: [{ key: 'maintenance', value: 'now', effect: 'NoExecute' }] } });
  await waitFor('evicted (graceful: node is healthy)', () => getPod(c.client, 'evictee')?.metadata.deletionTimestamp);
  t.falsy(getPod(c.client, 'stayer')?.metadata.deletionTimestamp);
});

test('cordon adds the unschedulable taint and uncordon removes it', async (t) => {
  const { c, nlc } = await setup(t);
  await addNode(c.client, c.telemetry, 'pi-07', { taints: [{ key: 'keep', value: 'me', effect: 'PreferNoSchedule' }] });
  const stopBeat = heartbeat(c, 'pi-07');
  t.teardown(stopBeat);
  nlc.start();
  await c.client.patch(R.nodes, undefined, 'pi-07', { spec: { unschedulable: true } });
  await waitFor('unschedulable taint', () => hasTaint(getNode(c.client, 'pi-07'), 'node.kubernetes.io/unschedulable', 'NoSchedule'));
  t.true(hasTaint(getNode(c.client, 'pi-07'), 'keep', 'PreferNoSchedule'));
  await c.client.patch(R.nodes, undefined, 'pi-07', { spec: { unschedulable: false } });
  await waitFor('taint removed', () => !hasTaint(getNode(c.client, 'pi-07'), 'node.kubernetes.io/unschedulable', 'NoSchedule'));
  t.deepEqual(taintsOf(getNode(c.client, 'pi-07')).map((x) => x.key), ['keep']);
});

test('bad options are refused', (t) => {
  const base = { client: {} as never, telemetry: {} as never, defaultTolerationSeconds: 300 };
  t.throws(() => new NodeLifecycleController({ ...base, nodeMonitorGracePeriodMs: 0 }), { message: /nodeMonitorGracePeriodMs/ });
  t.throws(() => new NodeLifecycleController({ ...base, nodeMonitorGracePeriodMs: 1000, defaultTolerationSeconds: -1 }), { message: /defaultTolerationSeconds/ });
});

import test from 'ava';
import type { Pod } from '../../protocol/kube/types.js';
import { R } from '../../controller/apiserver/client.js';
import { Scheduler, type SchedulerOptions } from '../../controller/scheduler/scheduler.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { addNode, addPod, eventsFor, getPod, podObject, waitFor } from './objects.js';

async function setup(t: { teardown: (fn: () => Promise<void>) => void }, opts: Partial<SchedulerOptions> = {}): Promise<{ c: TestCluster; scheduler: Scheduler }> {
  const c = await startTestCluster();
  const scheduler = new Scheduler({ client: c.client, telemetry: c.telemetry, queue: { initialBackoffMs: 20, maxBackoffMs: 100 }, ...opts });
  t.teardown(async () => { scheduler.stop(); await c.stop(); });
  return { c, scheduler };
}

function nodeOf(c: TestCluster, name: string): string | undefined {
  return getPod(c.client, name)?.spec.nodeName;
}

function countByNode(c: TestCluster, names: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of names) {
    const node = nodeOf(c, n);
    if (node) counts[node] = (counts[node] ?? 0) + 1;
  }
  return counts;
}

function scheduledCondition(c: TestCluster, name: string) {
  return getPod(c.client, name)?.status?.conditions?.find((x) => x.type === 'PodScheduled');
}

test('six replicas of one owner spread 2/2/2 over three equal nodes', async (t) => {
  const { c, scheduler } = await setup(t);
  for (const n of ['pi-01', 'pi-02', 'pi-03']) await addNode(c.client, c.telemetry, n);
  scheduler.start();
  const names = Array.from({ length: 6 }, (_, i) => `web-${i}`);
  await Promise.all(names.map((n) => addPod(c.client, n, { owner: { uid: 'rs-web' }, cpu: '100m', memory: '64Mi' })));
  await waitFor('all bound', () => names.every((n) => nodeOf(c, n)));
  t.deepEqual(countByNode(c, names), { 'pi-01': 2, 'pi-02': 2, 'pi-03': 2 });
});

test('a node whose agent reports high real usage gets fewer pods', async (t) => {
  const { c, scheduler } = await setup(t);
  await addNode(c.client, c.telemetry, 'pi-busy', { usage: { cpuCores: 3.6, memoryBytes: 7.2 * 1024 ** 3 } });
  await addNode(c.client, c.telemetry, 'pi-02', { usage: { cpuCores: 0.2, memoryBytes: 0.5 * 1024 ** 3 } });
  await addNode(c.client, c.telemetry, 'pi-03', { usage: { cpuCores: 0.2, memoryBytes: 0.5 * 1024 ** 3 } });
  scheduler.start();
  const names = Array.from({ length: 6 }, (_, i) => `api-${i}`);
  // Same requests everywhere: only the measured usage tells the nodes apart.
  for (const n of names) await addPod(c.client, n, { owner: { uid: 'rs-api' }, cpu: '100m', memory: '64Mi' });
  await waitFor('all bound', () => names.every((n) => nodeOf(c, n)));
  const counts = countByNode(c, names);
  const busy = counts['pi-busy'] ?? 0;
  t.true(busy < (counts['pi-02'] ?? 0) && busy < (counts['pi-03'] ?? 0), JSON.stringify(counts));
});

test('nodeSelector picks the labelled node; architecture works through labels', async (t) => {
  const { c, scheduler } = await setup(t);
  await addNode(c.client, c.telemetry, 'pi-01');
  await addNode(c.client, c.telemetry, 'pi-02', { labels: { disk: 'ssd' } });
  await addNode(c.client, c.telemetry, 'pi-03', { labels: { 'kubernetes.io/arch': 'arm' } });
  scheduler.start();
  await addPod(c.client, 'db', { nodeSelector: { disk: 'ssd' } });
  await addPod(c.client, 'legacy', { nodeSelector: { 'kubernetes.io/arch': 'arm' } });
  await waitFor('bound', () => nodeOf(c, 'db') && nodeOf(c, 'legacy'));
  t.is(nodeOf(c, 'db'), 'pi-02');
  t.is(nodeOf(c, 'legacy'), 'pi-03');
});

test('required node affinity In and NotIn, preferred affinity breaks the tie', async (t) => {
  const { c, scheduler } = await setup(t);
  await addNode(c.client, c.telemetry, 'pi-01', { labels: { zone: 'attic' } });
  await addNode(c.client, c.telemetry, 'pi-02', { labels: { zone: 'cellar' } });
  await addNode(c.client, c.telemetry, 'pi-03', { labels: { zone: 'garage' } });
  scheduler.start();
  const required = (operator: string, values: string[]) => ({
    nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator, values }] }] } },
  });
  const inNames = ['in-0', 'in-1', 'in-2', 'in-3'];
  for (const n of inNames) await addPod(c.client, n, { affinity: required('In', ['cellar']) });
  const notInNames = ['notin-0', 'notin-1', 'notin-2', 'notin-3'];
  for (const n of notInNames) await addPod(c.client, n, { affinity: required('NotIn', ['attic', 'cellar']) });
  await addPod(c.client, 'prefers-attic', {
    affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['attic'] }] } }] } },
  });
  await waitFor('bound', () => [...inNames, ...notInNames, 'prefers-attic'].every((n) => nodeOf(c, n)));
  for (const n of inNames) t.is(nodeOf(c, n), 'pi-02');
  for (const n of notInNames) t.is(nodeOf(c, n), 'pi-03');
  t.is(nodeOf(c, 'prefers-attic'), 'pi-01');
});

test('a NoSchedule taint keeps pods away unless they tolerate it', async (t) => {
  const { c, scheduler } = await setup(t);
  await addNode(c.client, c.telemetry, 'pi-gpu', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
  scheduler.start();
  await addPod(c.client, 'plain');
  await addPod(c.client, 'tolerant', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] });
  await addPod(c.client, 'tolerates-all', { tolerations: [{ operator: 'Exists' }] });
  await waitFor('tolerant pods bound', () => nodeOf(c, 'tolerant') && nodeOf(c, 'tolerates-all'));
  const cond = await waitFor('PodScheduled=False', () => scheduledCondition(c, 'plain')?.status === 'False' && scheduledCondition(c, 'plain'));
  t.is(nodeOf(c, 'plain'), undefined);
  t.is(cond.message, '0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.');
});

test('an impossible memory request fails with the upstream message, on the event and the condition', async (t) => {
  const { c, scheduler } = await setup(t);
  await addNode(c.client, c.telemetry, 'pi-01', { memory: '1Gi', labels: { role: 'db' } });
  await addNode(c.client, c.telemetry, 'pi-02');
  await addNode(c.client, c.telemetry, 'pi-03');
  scheduler.start();
  await addPod(c.client, 'huge', { memory: '64Gi', nodeSelector: { role: 'db' } });
  const expected = "0/3 nodes are available: 1 Insufficient memory, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.";
  const cond = await waitFor('condition', () => scheduledCondition(c, 'huge')?.status === 'False' && scheduledCondition(c, 'huge'));
  t.is(cond.reason, 'Unschedulable');
  t.is(cond.message, expected);
  const events = await waitFor('event', () => { const e = eventsFor(c.client, 'huge', 'FailedScheduling'); return e.length ? e : undefined; });
  t.is(events[0]!.type, 'Warning');
  t.is(events[0]!.message, expected);
});

test('a host port held by one pod keeps the next off that node until it is freed', async (t) => {
  const { c, scheduler } = await setup(t);
  await addNode(c.client, c.telemetry, 'pi-01');
  scheduler.start();
  await addPod(c.client, 'first', { hostPort: 8080 });
  await waitFor('first bound', () => nodeOf(c, 'first'));
  await addPod(c.client, 'second', { hostPort: 8080 });
  const cond = await waitFor('second unschedulable', () => scheduledCondition(c, 'second')?.status === 'False' && scheduledCondition(c, 'second'));
  t.is(cond.message, "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.");
  await c.client.delete(R.pods, 'default', 'first', { gracePeriodSeconds: 0 });
  await waitFor('second bound once the port is free', () => nodeOf(c, 'second'));
  t.is(nodeOf(c, 'second'), 'pi-01');
});

test('a burst sees its own placements: requests are never overcommitted', async (t) => {
  const { c, scheduler } = await setup(t);
  await addNode(c.client, c.telemetry, 'pi-01', { cpu: '1' });
  scheduler.start();
  const names = Array.from({ length: 10 }, (_, i) => `burst-${i}`);
  await Promise.all(names.map((n) => addPod(c.client, n, { cpu: '200m' })));
  await waitFor('five bound, five refused', () => {
    const bound = names.filter((n) => nodeOf(c, n)).length;
    const refused = names.filter((n) => scheduledCondition(c, n)?.status === 'False').length;
    return bound === 5 && refused === 5;
  });
  const refused = names.find((n) => scheduledCondition(c, n)?.status === 'False')!;
  t.is(scheduledCondition(c, refused)?.message, '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.');
});

test('init containers count as their maximum, not their sum', async (t) => {
  const { c, scheduler } = await setup(t);
  await addNode(c.client, c.telemetry, 'pi-01', { memory: '1Gi' });
  scheduler.start();
  const init = (name: string) => ({ name, image: 'busybox:1.36', resources: { requests: { memory: '600Mi' } } });
  await addPod(c.client, 'two-inits', { memory: '100Mi', initContainers: [init('a'), init('b')] });
  await waitFor('bound', () => nodeOf(c, 'two-inits'));
  t.is(nodeOf(c, 'two-inits'), 'pi-01');
});

test('offline, NotReady and cordoned nodes are not used; retried when a node comes online', async (t) => {
  const { c, scheduler } = await setup(t);
  await addNode(c.client, c.telemetry, 'pi-off', { online: false });
  await addNode(c.client, c.telemetry, 'pi-notready', { ready: false });
  await addNode(c.client, c.telemetry, 'pi-cordoned', { unschedulable: true });
  scheduler.start();
  await addPod(c.client, 'waiting');
  const cond = await waitFor('unschedulable', () => scheduledCondition(c, 'waiting')?.status === 'False' && scheduledCondition(c, 'waiting'));
  t.is(cond.message, '0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 1 node(s) were unschedulable. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.');
  c.telemetry.update('pi-off', { online: true, lastSeen: Date.now() });
  await waitFor('bound after the agent came back', () => nodeOf(c, 'waiting'));
  t.is(nodeOf(c, 'waiting'), 'pi-off');
});

test('with no nodes the pod waits, then lands on the first node that joins', async (t) => {
  const { c, scheduler } = await setup(t);
  scheduler.start();
  await addPod(c.client, 'early');
  const cond = await waitFor('unschedulable', () => scheduledCondition(c, 'early')?.status === 'False' && scheduledCondition(c, 'early'));
  t.is(cond.message, 'no nodes available to schedule pods');
  await addNode(c.client, c.telemetry, 'pi-new');
  await waitFor('bound', () => nodeOf(c, 'early'));
  const events = await waitFor('Scheduled event', () => { const e = eventsFor(c.client, 'early', 'Scheduled'); return e.length ? e : undefined; });
  t.is(events[0]!.message, 'Successfully assigned default/early to pi-new');
  t.is(scheduledCondition(c, 'early')?.status, 'True');
});

test('pods for another scheduler and pods already bound are left alone; max pods is honoured', async (t) => {
  const { c, scheduler } = await setup(t);
  await addNode(c.client, c.telemetry, 'pi-01', { pods: '2' });
  await addPod(c.client, 'pre-bound', { nodeName: 'pi-01' });
  scheduler.start();
  const other: Pod = podObject('other');
  other.spec.schedulerName = 'my-scheduler';
  await c.client.create(R.pods, other);
  await addPod(c.client, 'fits');
  await addPod(c.client, 'too-many');
  await waitFor('fits bound', () => nodeOf(c, 'fits'));
  const cond = await waitFor('too many', () => scheduledCondition(c, 'too-many')?.status === 'False' && scheduledCondition(c, 'too-many'));
  t.is(cond.message, '0/1 nodes are available: 1 Too many pods. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.');
  await scheduler.whenIdle();
  t.is(nodeOf(c, 'other'), undefined);
  t.is(scheduledCondition(c, 'other'), undefined);
});

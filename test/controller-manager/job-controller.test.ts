import test from 'ava';
import { R } from '../../controller/apiserver/client.js';
import { JobController } from '../../controller/controller-manager/job-controller.js';
import type { Job } from '../../controller/controller-manager/job-util.js';
import type { Pod } from '../../protocol/kube/types.js';
import { startTestCluster } from '../helpers/cluster.js';
import { ownedBy, podsOf, waitFor } from './util.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

async function setup() {
  const cluster = await startTestCluster();
  const jc = new JobController({ client: cluster.client });
  jc.start();
  return { ...cluster, jc, async close() { jc.stop(); await cluster.stop(); } };
}

const newJob = (name: string, spec: Partial<Job['spec']> = {}, restartPolicy = 'Never'): Job => ({
  apiVersion: 'batch/v1', kind: 'Job',
  metadata: { name, namespace: 'default' },
  spec: { template: { spec: { restartPolicy, containers: [{ name: 'c', image: 'busybox' }] } }, ...spec } as Job['spec'],
});

/** Plays the kubelet: the pod's containers exit with this phase. */
async function finish(client: any, pod: Pod, phase: 'Succeeded' | 'Failed', at = new Date()) {
  const fresh = structuredClone(client.get(R.pods, 'default', pod.metadata.name!) as Pod);
  const finishedAt = rfc3339Seconds(at);
  fresh.status = { ...(fresh.status ?? {}), phase, containerStatuses: [{ name: 'c', ready: false, restartCount: 0, image: 'busybox', imageID: '', state: { terminated: { exitCode: phase === 'Succeeded' ? 0 : 3, finishedAt } } }] } as Pod['status'];
  await client.update(R.pods, fresh, 'status');
}

const getJob = (c: any, name: string) => c.client.get(R.jobs, 'default', name) as Job;
const running = (c: any, job: Job) => podsOf(c.client, 'default', (p) => ownedBy(job)(p) && !p.status?.phase?.match(/Succeeded|Failed/) && !p.metadata.deletionTimestamp);

test('completions 3 / parallelism 2: two at a time, then Complete with 3 succeeded', async (t) => {
  const c = await setup();
  try {
    const job = await c.client.create<Job>(R.jobs, newJob('batch', { completions: 3, parallelism: 2 }));
    t.truthy(job.spec.selector?.matchLabels?.['batch.kubernetes.io/controller-uid']);
    t.is(job.spec.backoffLimit, 6);
    const first = await waitFor('2 pods', () => { const p = running(c, job); return p.length === 2 && p; });
    t.is(first[0]!.metadata.labels?.['batch.kubernetes.io/job-name'], 'batch');
    await finish(c.client, first[0]!, 'Succeeded');
    await waitFor('a replacement', () => running(c, job).length === 2 && getJob(c, 'batch').status?.succeeded === 1);
    for (const p of running(c, job)) await finish(c.client, p, 'Succeeded');
    const done = await waitFor('Complete', () => { const j = getJob(c, 'batch'); return j.status?.conditions?.some((x) => x.type === 'Complete' && x.status === 'True') && j; });
    t.is(done.status?.succeeded, 3);
    t.is(done.status?.active, 0);
    t.truthy(done.status?.completionTime);
    t.is(podsOf(c.client, 'default', (p) => ownedBy(job)(p) && p.status?.phase === 'Succeeded').length, 3);
    // status.successful is what kubectl selects finished jobs by.
    t.deepEqual(c.client.list(R.jobs, { namespace: 'default', fieldSelector: 'status.successful=3' }).items.map((j) => j.metadata.name), ['batch']);
  } finally { await c.close(); }
});

test('a failing Job backs off between pods and stops at backoffLimit', async (t) => {
  const c = await setup();
  try {
    const job = await c.client.create<Job>(R.jobs, newJob('failing', { backoffLimit: 1 }));
    const [p1] = await waitFor('pod', () => { const p = running(c, job); return p.length === 1 && p; });
    const failedAt = Date.now();
    await finish(c.client, p1!, 'Failed');
    const [p2] = await waitFor('second pod after the back-off', () => { const p = running(c, job); return p.length === 1 && p[0]!.metadata.uid !== p1!.metadata.uid && p; }, 20_000);
    t.true(Date.parse(p2!.metadata.creationTimestamp!) >= failedAt - 1000 + 9_000, 'waited ~10s before the retry');
    await finish(c.client, p2!, 'Failed');
    const failed = await waitFor('Failed', () => { const j = getJob(c, 'failing'); return j.status?.conditions?.find((x) => x.type === 'Failed' && x.status === 'True') && j; });
    t.is(failed.status?.conditions?.find((x) => x.type === 'Failed')?.reason, 'BackoffLimitExceeded');
    t.is(failed.status?.failed, 2);
  } finally { await c.close(); }
});

test('Indexed: one pod per index with its index, completedIndexes as upstream', async (t) => {
  const c = await setup();
  try {
    const job = await c.client.create<Job>(R.jobs, newJob('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }));
    const pods = await waitFor('3 pods', () => { const p = running(c, job); return p.length === 3 && p; });
    const indexes = pods.map((p) => p.metadata.annotations?.['batch.kubernetes.io/job-completion-index']).sort();
    t.deepEqual(indexes, ['0', '1', '2']);
    const p0 = pods.find((p) => p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'] === '0')!;
    t.is(p0.spec.hostname, 'idx-0');
    t.true(p0.metadata.name!.startsWith('idx-0-'));
    t.deepEqual(p0.spec.containers[0]!.env?.find((e: any) => e.name === 'JOB_COMPLETION_INDEX'), { name: 'JOB_COMPLETION_INDEX', value: '0' });
    for (const p of pods) await finish(c.client, p, 'Succeeded');
    const done = await waitFor('Complete', () => { const j = getJob(c, 'idx'); return j.status?.completedIndexes === '0-2' && j.status.conditions?.some((x) => x.type === 'Complete') && j; });
    t.is(done.status?.succeeded, 3);
  } finally { await c.close(); }
});

test('suspend deletes running pods; resume starts again; activeDeadlineSeconds fails the job', async (t) => {
  const c = await setup();
  try {
    const job = await c.client.create<Job>(R.jobs, newJob('pausy', { parallelism: 2, completions: 4 }));
    await waitFor('2 pods', () => running(c, job).length === 2);
    await c.client.patch(R.jobs, 'default', 'pausy', { spec: { suspend: true } });
    await waitFor('suspended', () => running(c, job).length === 0 && getJob(c, 'pausy').status?.conditions?.some((x) => x.type === 'Suspended' && x.status === 'True'));
    t.falsy(getJob(c, 'pausy').status?.startTime);
    await c.client.patch(R.jobs, 'default', 'pausy', { spec: { suspend: false } });
    await waitFor('resumed', () => running(c, job).length === 2 && getJob(c, 'pausy').status?.conditions?.some((x) => x.type === 'Suspended' && x.status === 'False'));

    const slow = await c.client.create<Job>(R.jobs, newJob('slow', { activeDeadlineSeconds: 1 }));
    await waitFor('pod', () => running(c, slow).length === 1);
    const failed = await waitFor('deadline', () => getJob(c, 'slow').status?.conditions?.find((x) => x.type === 'Failed' && x.status === 'True'), 5000);
    t.is(failed.reason, 'DeadlineExceeded');
    await waitFor('its pod deleted', () => running(c, slow).length === 0);
  } finally { await c.close(); }
});

test('ttlSecondsAfterFinished deletes the finished Job', async (t) => {
  const c = await setup();
  try {
    const job = await c.client.create<Job>(R.jobs, newJob('short', { ttlSecondsAfterFinished: 1 }));
    const [p] = await waitFor('pod', () => { const x = running(c, job); return x.length === 1 && x; });
    await finish(c.client, p!, 'Succeeded');
    await waitFor('Complete', () => getJob(c, 'short')?.status?.conditions?.some((x) => x.type === 'Complete'));
    await waitFor('deleted after 1s', () => !getJob(c, 'short'), 5000);
    t.pass();
  } finally { await c.close(); }
});

test('restartPolicy Always is refused with the field named', async (t) => {
  const c = await setup();
  try {
    const err = await t.throwsAsync(c.client.create<Job>(R.jobs, newJob('bad', {}, 'Always')));
    t.regex(err!.message, /spec\.template\.spec\.restartPolicy: Unsupported value: "Always"/);
  } finally { await c.close(); }
});

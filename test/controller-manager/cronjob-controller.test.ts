import test from 'ava';
import { R } from '../../controller/apiserver/client.js';
import { CronJobController, type CronJob } from '../../controller/controller-manager/cronjob-controller.js';
import type { Job } from '../../controller/controller-manager/job-util.js';
import { startTestCluster } from '../helpers/cluster.js';
import { waitFor } from './util.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

const MINUTE = 60_000;

/** A stopped clock the test moves: the controller only acts when told to sync. */
function clock() {
  let t = Math.ceil(Date.now() / MINUTE) * MINUTE - 30_000; // half a minute before a run
  return { now: () => t, advance(ms: number) { t += ms; } };
}

const newCronJob = (name: string, spec: Partial<CronJob['spec']> = {}): CronJob => ({
  apiVersion: 'batch/v1', kind: 'CronJob',
  metadata: { name, namespace: 'default' },
  spec: {
    schedule: '*/1 * * * *',
    jobTemplate: { metadata: { labels: { app: name } }, spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } } as Job['spec'] },
    ...spec,
  },
});

const jobsOf = (client: any, cj: string): Job[] => client.list(R.jobs, { namespace: 'default' }).items
  .filter((j: Job) => j.metadata.ownerReferences?.some((o) => o.kind === 'CronJob' && o.name === cj) && !j.metadata.deletionTimestamp)
  .sort((a: Job, b: Job) => a.metadata.name!.localeCompare(b.metadata.name!));

async function complete(client: any, job: Job) {
  const copy = structuredClone(client.get(R.jobs, 'default', job.metadata.name!) as Job);
  const at = rfc3339Seconds();
  copy.status = { ...(copy.status ?? {}), startTime: at, completionTime: at, succeeded: 1, conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: at }] };
  await client.update(R.jobs, copy, 'status');
}

async function setup() {
  const cluster = await startTestCluster();
  const time = clock();
  let cc = new CronJobController({ client: cluster.client, now: time.now });
  cc.start();
  return {
    ...cluster, time,
    get cc() { return cc; },
    restart() { cc.stop(); cc = new CronJobController({ client: cluster.client, now: time.now }); cc.start(); },
    stopController() { cc.stop(); },
    async tick(ms: number) { time.advance(ms); await cc.syncAll(); },
    async close() { cc.stop(); await cluster.stop(); },
  };
}

test('creates a Job per schedule, Forbid skips while one runs, history is pruned', async (t) => {
  const c = await setup();
  try {
    const created = await c.client.create<CronJob>(R.cronjobs, newCronJob('tick', { concurrencyPolicy: 'Forbid', successfulJobsHistoryLimit: 2 }));
    t.is(created.spec.failedJobsHistoryLimit, 1);
    await c.tick(0);
    t.is(jobsOf(c.client, 'tick').length, 0, 'nothing before the first scheduled minute');
    await c.tick(31_000);
    const [first] = await waitFor('first job', () => { const j = jobsOf(c.client, 'tick'); return j.length === 1 && j; });
    t.is(first!.metadata.name, `tick-${Math.floor((c.time.now() - 1000) / MINUTE)}`);
    t.is(first!.metadata.labels?.app, 'tick');
    t.truthy(first!.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']);
    await waitFor('status.active', () => c.client.get<CronJob>(R.cronjobs, 'default', 'tick')?.status?.active?.length === 1);

    await c.tick(MINUTE);
    t.is(jobsOf(c.client, 'tick').length, 1, 'Forbid: no second job while the first runs');

    // Like upstream, the run Forbid skipped starts as soon as the running one finishes.
    await complete(c.client, first!);
    await waitFor('the skipped run', () => jobsOf(c.client, 'tick').length === 2);
    for (let i = 0; i < 2; i++) {
      await complete(c.client, jobsOf(c.client, 'tick').find((j) => !j.status?.conditions)!);
      await waitFor('job seen complete', () => !c.client.get<CronJob>(R.cronjobs, 'default', 'tick')?.status?.active);
      await c.tick(MINUTE);
      await waitFor('next job', () => jobsOf(c.client, 'tick').some((j) => !j.status?.conditions));
    }
    await c.tick(0);
    const jobs = await waitFor('history pruned to 2 finished + 1 running', () => { const j = jobsOf(c.client, 'tick'); return j.length === 3 && j; });
    t.is(jobs.filter((j) => j.status?.conditions?.some((x) => x.type === 'Complete')).length, 2);
    t.false(jobs.some((j) => j.metadata.name === first!.metadata.name), 'the oldest finished job went');
    t.truthy(c.client.get<CronJob>(R.cronjobs, 'default', 'tick')?.status?.lastSuccessfulTime);
  } finally { await c.close(); }
});

test('a schedule missed while the controller was down runs once on start', async (t) => {
  const c = await setup();
  try {
    await c.client.create<CronJob>(R.cronjobs, newCronJob('backup'));
    await c.tick(31_000);
    await waitFor('first job', () => jobsOf(c.client, 'backup').length === 1);
    c.stopController();
    c.time.advance(5 * MINUTE);
    c.restart();
    await waitFor('one catch-up job', () => jobsOf(c.client, 'backup').length === 2);
    await c.cc.syncAll();
    t.is(jobsOf(c.client, 'backup').length, 2, 'only the most recent missed time runs');
    t.is(jobsOf(c.client, 'backup')[1]!.metadata.name, `backup-${Math.floor(c.time.now() / MINUTE)}`);
  } finally { await c.close(); }
});

test('Replace deletes the running Job; suspend stops new ones; startingDeadlineSeconds skips stale runs', async (t) => {
  const c = await setup();
  try {
    await c.client.create<CronJob>(R.cronjobs, newCronJob('swap', { concurrencyPolicy: 'Replace' }));
    await c.tick(31_000);
    const [one] = await waitFor('first', () => { const j = jobsOf(c.client, 'swap'); return j.length === 1 && j; });
    await c.tick(MINUTE);
    await waitFor('replaced', () => { const j = jobsOf(c.client, 'swap'); return j.length === 1 && j[0]!.metadata.name !== one!.metadata.name; });

    await c.client.patch(R.cronjobs, 'default', 'swap', { spec: { suspend: true } });
    await waitFor('suspend seen', () => c.cc && true);
    await new Promise((r) => setTimeout(r, 200));
    await c.tick(MINUTE);
    t.is(jobsOf(c.client, 'swap').length, 1, 'suspended: no new job');

    await c.client.create<CronJob>(R.cronjobs, newCronJob('late', { startingDeadlineSeconds: 10, schedule: '0 0 1 1 *' }));
    await c.tick(MINUTE);
    t.is(jobsOf(c.client, 'late').length, 0);
  } finally { await c.close(); }
});

test('schedules and time zones are validated with the field named', async (t) => {
  const c = await setup();
  try {
    const bad = await t.throwsAsync(c.client.create<CronJob>(R.cronjobs, newCronJob('bad', { schedule: '61 * * * *' })));
    t.regex(bad!.message, /spec\.schedule: Invalid value: "61 \* \* \* \*"/);
    const zone = await t.throwsAsync(c.client.create<CronJob>(R.cronjobs, newCronJob('zone', { timeZone: 'Mars/Base' })));
    t.regex(zone!.message, /spec\.timeZone: Invalid value: "Mars\/Base": unknown time zone/);
    const ok = await c.client.create<CronJob>(R.cronjobs, newCronJob('nightly', { schedule: '@daily', timeZone: 'Europe/Berlin' }));
    t.is(ok.spec.timeZone, 'Europe/Berlin');
  } finally { await c.close(); }
});

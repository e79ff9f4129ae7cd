// Jobs and CronJobs with real parts: the compiled controller, one agent running pods
// through real podman, stock kubectl (its typed `create job|cronjob` send protobuf).
import test from 'ava';
import { BUSYBOX_IMAGE } from '../helpers/podman-image.js';
import { waitFor, type Kubectl } from '../helpers/processes.js';
import { startPodmanCluster, type PodmanCluster } from './podman-cluster.js';
import { uniqueNodeName } from './e2e-helpers.js';

const NODE = uniqueNodeName('e2e-batch');
let cluster: PodmanCluster | undefined;
let k: Kubectl;

const job = (name: string, spec: string, command: string) => `apiVersion: batch/v1
kind: Job
metadata: {name: ${name}}
spec:
${spec}
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers: [{name: c, image: ${BUSYBOX_IMAGE}, imagePullPolicy: Never, command: ["/bin/sh", "-c", ${JSON.stringify(command)}]}]
`;

const jsonpath = async (what: string[], path: string) => (await k(['get', ...what, '-o', `jsonpath=${path}`], { reject: false })).stdout;

test.before(async () => {
  cluster = await startPodmanCluster(NODE);
  ({ k } = cluster);
});

test.after.always(async () => {
  await cluster?.stop();
});

test.serial('a Job with completions 3 / parallelism 2 finishes with 3 Succeeded pods', async (t) => {
  await k(['apply', '-f', '-'], { input: job('batch', '  completions: 3\n  parallelism: 2', 'echo done from $HOSTNAME') });
  await waitFor('3 succeeded', async () => (await jsonpath(['job', 'batch'], '{.status.succeeded}')) === '3', 120_000, 1000);
  const phases = (await jsonpath(['pods', '-l', 'batch.kubernetes.io/job-name=batch'], '{.items[*].status.phase}')).split(' ');
  t.deepEqual(phases, ['Succeeded', 'Succeeded', 'Succeeded']);
  t.regex((await k(['logs', 'job/batch'])).stdout, /done from batch-/);
  await k(['wait', '--for=condition=complete', 'job/batch', '--timeout=10s']);
  const table = (await k(['get', 'jobs'])).stdout;
  t.regex(table, /^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE/m);
  t.regex(table, /^batch\s+Complete\s+3\/3\s+\S+\s+\S+/m);
  t.regex((await k(['get', 'jobs', '--field-selector', 'status.successful=3', '-o', 'name'])).stdout, /job.batch\/batch/);
});

test.serial('a failing Job stops at backoffLimit with reason BackoffLimitExceeded', async (t) => {
  await k(['apply', '-f', '-'], { input: job('failing', '  backoffLimit: 1', 'exit 3') });
  await waitFor('Failed', async () => (await jsonpath(['job', 'failing'], '{.status.conditions[?(@.type=="Failed")].reason}')) === 'BackoffLimitExceeded', 120_000, 1000);
  t.is(await jsonpath(['job', 'failing'], '{.status.failed}'), '2');
  t.regex((await k(['get', 'job', 'failing'])).stdout, /failing\s+Failed\s+0\/1/);
  t.regex((await k(['describe', 'job', 'failing'])).stdout, /BackoffLimitExceeded/);
});

test.serial('kubectl create cronjob runs on schedule; create job --from=cronjob; delete cascades to pods', async (t) => {
  t.regex((await k(['create', 'cronjob', 'tick', `--image=${BUSYBOX_IMAGE}`, '--schedule=*/1 * * * *', '--', '/bin/sh', '-c', 'echo tick'])).stdout, /cronjob.batch\/tick created/);
  // kubectl create leaves imagePullPolicy to the default; the image exists only locally.
  await k(['patch', 'cronjob', 'tick', '--type=json', '-p', '[{"op":"add","path":"/spec/jobTemplate/spec/template/spec/containers/0/imagePullPolicy","value":"Never"}]']);
  // A minute boundary may pass before this runs: the first run may already be there.
  t.regex((await k(["get", "cronjob", "tick"])).stdout, /^tick\s+\*\/1 \* \* \* \*\s+<none>\s+False\s+\d+\s+\S+/m);
  t.regex((await k(['create', 'job', 'manual', '--from=cronjob/tick'])).stdout, /job.batch\/manual created/);
  const manual = JSON.parse((await k(['get', 'job', 'manual', '-o', 'json'])).stdout);
  t.is(manual.metadata.annotations['cronjob.kubernetes.io/instantiate'], 'manual');
  t.is(manual.metadata.ownerReferences[0].kind, 'CronJob');
  await waitFor('manual job done', async () => (await jsonpath(['job', 'manual'], '{.status.succeeded}')) === '1', 90_000, 1000);
  await waitFor('a scheduled job', async () => (await jsonpath(['jobs'], '{.items[*].metadata.name}')).split(' ').some((n) => /^tick-\d+$/.test(n)), 80_000, 1000);
  t.truthy(await jsonpath(['cronjob', 'tick'], '{.status.lastScheduleTime}'));

  await k(['delete', 'job', 'manual']);
  await waitFor('its pods collected', async () => (await jsonpath(['pods', '-l', 'batch.kubernetes.io/job-name=manual'], '{.items[*].metadata.name}')) === '', 30_000, 500);
  t.pass();
});

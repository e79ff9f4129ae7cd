// kubectl's typed create commands for batch, policy and autoscaling kinds send protobuf
// bodies; each against a real controller, then `get -o json` shows what was stored.
import test from 'ava';
import { kubectl, removeDir, startController, type ControllerHandle, type Kubectl } from '../helpers/processes.js';

let ctrl: ControllerHandle | undefined;
let k: Kubectl;

test.before(async () => {
  ctrl = await startController();
  k = kubectl(ctrl.kubeconfig);
});

test.after.always(async () => {
  if (ctrl) { await ctrl.kill(); removeDir(ctrl.dir); }
  if (k) removeDir(k.home);
});

const getJson = async (...args: string[]) => JSON.parse((await k(['get', ...args, '-o', 'json'])).stdout);

test.serial('create job, cronjob (with --from) and pdb', async (t) => {
  t.regex((await k(['create', 'job', 'once', '--image=busybox', '--', 'echo', 'hi'])).stdout, /job.batch\/once created/);
  const job = await getJson('job', 'once');
  t.deepEqual(job.spec.template.spec.containers[0].command, ['echo', 'hi']);
  t.is(job.spec.template.spec.restartPolicy, 'Never');
  t.is(job.spec.backoffLimit, 6);
  t.is(job.spec.completions, 1);
  t.truthy(job.spec.selector.matchLabels['batch.kubernetes.io/controller-uid']);

  await k(['create', 'cronjob', 'nightly', '--image=busybox', '--schedule=@daily', '--restart=OnFailure', '--', 'date']);
  const cj = await getJson('cronjob', 'nightly');
  t.is(cj.spec.schedule, '@daily');
  t.is(cj.spec.concurrencyPolicy, 'Allow');
  t.is(cj.spec.successfulJobsHistoryLimit, 3);
  t.is(cj.spec.jobTemplate.spec.template.spec.restartPolicy, 'OnFailure');

  await k(['create', 'job', 'by-hand', '--from=cronjob/nightly']);
  const fromCron = await getJson('job', 'by-hand');
  t.is(fromCron.metadata.ownerReferences[0].name, 'nightly');
  t.is(fromCron.metadata.annotations['cronjob.kubernetes.io/instantiate'], 'manual');

  await k(['create', 'pdb', 'web', '--selector=app=web', '--max-unavailable=25%']);
  const pdb = await getJson('pdb', 'web');
  t.is(pdb.spec.maxUnavailable, '25%');
  t.deepEqual(pdb.spec.selector, { matchLabels: { app: 'web' } });
  await k(['create', 'pdb', 'db', '--selector=app=db', '--min-available=2']);
  t.is((await getJson('pdb', 'db')).spec.minAvailable, 2);

  const bad = await k(['create', 'cronjob', 'broken', '--image=busybox', '--schedule=99 * * * *'], { reject: false });
  t.not(bad.exitCode, 0);
  t.regex(bad.stderr, /spec\.schedule: Invalid value: "99 \* \* \* \*"/);
});

test.serial('tables as upstream prints them', async (t) => {
  t.regex((await k(['get', 'cronjobs'])).stdout, /^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE\nnightly\s+@daily\s+<none>\s+False\s+1\s+<none>\s+\S+/m);
  t.regex((await k(['get', 'pdb'])).stdout, /^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\ndb\s+2\s+N\/A\s+0\s+\S+\nweb\s+N\/A\s+25%\s+0\s+\S+/m);
  t.regex((await k(['get', 'jobs', '-o', 'wide'])).stdout, /^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR/m);
  const resources = (await k(['api-resources', '--api-group=batch'])).stdout;
  t.regex(resources, /cronjobs\s+cj\s+batch\/v1\s+true\s+CronJob/);
  t.regex(resources, /jobs\s+batch\/v1\s+true\s+Job/);
  t.regex((await k(['api-resources', '--api-group=policy'])).stdout, /poddisruptionbudgets\s+pdb\s+policy\/v1\s+true\s+PodDisruptionBudget/);
  t.regex((await k(['api-resources', '--api-group=autoscaling'])).stdout, /horizontalpodautoscalers\s+hpa\s+autoscaling\/v2\s+true\s+HorizontalPodAutoscaler/);
});

test.serial('kubectl autoscale creates an autoscaling/v1 HPA, read back as v2', async (t) => {
  await k(['create', 'deployment', 'web', '--image=nginx']);
  t.regex((await k(['autoscale', 'deployment', 'web', '--min=2', '--max=5', '--cpu-percent=60'])).stdout, /horizontalpodautoscaler.autoscaling\/web autoscaled/);
  const hpa = await getJson('hpa', 'web');
  t.is(hpa.apiVersion, 'autoscaling/v2');
  t.deepEqual(hpa.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }]);
  const v1 = JSON.parse((await k(['get', '--raw', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web'])).stdout);
  t.is(v1.spec.targetCPUUtilizationPercentage, 60);
  t.is(v1.spec.minReplicas, 2);
  t.regex((await k(['get', 'hpa'])).stdout, /^web\s+Deployment\/web\s+cpu: <unknown>\/60%\s+2\s+5\s+\d+\s+\S+/m);
});

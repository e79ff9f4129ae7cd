// /openapi/v2: the Swagger 2.0 JSON and the protobuf form kubectl decodes
// (`kubectl explain --output=plaintext-openapiv2` reads only that).
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

test('JSON: every served kind is a definition with its group-version-kind', async (t) => {
  const doc = JSON.parse((await k(['get', '--raw', '/openapi/v2'])).stdout);
  t.is(doc.swagger, '2.0');
  for (const [name, gvk] of [
    ['io.k8s.api.batch.v1.Job', { group: 'batch', kind: 'Job', version: 'v1' }],
    ['io.k8s.api.batch.v1.CronJob', { group: 'batch', kind: 'CronJob', version: 'v1' }],
    ['io.k8s.api.policy.v1.PodDisruptionBudget', { group: 'policy', kind: 'PodDisruptionBudget', version: 'v1' }],
    ['io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler', { group: 'autoscaling', kind: 'HorizontalPodAutoscaler', version: 'v2' }],
    ['io.k8s.api.apps.v1.Deployment', { group: 'apps', kind: 'Deployment', version: 'v1' }],
  ] as const) {
    t.deepEqual(doc.definitions[name]?.['x-kubernetes-group-version-kind'], [gvk], name);
  }
  t.is(doc.definitions['io.k8s.api.batch.v1.JobSpec'].properties.template.$ref, '#/definitions/io.k8s.api.core.v1.PodTemplateSpec');
  t.truthy(doc.paths['/apis/batch/v1/namespaces/{namespace}/jobs']);
});

test('protobuf: kubectl explain reads fields through the v2 document', async (t) => {
  const cron = await k(['explain', 'cronjob.spec.concurrencyPolicy', '--output=plaintext-openapiv2']);
  t.regex(cron.stdout, /KIND:\s+CronJob/);
  t.regex(cron.stdout, /FIELD:\s+concurrencyPolicy <string>/);
  const hpa = await k(['explain', 'hpa.spec', '--output=plaintext-openapiv2']);
  t.regex(hpa.stdout, /VERSION:\s+autoscaling\/v2/);
  t.regex(hpa.stdout, /scaleTargetRef\s+<Object> -required-/);
});

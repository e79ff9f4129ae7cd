// The real Helm 3 binary against pikube with a podman node, with a chart of our own in the
// shape of home-lab database charts: a StatefulSet with volumeClaimTemplates behind a
// headless Service, a Deployment with a claim on the default local-path class, a
// pre-install hook Job and a `helm test` Pod. install --wait, test, an upgrade that rolls
// both workloads, rollback and uninstall; the data in the volumes outlives every pod, and
// claims are kept or removed as the StatefulSet's retention policy says. Helm validates
// the manifests against /openapi/v2, so no --disable-openapi-validation.
import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pod } from '../../protocol/kube/types.js';
import { helm, type Helm } from '../helpers/helm.js';
import { ensureBusyboxImage } from '../helpers/podman-image.js';
import { kubectl, removeDir, startAgent, startController, waitFor, type AgentHandle, type ControllerHandle, type Kubectl } from '../helpers/processes.js';
import { removeNodeContainers, uniqueNodeName } from './e2e-helpers.js';

const CHART = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'charts', 'stateful-app');
const NODE = uniqueNodeName('e2e-helm-sts');
let ctrl: ControllerHandle | undefined;
let agent: AgentHandle | undefined;
let k: Kubectl;
let h: Helm;
const storageDir = () => join(agent!.dir, 'storage');

test.before(async () => {
  await ensureBusyboxImage();
  ctrl = await startController();
  agent = startAgent(ctrl, { nodeName: NODE, runtime: 'podman' });
  k = kubectl(ctrl.kubeconfig);
  h = await helm(ctrl.kubeconfig);
  await waitFor(`node ${NODE} Ready`, async () => {
    const r = await k(['get', 'node', NODE, '--no-headers'], { reject: false });
    return r.exitCode === 0 && r.stdout.split(/\s+/)[1] === 'Ready';
  }, 60_000, 500);
});

test.after.always(async () => {
  await agent?.kill();
  await ctrl?.kill();
  await removeNodeContainers(NODE);
  if (ctrl) removeDir(ctrl.dir);
  if (agent) removeDir(agent.dir);
  if (k) removeDir(k.home);
  if (h) removeDir(h.home);
});

async function json<T = any>(args: string[]): Promise<T> {
  return JSON.parse((await k([...args, '-o', 'json'])).stdout) as T;
}

const pods = async (app: string): Promise<Pod[]> => (await json(['get', 'pods', '-l', `app=${app}`])).items;
const ready = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const env = (p: Pod) => p.spec.containers[0]!.env?.find((e) => e.name === 'APP_VERSION')?.value;
const claims = async () => (await json(['get', 'pvc'])).items.map((c: any) => `${c.metadata.name}=${c.status?.phase}`).sort();
const cat = async (pod: string, file: string) => (await k(['exec', pod, '--', 'cat', file])).stdout.trim();
const webPod = async () => (await pods('lab-web')).find((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp)!;
let uids: Record<string, string> = {};

test.serial('helm install --wait runs the hook first, then brings up the StatefulSet and the Deployment on their claims', async (t) => {
  t.timeout(420_000);
  const install = await h(['install', 'lab', CHART, '--wait', '--timeout', '6m'], { timeoutMs: 400_000 });
  t.regex(install.stdout, /STATUS: deployed/);
  // The pre-install hook ran to completion before any object of the release existed.
  const job = await json(['get', 'job', 'lab-migrate']);
  t.is(job.status.succeeded, 1);
  t.regex((await k(['logs', 'job/lab-migrate'])).stdout, /schema ready for lab/);
  const sts = await json(['get', 'sts', 'lab-db']);
  t.true(Date.parse(sts.metadata.creationTimestamp) >= Date.parse(job.status.completionTime), 'StatefulSet created after the hook completed');
  // --wait returned only once both replicas and the Deployment were Ready.
  t.is(sts.status.readyReplicas, 2);
  const db = await pods('lab-db');
  t.deepEqual(db.map((p) => p.metadata.name).sort(), ['lab-db-0', 'lab-db-1']);
  t.true(db.every(ready));
  for (const p of db) {
    t.is(p.spec.hostname, p.metadata.name);
    t.is(p.spec.subdomain, 'lab-db');
    t.is(await cat(p.metadata.name!, '/data/first'), p.metadata.name!);
  }
  t.is((await json(['get', 'deploy', 'lab-web'])).status.readyReplicas, 1);
  t.deepEqual(await claims(), ['data-lab-db-0=Bound', 'data-lab-db-1=Bound', 'lab-files=Bound']);
  const pvs = (await json(['get', 'pv'])).items;
  t.is(pvs.length, 3);
  for (const pv of pvs) {
    t.is(pv.spec.storageClassName, 'local-path');
    t.deepEqual(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values, [NODE]);
  }
  t.is(await cat((await webPod()).metadata.name!, '/files/starts'), '1');
  // Data the application writes later, to follow through the upgrade and the rollback.
  await k(['exec', 'lab-db-0', '--', 'sh', '-c', 'echo kept > /data/marker']);
  uids = Object.fromEntries(db.map((p) => [p.metadata.name!, p.metadata.uid!]));
});

test.serial('helm test reaches every replica by its stable name', async (t) => {
  t.timeout(180_000);
  const tested = await h(['test', 'lab', '--timeout', '2m'], { reject: false });
  t.is(tested.exitCode, 0, tested.stderr + tested.stdout);
  t.regex(tested.stdout, /TEST SUITE:\s+lab-test[\s\S]*Phase:\s+Succeeded/);
  const log = (await k(['logs', 'lab-test'])).stdout;
  t.regex(log, /lab-db-0 answered/);
  t.regex(log, /lab-db-1 answered/);
});

test.serial('helm upgrade rolls the StatefulSet pod by pod and the Deployment; the volumes keep their data', async (t) => {
  t.timeout(420_000);
  await h(['upgrade', 'lab', CHART, '--wait', '--timeout', '6m', '--set', 'version=2', '--set', 'replicas=3'], { timeoutMs: 400_000 });
  const sts = await json(['get', 'sts', 'lab-db']);
  t.is(sts.status.readyReplicas, 3);
  t.is(sts.status.updatedReplicas, 3);
  t.is(sts.status.currentRevision, sts.status.updateRevision);
  const db = await pods('lab-db');
  t.deepEqual(db.map((p) => p.metadata.name).sort(), ['lab-db-0', 'lab-db-1', 'lab-db-2']);
  for (const p of db) {
    t.true(ready(p), `${p.metadata.name} Ready`);
    t.is(env(p), '2', `${p.metadata.name} runs the new template`);
    t.is(p.metadata.labels!['controller-revision-hash'], sts.status.updateRevision);
    if (uids[p.metadata.name!]) t.not(p.metadata.uid, uids[p.metadata.name!], `${p.metadata.name} was replaced`);
    t.is(await cat(p.metadata.name!, '/data/first'), p.metadata.name!);
  }
  t.is(await cat('lab-db-0', '/data/marker'), 'kept');
  t.deepEqual(await claims(), ['data-lab-db-0=Bound', 'data-lab-db-1=Bound', 'data-lab-db-2=Bound', 'lab-files=Bound']);
  // Recreate: the new web pod found what the old one wrote on the same claim.
  const web = await waitFor('web pod on version 2', async () => { const p = await webPod(); return p && env(p) === '2' ? p : undefined; }, 60_000, 1000);
  t.is(await cat(web.metadata.name!, '/files/starts'), '1\n2');
  t.regex((await h(['history', 'lab'])).stdout, /2\s+.*deployed\s+stateful-app-0.1.0/);
  const tested = await h(['test', 'lab', '--timeout', '2m'], { reject: false });
  t.is(tested.exitCode, 0, tested.stderr + tested.stdout);
  t.regex((await k(['logs', 'lab-test'])).stdout, /lab-db-2 answered/);
});

test.serial('helm rollback returns to two replicas on the first template; the claim of the removed replica goes, as whenScaled: Delete says', async (t) => {
  t.timeout(420_000);
  await h(['rollback', 'lab', '1', '--wait', '--timeout', '6m'], { timeoutMs: 400_000 });
  t.regex((await h(['status', 'lab'])).stdout, /REVISION: 3/);
  const sts = await json(['get', 'sts', 'lab-db']);
  t.is(sts.spec.replicas, 2);
  t.is(sts.status.readyReplicas, 2);
  t.is(sts.status.currentRevision, sts.status.updateRevision);
  await waitFor('lab-db-2 gone', async () => (await pods('lab-db')).length === 2, 60_000, 1000);
  for (const p of await pods('lab-db')) {
    t.is(env(p), '1', `${p.metadata.name} back on the first template`);
    t.is(await cat(p.metadata.name!, '/data/first'), p.metadata.name!);
  }
  t.is(await cat('lab-db-0', '/data/marker'), 'kept');
  await waitFor('claim of lab-db-2 and its volume removed', async () => {
    const c = await claims();
    return c.join(' ') === 'data-lab-db-0=Bound data-lab-db-1=Bound lab-files=Bound' && (await json(['get', 'pv'])).items.length === 3;
  }, 90_000, 1000);
  const web = await waitFor('web pod on version 1', async () => { const p = await webPod(); return p && env(p) === '1' ? p : undefined; }, 60_000, 1000);
  t.is(await cat(web.metadata.name!, '/files/starts'), '1\n2\n1');
});

test.serial('helm uninstall removes the release; the Deployment\'s claim and directory go, the StatefulSet\'s claims stay (whenDeleted: Retain)', async (t) => {
  t.timeout(300_000);
  const filesDir = (await json(['get', 'pv', (await json(['get', 'pvc', 'lab-files'])).spec.volumeName])).spec.hostPath.path as string;
  t.true(existsSync(filesDir));
  await h(['uninstall', 'lab', '--wait', '--timeout', '3m'], { timeoutMs: 200_000 });
  t.is((await h(['list', '-q'])).stdout.trim(), '');
  await waitFor('release objects and pods gone', async () =>
    (await k(['get', 'sts,deploy', '-o', 'name'])).stdout.trim() === '' &&
    (await k(['get', 'svc', 'lab-db'], { reject: false })).exitCode !== 0 && (await k(['get', 'pvc', 'lab-files'], { reject: false })).exitCode !== 0 &&
    (await pods('lab-db')).length === 0 && (await pods('lab-web')).length === 0, 120_000, 1000);
  await waitFor('the Deployment\'s volume reclaimed', async () => (await json(['get', 'pv'])).items.length === 2 && !existsSync(filesDir), 90_000, 1000);
  t.deepEqual(await claims(), ['data-lab-db-0=Bound', 'data-lab-db-1=Bound']);
  t.is(readdirSync(storageDir()).length, 2);
  // What a user does to drop the data for good.
  await k(['delete', 'pvc', 'data-lab-db-0', 'data-lab-db-1']);
  await waitFor('every volume reclaimed', async () => (await json(['get', 'pv'])).items.length === 0 && readdirSync(storageDir()).length === 0, 90_000, 1000);
  t.pass();
});

// The real Helm 3 binary against pikube with a podman node: install --wait (with a
// pre-install hook Job), helm test, upgrade, rollback and uninstall of a chart of our own.
// Helm validates the manifests against /openapi/v2, so no --disable-openapi-validation.
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { helm, type Helm } from '../helpers/helm.js';
import { removeDir, waitFor, type ControllerHandle, type Kubectl } from '../helpers/processes.js';
import { startPodmanCluster, type PodmanCluster } from './podman-cluster.js';
import { uniqueNodeName } from './e2e-helpers.js';

const CHART = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'charts', 'homelab-web');
const NODE = uniqueNodeName('e2e-helm');
let cluster: PodmanCluster | undefined;
let ctrl: ControllerHandle | undefined;
let k: Kubectl;
let h: Helm;

test.before(async () => {
  cluster = await startPodmanCluster(NODE);
  ({ ctrl, k } = cluster);
  h = await helm(ctrl.kubeconfig);
});

test.after.always(async () => {
  await cluster?.stop();
  if (h) removeDir(h.home);
});

const page = async () => {
  const pod = (await k(['get', 'pods', '-l', 'app.kubernetes.io/name=web', '--field-selector', 'status.phase=Running', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout;
  return (await k(['exec', pod, '--', 'cat', '/www/index.html'])).stdout;
};

test.serial('helm install --wait, test, upgrade, rollback, uninstall', async (t) => {
  t.timeout(600_000);
  const install = await h(['install', 'lab', CHART, '--wait', '--timeout', '3m']);
  t.regex(install.stdout, /STATUS: deployed/);
  // The pre-install hook ran to completion before the release's objects were created.
  t.regex((await k(['get', 'job', 'lab-prepare'])).stdout, /lab-prepare\s+Complete\s+1\/1/);
  t.is((await k(['get', 'deploy', 'lab-web', '-o', 'jsonpath={.status.readyReplicas}'])).stdout, '2');

  const tested = await h(['test', 'lab', '--timeout', '2m'], { reject: false });
  t.is(tested.exitCode, 0, tested.stderr + tested.stdout);
  t.regex(tested.stdout, /TEST SUITE:\s+lab-test[\s\S]*Phase:\s+Succeeded/);

  await h(['upgrade', 'lab', CHART, '--wait', '--timeout', '3m', '--set', 'message=upgraded', '--set', 'replicas=3']);
  t.is((await k(['get', 'deploy', 'lab-web', '-o', 'jsonpath={.status.readyReplicas}'])).stdout, '3');
  await waitFor('new content served', async () => (await page()) === 'upgraded', 60_000, 1000);
  t.regex((await h(['history', 'lab'])).stdout, /2\s+.*deployed\s+homelab-web-0.1.0/);

  await h(['rollback', 'lab', '1', '--wait', '--timeout', '3m']);
  await waitFor('old content back', async () => (await page()) === 'hello', 60_000, 1000);
  t.is((await k(['get', 'deploy', 'lab-web', '-o', 'jsonpath={.spec.replicas}'])).stdout, '2');
  t.regex((await h(['status', 'lab'])).stdout, /REVISION: 3/);

  await h(['uninstall', 'lab', '--wait', '--timeout', '2m']);
  await waitFor('release objects gone', async () => (await k(['get', 'deploy,svc,cm', '-l', 'app.kubernetes.io/instance=lab', '-o', 'name'])).stdout === '' &&
    (await k(['get', 'deploy', 'lab-web'], { reject: false })).exitCode !== 0, 60_000, 1000);
  t.is((await h(['list', '-q'])).stdout.trim(), '');
});

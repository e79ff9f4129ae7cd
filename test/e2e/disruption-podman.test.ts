// PodDisruptionBudgets with real parts: `kubectl drain` of a podman node whose pods a
// budget (minAvailable 2 of 3) covers evicts one pod at a time, waiting on the server's
// 429 until the replacement on the other node is ready.
import test from 'ava';
import { ensureBusyboxImage, BUSYBOX_IMAGE } from '../helpers/podman-image.js';
import { kubectl, removeDir, startAgent, startController, waitFor, type AgentHandle, type ControllerHandle, type Kubectl } from '../helpers/processes.js';
import { removeNodeContainers, uniqueNodeName } from './e2e-helpers.js';

const DRAINED = uniqueNodeName('e2e-drain');
const SPARE = uniqueNodeName('e2e-spare');
let ctrl: ControllerHandle | undefined;
const agents: AgentHandle[] = [];
let k: Kubectl;

const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: c
          image: ${BUSYBOX_IMAGE}
          imagePullPolicy: Never
          command: ["/bin/sh", "-c", "sleep 2; exec /bin/httpd -f -p 8080"]
          readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  minAvailable: 2
  selector: {matchLabels: {app: web}}
`;

async function ready(node: string) {
  await waitFor(`node ${node} Ready`, async () => {
    const r = await k(['get', 'node', node, '--no-headers'], { reject: false });
    return r.exitCode === 0 && r.stdout.split(/\s+/)[1]?.startsWith('Ready');
  }, 60_000, 500);
}

test.before(async () => {
  await ensureBusyboxImage();
  ctrl = await startController();
  k = kubectl(ctrl.kubeconfig);
  agents.push(startAgent(ctrl, { nodeName: DRAINED, runtime: 'podman' }));
  agents.push(startAgent(ctrl, { nodeName: SPARE, runtime: 'simulated' }));
  await ready(DRAINED);
  await ready(SPARE);
});

test.after.always(async () => {
  for (const a of agents) await a.kill();
  await ctrl?.kill();
  await removeNodeContainers(DRAINED);
  if (ctrl) removeDir(ctrl.dir);
  for (const a of agents) removeDir(a.dir);
  if (k) removeDir(k.home);
});

test.serial('kubectl drain evicts one pod at a time and respects minAvailable 2 of 3', async (t) => {
  t.timeout(360_000);
  await k(['cordon', SPARE]);
  await k(['apply', '-f', '-'], { input: manifest });
  await waitFor('3 ready pods on the podman node', async () => (await k(['get', 'deploy', 'web', '-o', 'jsonpath={.status.readyReplicas}'])).stdout === '3', 120_000, 1000);
  await waitFor('budget allows one disruption', async () => (await k(['get', 'pdb', 'web', '-o', 'jsonpath={.status.disruptionsAllowed}'])).stdout === '1', 30_000, 500);
  t.regex((await k(['get', 'pdb'])).stdout, /^web\s+2\s+N\/A\s+1\s+\S+/m);
  await k(['uncordon', SPARE]);

  // Watch availability while the drain runs: it must never drop below the budget.
  let lowest = 3;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const r = await k(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.metadata.deletionTimestamp}|{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'], { reject: false });
      const readyNow = r.stdout.split('\n').filter((l) => l === '|True').length;
      if (r.exitCode === 0) lowest = Math.min(lowest, readyNow);
      await new Promise((res) => setTimeout(res, 300));
    }
  })();
  const drain = await k(['drain', DRAINED, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=180s'], { timeoutMs: 200_000, reject: false });
  watching = false;
  await watcher;
  t.is(drain.exitCode, 0, drain.stderr);
  const out = drain.stdout + drain.stderr;
  t.regex(out, /Cannot evict pod as it would violate the pod's disruption budget/);
  t.is((out.match(/evicted/g) ?? []).length, 3, out);
  t.regex(out, new RegExp(`node/${DRAINED} drained`));
  t.true(lowest >= 2, `ready pods dropped to ${lowest}`);
  const nodes = (await k(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].spec.nodeName}'])).stdout.split(' ');
  t.deepEqual(nodes, [SPARE, SPARE, SPARE]);
});

test.serial('a direct eviction past the budget answers 429 TooManyRequests', async (t) => {
  await k(['patch', 'pdb', 'web', '--type=merge', '-p', '{"spec":{"minAvailable":3}}']);
  await waitFor('no disruptions allowed', async () => (await k(['get', 'pdb', 'web', '-o', 'jsonpath={.status.disruptionsAllowed}'])).stdout === '0', 30_000, 500);
  const pod = (await k(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout;
  const r = await k(['create', '--raw', `/api/v1/namespaces/default/pods/${pod}/eviction`, '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: 'default' } }), reject: false,
  });
  t.not(r.exitCode, 0);
  t.regex(r.stderr, /Cannot evict pod as it would violate the pod's disruption budget|TooManyRequests|429/);
});

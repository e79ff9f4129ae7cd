// Issue 4 end to end: a real controller and three real agents (simulated runtime) driven
// by stock kubectl. Placement (spread, real usage, selectors, affinity, taints, an
// impossible request), failover after SIGKILL and after a clean stop, rolling updates that
// never drop below the desired ready count, cordon/drain, and cascading deletion.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  kubectl, removeDir, startAgent, startController, waitFor,
  type AgentHandle, type ControllerHandle, type Kubectl,
} from '../helpers/processes.js';
import { ClusterApi, type Watch } from './cluster-api.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DEPLOYMENT_YAML = readFileSync(join(ROOT, 'examples', 'deployment.yaml'), 'utf8');

const suffix = randomBytes(3).toString('hex');
const NODES = ['a', 'b', 'c'].map((x) => `fo-${x}-${suffix}`);
const [NODE_A, NODE_B, NODE_C] = NODES as [string, string, string];
/** Every agent reports the same modest load, so real usage does not tip placement by chance. */
const IDLE = { PIKUBE_SIMULATED_USAGE: '0.1,0.1' };
const BUSY = { PIKUBE_SIMULATED_USAGE: '0.95,0.95' };

let ctrl: ControllerHandle;
let k: Kubectl;
let api: ClusterApi;
const agents = new Map<string, AgentHandle>();
const dirs: string[] = [];

interface PodLike {
  metadata: { name: string; namespace?: string; uid: string; labels?: Record<string, string>; deletionTimestamp?: string; ownerReferences?: { kind: string; name: string }[] };
  spec: { nodeName?: string; containers: { image: string }[] };
  status?: { phase?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

async function pods(selector: string, namespace = 'default'): Promise<PodLike[]> {
  return (await api.get<{ items: PodLike[] }>(`/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(selector)}`)).items;
}

const isRunning = (p: PodLike) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp;
const isReady = (p: PodLike) => !p.metadata.deletionTimestamp && !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

function perNode(list: PodLike[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(NODES.map((n) => [n, 0]));
  for (const p of list) if (p.spec.nodeName) out[p.spec.nodeName] = (out[p.spec.nodeName] ?? 0) + 1;
  return out;
}

async function nodeReady(name: string): Promise<string | undefined> {
  const node = await api.get<{ status?: { conditions?: { type: string; status: string }[] } }>(`/api/v1/nodes/${name}`);
  return node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
}

function launchAgent(name: string, env: NodeJS.ProcessEnv, dir?: string): AgentHandle {
  const a = startAgent(ctrl, { nodeName: name, env, ...(dir ? { dir } : {}), args: ['--heartbeat-interval', '1s'] });
  if (!dirs.includes(a.dir)) dirs.push(a.dir);
  agents.set(name, a);
  return a;
}

async function waitAllReady(timeoutMs = 30_000): Promise<void> {
  await waitFor('all three nodes Ready', async () => {
    for (const n of NODES) if ((await nodeReady(n).catch(() => undefined)) !== 'True') return false;
    return true;
  }, timeoutMs);
}

async function waitRunning(selector: string, count: number, what: string, timeoutMs = 60_000, namespace = 'default'): Promise<PodLike[]> {
  return waitFor(what, async () => {
    const list = await pods(selector, namespace);
    const running = list.filter(isRunning);
    return running.length === count && list.length === count ? running : false;
  }, timeoutMs);
}

/** The FailedScheduling message `kubectl describe pod` shows, once there is one. */
async function failedScheduling(pod: string): Promise<string> {
  return waitFor(`FailedScheduling event for ${pod}`, async () => {
    const out = (await k(['describe', 'pod', pod])).stdout;
    const line = out.split('\n').find((l) => l.includes('FailedScheduling'));
    return line ? out : false;
  }, 30_000, 500);
}

function podYaml(name: string, extraSpec: string, requests = 'cpu: 10m\n          memory: 8Mi'): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: { placement: "yes" }
spec:
${extraSpec}
  containers:
    - name: app
      image: localhost/busybox:latest
      command: ["sleep", "3600"]
      resources:
        requests:
          ${requests}
`;
}

test.before(async () => {
  ctrl = await startController({ args: ['--node-monitor-grace-period', '5s', '--default-toleration-seconds', '5'] });
  dirs.push(ctrl.dir);
  k = kubectl(ctrl.kubeconfig);
  dirs.push(k.home);
  api = ClusterApi.forController(ctrl);
  for (const n of NODES) launchAgent(n, IDLE);
  await waitAllReady(60_000);
});

test.after.always(async () => {
  for (const a of agents.values()) await a.kill();
  await ctrl?.kill();
  for (const d of dirs) removeDir(d);
});

test.afterEach.always((t) => {
  if (!t.passed && ctrl) t.log(ctrl.log().split('\n').filter((l) => /"level":(40|50|60)/.test(l)).slice(-30).join('\n'));
});

test.serial('a 6-replica Deployment lands 2/2/2 on three equal nodes', async (t) => {
  await k(['apply', '-f', '-'], { input: DEPLOYMENT_YAML });
  await k(['scale', 'deployment/hello', '--replicas=6']);
  const running = await waitRunning('app=hello', 6, '6 hello replicas Running');
  t.deepEqual(Object.values(perNode(running)).sort(), [2, 2, 2], JSON.stringify(perNode(running)));
});

test.serial('a node whose agent reports high real usage gets fewer replicas than idle ones', async (t) => {
  // Node C now reports 95 % cpu and memory in use, outside any pod's requests.
  await agents.get(NODE_C)!.stop();
  launchAgent(NODE_C, BUSY, agents.get(NODE_C)!.dir);
  await waitFor('node C reports its high usage', async () => {
    const m = await api.call('GET', `/apis/metrics.k8s.io/v1beta1/nodes/${NODE_C}`);
    if (m.status !== 200) return false;
    const cpu = String(m.body.usage?.cpu ?? '');
    return cpu && parseCpu(cpu) > 0.5 * (await cores()) ? true : false;
  }, 30_000, 300);
  await waitAllReady();
  const busy = DEPLOYMENT_YAML.split('---')[0]!.replace(/name: hello/g, 'name: busy-test').replace(/app: hello/g, 'app: busy-test').replace('replicas: 3', 'replicas: 6');
  await k(['apply', '-f', '-'], { input: busy });
  const running = await waitRunning('app=busy-test', 6, '6 busy-test replicas Running');
  const counts = perNode(running);
  t.log(`busy-test placement: ${JSON.stringify(counts)}`);
  t.true(counts[NODE_C]! < counts[NODE_A]! && counts[NODE_C]! < counts[NODE_B]!, JSON.stringify(counts));
  await k(['delete', 'deployment', 'busy-test', '--wait=false']);
  // Back to the same load as the others for the rest of the file.
  await agents.get(NODE_C)!.stop();
  launchAgent(NODE_C, IDLE, agents.get(NODE_C)!.dir);
  await waitAllReady();
  await waitFor('busy-test pods gone', async () => (await pods('app=busy-test')).length === 0, 30_000);
});

function parseCpu(q: string): number {
  if (q.endsWith('n')) return Number(q.slice(0, -1)) / 1e9;
  if (q.endsWith('u')) return Number(q.slice(0, -1)) / 1e6;
  if (q.endsWith('m')) return Number(q.slice(0, -1)) / 1e3;
  return Number(q);
}

async function cores(): Promise<number> {
  const node = await api.get<{ status: { capacity: { cpu: string } } }>(`/api/v1/nodes/${NODE_C}`);
  return parseCpu(node.status.capacity.cpu);
}

test.serial('nodeSelector, node affinity, taints and tolerations place pods as upstream does', async (t) => {
  await k(['apply', '-f', '-'], {
    input: [
      podYaml('sel-b', `  nodeSelector:\n    kubernetes.io/hostname: ${NODE_B}`),
      podYaml('sel-none', '  nodeSelector:\n    disktype: ssd'),
      podYaml('aff-notin', `  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
          - matchExpressions:
              - { key: kubernetes.io/hostname, operator: NotIn, values: [${NODE_A}, ${NODE_B}] }`),
      podYaml('aff-preferred', `  affinity:
    nodeAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
        - weight: 100
          preference:
            matchExpressions:
              - { key: kubernetes.io/hostname, operator: In, values: [${NODE_A}] }`),
    ].join('---\n'),
  });
  const placed = await waitFor('selector and affinity pods placed', async () => {
    const list = await pods('placement=yes');
    const at = Object.fromEntries(list.map((p) => [p.metadata.name, p.spec.nodeName]));
    return at['sel-b'] && at['aff-notin'] && at['aff-preferred'] ? at : false;
  }, 30_000);
  t.is(placed['sel-b'], NODE_B);
  t.is(placed['aff-notin'], NODE_C);
  t.is(placed['aff-preferred'], NODE_A);

  // No node has the label: Pending with upstream's message.
  const noneOut = await failedScheduling('sel-none');
  t.regex(noneOut, /0\/3 nodes are available: 3 node\(s\) didn't match Pod's node affinity\/selector\./);
  const pending = (await pods('placement=yes')).find((p) => p.metadata.name === 'sel-none')!;
  t.is(pending.status?.phase, 'Pending');
  t.like(pending.status?.conditions?.find((c) => c.type === 'PodScheduled'), { status: 'False', reason: 'Unschedulable' });
  // Labelling a node lets the pending pod through: the scheduler retries on node changes.
  await k(['label', 'node', NODE_A, 'disktype=ssd']);
  await waitFor('sel-none bound after the label', async () => (await pods('placement=yes')).find((p) => p.metadata.name === 'sel-none')?.spec.nodeName === NODE_A, 30_000);

  // A NoSchedule taint keeps pods without a toleration off; a toleration lets them on.
  await k(['taint', 'node', NODE_A, 'dedicated=lab:NoSchedule']);
  await k(['apply', '-f', '-'], {
    input: [
      podYaml('taint-no', `  nodeSelector:\n    kubernetes.io/hostname: ${NODE_A}`),
      podYaml('taint-yes', `  nodeSelector:\n    kubernetes.io/hostname: ${NODE_A}\n  tolerations:\n    - { key: dedicated, operator: Equal, value: lab, effect: NoSchedule }`),
    ].join('---\n'),
  });
  const taintOut = await failedScheduling('taint-no');
  t.regex(taintOut, /0\/3 nodes are available: 1 node\(s\) had untolerated taint \{dedicated: lab\}, 2 node\(s\) didn't match Pod's node affinity\/selector\./);
  await waitFor('taint-yes bound on the tainted node', async () => (await pods('placement=yes')).find((p) => p.metadata.name === 'taint-yes')?.spec.nodeName === NODE_A, 30_000);
  // Removing the taint lets the other one through too.
  await k(['taint', 'node', NODE_A, 'dedicated=lab:NoSchedule-']);
  await waitFor('taint-no bound once the taint is gone', async () => (await pods('placement=yes')).find((p) => p.metadata.name === 'taint-no')?.spec.nodeName === NODE_A, 30_000);
  await k(['label', 'node', NODE_A, 'disktype-']);
  await k(['delete', 'pods', '-l', 'placement=yes', '--wait=false']);
});

test.serial('an impossible request stays Pending with the upstream message in kubectl describe', async (t) => {
  await k(['apply', '-f', '-'], { input: podYaml('too-big', '', 'cpu: "1000"\n          memory: 8Mi') });
  const out = await failedScheduling('too-big');
  t.regex(out, /FailedScheduling\s+.*0\/3 nodes are available: 3 Insufficient cpu\./);
  t.regex(out, /Status:\s+Pending/);
  await k(['delete', 'pod', 'too-big', '--wait=false']);
  await waitFor('placement pods gone', async () => (await pods('placement=yes')).length === 0 && (await pods('app=busy-test')).length === 0, 30_000);
});

test.serial('SIGKILL of an agent: NotReady within 7 s, replicas Running elsewhere within 20 s, exactly 6 after it returns', async (t) => {
  const before = perNode(await pods('app=hello'));
  // The node with most hello replicas is the interesting one to lose.
  const victim = NODES.slice().sort((x, y) => before[y]! - before[x]!)[0]!;
  t.true(before[victim]! > 0, JSON.stringify(before));
  const killedAt = Date.now();
  await agents.get(victim)!.kill();

  await waitFor(`${victim} NotReady`, async () => (await nodeReady(victim)) === 'Unknown', 7_000, 100);
  const notReadyMs = Date.now() - killedAt;
  await waitFor('6 hello replicas Running on the surviving nodes', async () => {
    const running = (await pods('app=hello')).filter(isRunning);
    return running.length === 6 && running.every((p) => p.spec.nodeName !== victim);
  }, Math.max(1000, 20_000 - (Date.now() - killedAt)), 200);
  const movedMs = Date.now() - killedAt;
  t.log(`SIGKILL → NotReady ${notReadyMs} ms, → replicas Running elsewhere ${movedMs} ms`);
  const tainted = await api.get<{ spec: { taints?: { key: string; effect: string }[] } }>(`/api/v1/nodes/${victim}`);
  t.true(tainted.spec.taints?.some((x) => x.key === 'node.kubernetes.io/unreachable' && x.effect === 'NoExecute'), JSON.stringify(tainted.spec.taints));

  // It comes back: its stale copies go away, nothing is duplicated.
  launchAgent(victim, IDLE, agents.get(victim)!.dir);
  await waitAllReady();
  await waitFor('the stale copies gone', async () => (await pods('app=hello')).length === 6, 30_000);
  for (let i = 0; i < 10; i++) {
    const list = await pods('app=hello');
    t.is(list.length, 6, `sample ${i}: ${list.length} pods`);
    t.is(list.filter(isRunning).length, 6);
    await new Promise((r) => setTimeout(r, 300));
  }
});

test.serial('a clean agent stop is noticed within 2 s', async (t) => {
  const a = agents.get(NODE_B)!;
  const stoppedAt = Date.now();
  const stopping = a.stop();
  await waitFor(`${NODE_B} NotReady after SIGTERM`, async () => (await nodeReady(NODE_B)) === 'Unknown', 2_000, 50);
  const noticedMs = Date.now() - stoppedAt;
  t.log(`SIGTERM → NotReady ${noticedMs} ms`);
  t.true(noticedMs <= 2_000);
  await stopping;
  launchAgent(NODE_B, IDLE, a.dir);
  await waitAllReady();
  await waitRunning('app=hello', 6, 'hello back to 6 Running');
});

/** Watches hello pods and the Deployment, and remembers the fewest ready replicas seen. */
function readyWatcher(): { minPods: () => number; minDeployment: () => number; events: () => number; stop: () => void; errors: Error[] } {
  const ready = new Map<string, boolean>();
  let minPods = Infinity, minDeployment = Infinity, events = 0, synced = false;
  const errors: Error[] = [];
  const podWatch: Watch = api.watch<PodLike>('/api/v1/namespaces/default/pods?labelSelector=app%3Dhello', (e) => {
    events++;
    if (e.type === 'DELETED') ready.delete(e.object.metadata.uid);
    else ready.set(e.object.metadata.uid, isReady(e.object));
    // The initial ADDED events arrive one by one: count once all six are known.
    if (!synced && [...ready.values()].filter(Boolean).length >= 6) synced = true;
    if (synced) minPods = Math.min(minPods, [...ready.values()].filter(Boolean).length);
  }, (err) => { if (err) errors.push(err); });
  const depWatch: Watch = api.watch('/apis/apps/v1/namespaces/default/deployments?fieldSelector=metadata.name%3Dhello', (e) => {
    if (e.type !== 'DELETED') minDeployment = Math.min(minDeployment, e.object.status?.readyReplicas ?? 0);
  }, (err) => { if (err) errors.push(err); });
  return { minPods: () => minPods, minDeployment: () => minDeployment, events: () => events, errors, stop: () => { podWatch.close(); depWatch.close(); } };
}

async function images(): Promise<string[]> {
  return [...new Set((await pods('app=hello')).filter(isRunning).map((p) => p.spec.containers[0]!.image))];
}

test.serial('set image, rollout status with maxUnavailable 0 never drops below 6 ready; history, undo, restart', async (t) => {
  await k(['patch', 'deployment', 'hello', '--type=merge', '-p', JSON.stringify({ spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 2 } } } })]);
  await waitFor('all 6 hello pods ready', async () => (await pods('app=hello')).filter(isReady).length === 6, 30_000);
  const watcher = readyWatcher();
  try {
    await waitFor('the watcher sees 6 ready pods', () => watcher.minPods() === 6, 10_000, 100);
    await k(['set', 'image', 'deployment/hello', 'hello=localhost/busybox:v2']);
    const status = await k(['rollout', 'status', 'deployment/hello', '--timeout=120s'], { timeoutMs: 130_000 });
    t.regex(status.stdout, /successfully rolled out/);
    await waitFor('only v2 pods', async () => (await images()).join() === 'localhost/busybox:v2' && (await pods('app=hello')).length === 6, 30_000);

    const history = (await k(['rollout', 'history', 'deployment/hello'])).stdout;
    t.regex(history, /^1\s/m);
    t.regex(history, /^2\s/m);

    await k(['rollout', 'undo', 'deployment/hello']);
    await k(['rollout', 'status', 'deployment/hello', '--timeout=120s'], { timeoutMs: 130_000 });
    await waitFor('back to the previous image', async () => (await images()).join() === 'localhost/busybox:latest' && (await pods('app=hello')).length === 6, 30_000);

    const before = new Set((await pods('app=hello')).map((p) => p.metadata.uid));
    await k(['rollout', 'restart', 'deployment/hello']);
    await k(['rollout', 'status', 'deployment/hello', '--timeout=120s'], { timeoutMs: 130_000 });
    await waitFor('every pod replaced by the restart', async () => {
      const list = await pods('app=hello');
      return list.length === 6 && list.every((p) => !before.has(p.metadata.uid) && isRunning(p));
    }, 30_000);
    const dep = await api.get('/apis/apps/v1/namespaces/default/deployments/hello');
    t.truthy(dep.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']);
    t.is(dep.status.observedGeneration, dep.metadata.generation);
    t.like(dep.status.conditions.find((c: { type: string }) => c.type === 'Available'), { status: 'True' });
  } finally {
    watcher.stop();
  }
  t.deepEqual(watcher.errors, []);
  t.log(`ready pods never below ${watcher.minPods()} (deployment readyReplicas never below ${watcher.minDeployment()}) over ${watcher.events()} pod events`);
  t.true(watcher.events() > 20);
  t.true(watcher.minPods() >= 6, `ready pods fell to ${watcher.minPods()}`);
  t.true(watcher.minDeployment() >= 6, `deployment readyReplicas fell to ${watcher.minDeployment()}`);
});

test.serial('cordon keeps new pods off; drain moves them', async (t) => {
  await k(['cordon', NODE_A]);
  const node = await api.get(`/api/v1/nodes/${NODE_A}`);
  t.true(node.spec.unschedulable);
  const onA = new Set((await pods('app=hello')).filter((p) => p.spec.nodeName === NODE_A).map((p) => p.metadata.uid));
  await k(['scale', 'deployment/hello', '--replicas=9']);
  const nine = await waitRunning('app=hello', 9, '9 hello replicas Running');
  for (const p of nine) if (!onA.has(p.metadata.uid)) t.not(p.spec.nodeName, NODE_A, `new pod ${p.metadata.name} landed on the cordoned node`);
  await k(['uncordon', NODE_A]);

  const drain = await k(['drain', NODE_B, '--ignore-daemonsets', '--force', '--delete-emptydir-data', '--timeout=90s'], { timeoutMs: 100_000 });
  t.regex(drain.stdout, /drained/);
  const after = await waitRunning('app=hello', 9, '9 hello replicas Running after the drain');
  t.false(after.some((p) => p.spec.nodeName === NODE_B), JSON.stringify(perNode(after)));
  t.true((await api.get(`/api/v1/nodes/${NODE_B}`)).spec.unschedulable);
  await k(['uncordon', NODE_B]);
});

test.serial('deleting the Deployment removes its ReplicaSets and pods', async (t) => {
  const rs = await api.get<{ items: unknown[] }>('/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dhello');
  t.true(rs.items.length >= 2, 'the rollouts left old ReplicaSets in the history');
  await k(['delete', 'deployment', 'hello']);
  await waitFor('ReplicaSets and pods of hello gone', async () => {
    const left = await api.get<{ items: unknown[] }>('/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dhello');
    return left.items.length === 0 && (await pods('app=hello')).length === 0;
  }, 60_000);
  t.pass();
});

test.serial('deleting a namespace empties it', async (t) => {
  const ns = `lab-${suffix}`;
  await k(['apply', '-f', '-'], { input: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n` });
  await k(['-n', ns, 'apply', '-f', '-'], { input: DEPLOYMENT_YAML.replace('nodePort: 30080', 'nodePort: 30081') });
  await k(['-n', ns, 'apply', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n' });
  await waitRunning('app=hello', 3, `3 hello replicas Running in ${ns}`, 60_000, ns);
  await waitFor(`default ServiceAccount in ${ns}`, async () => (await api.call('GET', `/api/v1/namespaces/${ns}/serviceaccounts/default`)).status === 200, 30_000);

  await k(['delete', 'namespace', ns, '--wait=false']);
  await waitFor(`namespace ${ns} gone`, async () => (await api.call('GET', `/api/v1/namespaces/${ns}`)).status === 404, 90_000, 500);
  for (const path of [`/api/v1/namespaces/${ns}/pods`, `/apis/apps/v1/namespaces/${ns}/deployments`, `/apis/apps/v1/namespaces/${ns}/replicasets`, `/api/v1/namespaces/${ns}/configmaps`, `/api/v1/namespaces/${ns}/services`, `/api/v1/namespaces/${ns}/serviceaccounts`]) {
    const list = await api.get<{ items: unknown[] }>(path);
    t.is(list.items.length, 0, `${path} still has ${list.items.length}`);
  }
});

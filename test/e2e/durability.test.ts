// Durability of the control plane's store, with real processes: a controller SIGKILLed
// in the middle of 500 concurrent creates keeps every object it answered 201 for, its
// resourceVersions keep rising after the restart, and a cluster at rest (a node
// reporting, pods running) makes its controller write nothing.
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { kubectl, removeDir, startAgent, startController, waitFor, type ControllerHandle } from '../helpers/processes.js';
import { ApiClient, runConcurrently } from '../helpers/api-client.js';

const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples');
const cleanups: (() => Promise<void> | void)[] = [];

test.after.always(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function controller(): Promise<{ current: ControllerHandle }> {
  const ref = { current: await startController() };
  cleanups.push(async () => { await ref.current.kill(); removeDir(ref.current.dir); });
  return ref;
}

interface Acked { name: string; uid: string; rv: number }

test('SIGKILL during 500 concurrent creates loses nothing that was acknowledged', async (t) => {
  const ctrl = await controller();
  let maxRvSeen = 0;
  // Two crashes at different points of the burst.
  for (const [round, killAfter] of [[1, 120], [2, 300]] as const) {
    const api = new ApiClient(ctrl.current.kubeconfig, { maxSockets: 50 });
    const acked: Acked[] = [];
    let failed = 0;
    let killing: Promise<void> | undefined;
    await runConcurrently(500, 50, async (i) => {
      const name = `crash-${round}-${i}`;
      try {
        const r = await api.post('/api/v1/namespaces/default/configmaps', {
          apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { round: String(round) } }, data: { i: String(i), pad: 'p'.repeat(200) },
        }, { timeoutMs: 30_000 });
        if (r.status !== 201) { failed++; return; }
        acked.push({ name, uid: r.body.metadata.uid, rv: Number(r.body.metadata.resourceVersion) });
        if (acked.length === killAfter) killing = ctrl.current.kill();
      } catch {
        failed++;
      }
    });
    await killing;
    api.close();
    t.true(killing !== undefined, `round ${round}: the kill happened`);
    t.true(failed > 0, `round ${round}: the kill interrupted the burst (${acked.length} acknowledged)`);
    t.true(acked.length >= killAfter && acked.length < 500);

    ctrl.current = await ctrl.current.restart();
    const after = new ApiClient(ctrl.current.kubeconfig);
    try {
      const list = await after.get(`/api/v1/namespaces/default/configmaps?labelSelector=round%3D${round}`);
      t.is(list.status, 200);
      const stored = new Map<string, { uid: string; rv: number }>();
      for (const o of list.body.items as { metadata: { name: string; uid: string; resourceVersion: string } }[]) {
        stored.set(o.metadata.name, { uid: o.metadata.uid, rv: Number(o.metadata.resourceVersion) });
      }
      const lost = acked.filter((a) => stored.get(a.name)?.uid !== a.uid);
      t.deepEqual(lost, [], `round ${round}: ${lost.length} of ${acked.length} acknowledged creates lost`);
      for (const a of acked) t.is(stored.get(a.name)!.rv, a.rv);
      t.true(stored.size >= acked.length);

      maxRvSeen = Math.max(maxRvSeen, ...acked.map((a) => a.rv), ...[...stored.values()].map((s) => s.rv));
      const next = await after.post('/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `after-crash-${round}` } });
      t.is(next.status, 201, next.text);
      const nextRv = Number(next.body.metadata.resourceVersion);
      t.true(nextRv > maxRvSeen, `round ${round}: new resourceVersion ${nextRv} > ${maxRvSeen}`);
      t.true(Number(list.body.metadata.resourceVersion) < nextRv);
      maxRvSeen = nextRv;
    } finally {
      after.close();
    }
  }
});

/** size and mtime of every file and directory under `dir`, logs aside. */
function fileState(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.name.endsWith('.log') && e.name.startsWith('controller')) continue;
      const st = statSync(p);
      out.set(p, `${st.size}@${st.mtimeMs}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

test('an idle controller writes nothing to its data directory for 60 s', async (t) => {
  t.timeout(170_000);
  const ctrl = await controller();
  const k = kubectl(ctrl.current.kubeconfig);
  cleanups.push(() => removeDir(k.home));
  // A cluster at rest: one node (simulated runtime) whose agent keeps reporting status
  // and usage, the example deployment running on it, its service, a configmap.
  const nodeName = `idle-${Math.random().toString(36).slice(2, 8)}`;
  const agent = startAgent(ctrl.current, { nodeName, runtime: 'simulated' });
  cleanups.push(async () => { await agent.kill(); removeDir(agent.dir); });
  await waitFor(`node ${nodeName} Ready`, async () => (await k(['get', 'node', nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'], { reject: false })).stdout === 'True', 60_000, 500);
  await k(['apply', '-f', join(EXAMPLES, 'deployment.yaml')]);
  await k(['create', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: "1"\n' });
  await waitFor('the deployment available', async () => (await k(['get', 'deploy', 'hello', '-o', 'jsonpath={.status.availableReplicas}'])).stdout === '3', 90_000, 500);

  // Settle: the last status reports and controller passes after the rollout.
  let stable = fileState(ctrl.current.dir);
  let stableSince = Date.now();
  await waitFor('the data directory to settle', () => {
    const now = fileState(ctrl.current.dir);
    if (JSON.stringify([...now]) !== JSON.stringify([...stable])) { stable = now; stableSince = Date.now(); }
    return Date.now() - stableSince >= 5_000;
  }, 30_000, 500);

  const markerDir = mkdtempSync(join(tmpdir(), 'pikube-idle-'));
  cleanups.push(() => removeDir(markerDir));
  const marker = join(markerDir, 'marker');
  writeFileSync(marker, '');
  const before = fileState(ctrl.current.dir);
  t.true([...before.keys()].some((p) => p.endsWith('/store/store.log')), 'the store lives in the data directory');
  await new Promise((r) => setTimeout(r, 60_000));

  t.is(ctrl.current.child.exitCode, null, 'the controller is still running');
  t.is(agent.child.exitCode, null, 'the agent is still running');
  const newer = (await execa('find', [ctrl.current.dir, '-newer', marker, '!', '-name', 'controller*.log'])).stdout.trim();
  t.is(newer, '', `written during the idle minute:\n${newer}\nlast log records:\n${tailOfLog(ctrl.current.dir)}`);
  t.deepEqual([...fileState(ctrl.current.dir)], [...before]);
  // Idle means idle, not stuck: the node is still Ready and the pods still Running.
  t.is((await k(['get', 'node', nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout, 'True');
  t.regex((await k(['get', 'pods', '-l', 'app=hello'])).stdout, /^hello-\S+\s+1\/1\s+Running/m);
});

function tailOfLog(dir: string): string {
  const log = readFileSync(join(dir, 'store', 'store.log'), 'utf8').trim().split('\n');
  return log.slice(-5).map((l) => l.slice(0, 300)).join('\n');
}

// Start-up times with real processes of the compiled CLI:
//  - controller start → ready: from spawning `pikube controller` to /readyz answering 200
//    with the kubeconfig written; a first start (fresh data directory: PKI, tokens, store)
//    and restarts on the same directory are reported apart;
//  - agent start → node Ready: from spawning `pikube agent --runtime simulated` to a watch
//    on Nodes showing its Ready condition True; a first join (join token exchange, Node
//    created) and a restart with saved credentials after the node went NotReady;
//  - `pikube up --runtime simulated`: spawn → API ready, and → its own node Ready.
// The bare `node` start-up is measured too, as the floor under both.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readFileSync, closeSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CLI, freePort, removeDir, startController, waitFor } from '../test/helpers/processes.js';
import { ApiClient, percentile } from '../test/helpers/api-client.js';
import { openWatch } from './api-bench.js';
import type { Metric } from './metric.js';

interface Started { child: ChildProcess; exited: Promise<unknown>; logPath: string }

function launch(args: string[], logPath: string): Started {
  const fd = openSync(logPath, 'a');
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise((r) => child.once('exit', r));
  return { child, exited, logPath };
}

async function kill(p: Started): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await p.exited;
}

/** GET without verifying the (self-signed) certificate; the status code, 0 on failure. */
function statusOf(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { rejectUnauthorized: false, agent: false, timeout: 1000 }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', () => resolve(0));
    req.on('timeout', () => { req.destroy(); resolve(0); });
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Two free ports; freePort() can hand out the same one twice in a row. */
async function twoPorts(): Promise<[number, number]> {
  const a = await freePort();
  let b = await freePort();
  while (b === a) b = await freePort();
  return [a, b];
}

/** Spawns a controller on `dir` and resolves with ms until it is ready, and the process. */
async function timeController(dir: string): Promise<{ ms: number; proc: Started; apiPort: number }> {
  const [apiPort, mqttPort] = await twoPorts();
  const t0 = performance.now();
  const proc = launch(['controller', '--data-dir', dir, '--api-listen', `127.0.0.1:${apiPort}`, '--mqtt-listen', `127.0.0.1:${mqttPort}`, '--mqtt-tls-listen', '127.0.0.1:0'], join(dir, 'controller.log'));
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`controller exited: ${readFileSync(proc.logPath, 'utf8').slice(-2000)}`);
    if (existsSync(join(dir, 'kubeconfig')) && (await statusOf(`https://127.0.0.1:${apiPort}/readyz`)) === 200) break;
    if (performance.now() - t0 > 30_000) throw new Error('controller not ready within 30 s');
    await sleep(5);
  }
  return { ms: performance.now() - t0, proc, apiPort };
}

/** ms from spawning `node -e ''` to its exit: what any Node program pays first. */
async function bareNodeMs(): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((r) => child.once('exit', r));
  return performance.now() - t0;
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => percentile(sorted(xs), 50);
const max = (xs: number[]) => Math.max(...xs);
const list = (xs: number[]) => xs.map((x) => Math.round(x)).join(', ');

export async function benchControllerStartup(o: { repetitions: number }): Promise<Metric[]> {
  const first: number[] = [];
  const restart: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < o.repetitions; i++) bare.push(await bareNodeMs());
  for (let i = 0; i < o.repetitions; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'pikube-bench-start-'));
    try {
      const a = await timeController(dir);
      first.push(a.ms);
      await kill(a.proc);
      const b = await timeController(dir);
      restart.push(b.ms);
      await kill(b.proc);
    } finally {
      removeDir(dir);
    }
  }
  const goal = { op: '<=' as const, value: 1000 };
  return [
    { metric: 'controller_first_start_ms', value: median(first), unit: 'ms', goal, note: `median of ${o.repetitions} (${list(first)}): spawn → /readyz 200 and kubeconfig written, fresh data dir (PKI generated)` },
    { metric: 'controller_first_start_max_ms', value: max(first), unit: 'ms', goal },
    { metric: 'controller_restart_ms', value: median(restart), unit: 'ms', goal, note: `median of ${o.repetitions} (${list(restart)}): same data dir after SIGKILL` },
    { metric: 'controller_restart_max_ms', value: max(restart), unit: 'ms', goal },
    { metric: 'node_bare_start_ms', value: median(bare), unit: 'ms', note: "spawn → exit of `node -e ''`: the floor under every start" },
  ];
}

interface NodeEvent { type: string; object: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } } }

function isReady(o: NodeEvent['object']): boolean {
  return !!o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

export async function benchAgentStartup(o: { repetitions: number }): Promise<Metric[]> {
  // a short grace period, so a killed agent's node turns NotReady quickly before its restart
  const ctrl = await startController({ args: ['--node-monitor-grace-period', '2s'] });
  const api = new ApiClient(ctrl.kubeconfig, { maxSockets: 2 });
  const ready = new Map<string, boolean>();
  const becameReady = new Map<string, (t: number) => void>();
  const rv = (await api.get('/api/v1/nodes')).body.metadata.resourceVersion as string;
  const watch = await openWatch(api, `/api/v1/nodes?watch=true&resourceVersion=${rv}`, (e) => {
    const n = e.object as NodeEvent['object'];
    const now = isReady(n) && e.type !== 'DELETED';
    ready.set(n.metadata.name, now);
    if (now) becameReady.get(n.metadata.name)?.(performance.now());
  });
  const agents: { proc: Started; dir: string }[] = [];
  const startAgentTimed = async (node: string, dir: string): Promise<{ ms: number; proc: Started }> => {
    const seen = new Promise<number>((r) => becameReady.set(node, r));
    const t0 = performance.now();
    const proc = launch(['agent', '--node-name', node, '--mqtt-url', ctrl.mqttUrl, '--join-token', ctrl.joinToken, '--data-dir', dir, '--runtime', 'simulated'], join(dir, 'agent.log'));
    agents.push({ proc, dir });
    const timeout = sleep(30_000).then(() => { throw new Error(`node ${node} not Ready within 30 s: ${readFileSync(join(dir, 'agent.log'), 'utf8').slice(-2000)}`); });
    const at = await Promise.race([seen, timeout]);
    becameReady.delete(node);
    return { ms: at - t0, proc };
  };
  const first: number[] = [];
  const restart: number[] = [];
  try {
    for (let i = 0; i < o.repetitions; i++) {
      const node = `bench-start-${randomBytes(3).toString('hex')}`;
      const dir = mkdtempSync(join(tmpdir(), `pikube-bench-agent-${node}-`));
      const a = await startAgentTimed(node, dir);
      first.push(a.ms);
      await kill(a.proc);
      await waitFor(`${node} NotReady after its agent was killed`, () => ready.get(node) === false, 30_000, 20);
      const b = await startAgentTimed(node, dir);
      restart.push(b.ms);
      await kill(b.proc);
    }
  } finally {
    watch.close();
    api.close();
    for (const a of agents) { await kill(a.proc); removeDir(a.dir); }
    await ctrl.kill();
    removeDir(ctrl.dir);
  }
  const goal = { op: '<=' as const, value: 2000 };
  return [
    { metric: 'agent_first_join_ready_ms', value: median(first), unit: 'ms', goal, note: `median of ${o.repetitions} (${list(first)}): spawn (simulated runtime, join token) → Node Ready seen by a watch` },
    { metric: 'agent_first_join_ready_max_ms', value: max(first), unit: 'ms', goal },
    { metric: 'agent_restart_ready_ms', value: median(restart), unit: 'ms', goal, note: `median of ${o.repetitions} (${list(restart)}): saved credentials, node NotReady before → Ready` },
    { metric: 'agent_restart_ready_max_ms', value: max(restart), unit: 'ms', goal },
  ];
}

/** `pikube up --runtime simulated` on a fresh data dir: spawn → API ready, and → its node Ready. */
export async function benchUpStartup(o: { repetitions: number }): Promise<Metric[]> {
  const apiReady: number[] = [];
  const nodeReady: number[] = [];
  for (let i = 0; i < o.repetitions; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'pikube-bench-up-'));
    const node = `bench-up-${randomBytes(3).toString('hex')}`;
    const [apiPort, mqttPort] = await twoPorts();
    const t0 = performance.now();
    const proc = launch(['up', '--runtime', 'simulated', '--node-name', node, '--data-dir', dir, '--api-listen', `127.0.0.1:${apiPort}`, '--mqtt-listen', `127.0.0.1:${mqttPort}`, '--mqtt-tls-listen', '127.0.0.1:0'], join(dir, '..', `${node}.log`));
    let api: ApiClient | undefined;
    try {
      for (;;) {
        if (proc.child.exitCode !== null) throw new Error(`pikube up exited: ${readFileSync(proc.logPath, 'utf8').slice(-2000)}`);
        if (existsSync(join(dir, 'kubeconfig')) && (await statusOf(`https://127.0.0.1:${apiPort}/readyz`)) === 200) break;
        if (performance.now() - t0 > 30_000) throw new Error('pikube up: API not ready within 30 s');
        await sleep(5);
      }
      apiReady.push(performance.now() - t0);
      api = new ApiClient(join(dir, 'kubeconfig'), { maxSockets: 1 });
      const client = api;
      await waitFor(`${node} Ready`, async () => {
        const r = await client.get(`/api/v1/nodes/${node}`);
        return r.status === 200 && isReady(r.body);
      }, 30_000, 5);
      nodeReady.push(performance.now() - t0);
    } finally {
      api?.close();
      await kill(proc);
      removeDir(dir);
      removeDir(proc.logPath);
    }
  }
  return [
    { metric: 'up_api_ready_ms', value: median(apiReady), unit: 'ms', goal: { op: '<=', value: 1000 }, note: `median of ${o.repetitions} (${list(apiReady)}): \`pikube up --runtime simulated\`, fresh data dir, spawn → /readyz 200 and kubeconfig` },
    { metric: 'up_node_ready_ms', value: median(nodeReady), unit: 'ms', goal: { op: '<=', value: 3000 }, note: `median of ${o.repetitions} (${list(nodeReady)}): spawn → its node Ready (polled every 5 ms); goal = the two budgets added` },
  ];
}

export async function benchStartup(o: { repetitions: number }): Promise<Metric[]> {
  return [...(await benchControllerStartup(o)), ...(await benchAgentStartup(o)), ...(await benchUpStartup(o))];
}

// The pieces of the scheduling benchmarks: a real controller process, a fleet of hollow
// nodes (real Agent objects with the simulated runtime, each with its own MQTT connection,
// join, credentials and data dir, all in this process, like kubemark), a pod watch that
// records when each pod is first seen Running, and /proc readings of a process.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { Agent } from '../agent/agent.js';
import { ApiClient, runConcurrently } from '../test/helpers/api-client.js';
import { unitNodeOptions } from '../test/helpers/units.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.js');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface BenchController {
  pid: number;
  dir: string;
  api: ApiClient;
  mqttUrl: string;
  joinToken: string;
  kubeconfig: string;
  kill(): Promise<void>;
}

function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** `pikube controller` on free loopback ports in `dir`, ready to serve. */
export async function startBenchController(dir: string, args: string[] = []): Promise<BenchController> {
  // BENCH_CONTROLLER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the controller;
  // BENCH_CONTROLLER_STOP=term then ends it with SIGTERM so that the profile gets written.
  const nodeArgs = (process.env.BENCH_CONTROLLER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // It runs with its unit's NODE_OPTIONS, as on the control-plane Pi; BENCH_CONTROLLER_NODE_OPTIONS replaces them.
  const nodeOptions = process.env.BENCH_CONTROLLER_NODE_OPTIONS ?? unitNodeOptions('pikube-controller.service');
  mkdirSync(dir, { recursive: true });
  const apiPort = await freePort();
  const mqttPort = await freePort();
  const log = openSync(join(dir, 'controller.log'), 'a');
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'controller', '--data-dir', dir, '--api-listen', `127.0.0.1:${apiPort}`, '--mqtt-listen', `127.0.0.1:${mqttPort}`, '--mqtt-tls-listen', '127.0.0.1:0', ...args], { stdio: ['ignore', log, log], env: { ...process.env, NODE_OPTIONS: nodeOptions } });
  const kubeconfig = join(dir, 'kubeconfig');
  await until('the controller', async () => {
    if (child.exitCode !== null) throw new Error(`controller exited: ${readFileSync(join(dir, 'controller.log'), 'utf8').slice(-2000)}`);
    if (!existsSync(kubeconfig)) return false;
    const api = new ApiClient(kubeconfig);
    try {
      return (await api.get('/readyz', { timeoutMs: 2000 }).catch(() => undefined))?.status === 200;
    } finally {
      api.close();
    }
  }, 30_000, 200);
  const api = new ApiClient(kubeconfig);
  return {
    pid: child.pid!, dir, kubeconfig, api,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    joinToken: readFileSync(join(dir, 'join-token'), 'utf8').trim(),
    async kill() {
      api.close();
      if (child.exitCode === null && child.signalCode === null) child.kill(process.env.BENCH_CONTROLLER_STOP === 'term' ? 'SIGTERM' : 'SIGKILL');
      await exitOf(child);
    },
  };
}

/** A real `pikube agent --runtime simulated` process: the node that is SIGKILLed. */
export function startAgentProcess(ctrl: BenchController, nodeName: string, dir: string): { kill(): Promise<void> } {
  mkdirSync(dir, { recursive: true });
  const log = openSync(join(dir, 'agent.log'), 'a');
  const child = spawn(process.execPath, [CLI, 'agent', '--node-name', nodeName, '--mqtt-url', ctrl.mqttUrl, '--join-token', ctrl.joinToken, '--data-dir', dir, '--runtime', 'simulated', '--heartbeat-interval', '1s'], { stdio: ['ignore', log, log] });
  return {
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exitOf(child);
    },
  };
}

export interface HollowFleet { names: string[]; stop(): Promise<void> }

/** `count` hollow nodes against `ctrl`, joined and connected; warnings go to `dir`/hollow.log. */
export async function startHollowNodes(ctrl: BenchController, count: number, dir: string, heartbeatMs = 5000, prefix = 'hollow'): Promise<HollowFleet> {
  mkdirSync(dir, { recursive: true });
  const log: Logger = pino({ level: 'warn' }, pino.destination({ dest: join(dir, 'hollow.log'), sync: false }));
  const agents: Agent[] = [];
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);
  await runConcurrently(count, 10, async (i) => {
    const nodeName = names[i]!;
    const agent = new Agent({
      nodeName, mqttUrl: ctrl.mqttUrl, joinToken: ctrl.joinToken, dataDir: join(dir, nodeName), runtime: 'simulated',
      baseTopic: 'pikube', heartbeatMs, log: log.child({ node: nodeName }),
    });
    agents.push(agent);
    await agent.start();
  });
  return {
    names,
    async stop() {
      await Promise.all(agents.map((a) => a.stop().catch(() => undefined)));
      log.flush();
    },
  };
}

/** Records, per pod name, when the watch first reported it Running (performance.now()). */
export class RunningWatch {
  readonly runningAt = new Map<string, number>();
  private req?: ReturnType<typeof request>;
  private waiters: { count: number; resolve: () => void }[] = [];

  constructor(private readonly api: ApiClient, private readonly labelSelector: string) {}

  async start(): Promise<void> {
    const list = await this.api.get(`/api/v1/pods?labelSelector=${encodeURIComponent(this.labelSelector)}`);
    const rv = list.body.metadata.resourceVersion as string;
    const url = new URL(this.api.access.server);
    await new Promise<void>((resolve, reject) => {
      this.req = request({
        host: url.hostname, port: url.port, method: 'GET', ca: this.api.access.ca,
        path: `/api/v1/pods?watch=1&resourceVersion=${rv}&labelSelector=${encodeURIComponent(this.labelSelector)}`,
        headers: { Authorization: `Bearer ${this.api.access.token}` },
      }, (res) => {
        if (res.statusCode !== 200) { reject(new Error(`watch: ${res.statusCode}`)); return; }
        resolve();
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            if (line.trim()) this.onEvent(JSON.parse(line));
          }
        });
      });
      this.req.on('error', reject);
      this.req.end();
    });
  }

  private onEvent(e: { type: string; object: { metadata: { name: string; namespace: string }; status?: { phase?: string } } }): void {
    if (e.type === 'DELETED' || e.object.status?.phase !== 'Running') return;
    const key = `${e.object.metadata.namespace}/${e.object.metadata.name}`;
    if (this.runningAt.has(key)) return;
    this.runningAt.set(key, performance.now());
    this.waiters = this.waiters.filter((w) => (this.runningAt.size >= w.count ? (w.resolve(), false) : true));
  }

  /** Resolves once `count` pods have been seen Running. */
  whenRunning(count: number, timeoutMs: number): Promise<void> {
    if (this.runningAt.size >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.runningAt.size} of ${count} pods Running after ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ count, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }

  close(): void { this.req?.destroy(); }
}

export function benchPod(name: string, labels: Record<string, string>): object {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, labels },
    spec: { containers: [{ name: 'app', image: 'registry.lan/app:1.0', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
  };
}

export async function createPod(api: ApiClient, namespace: string, pod: object): Promise<void> {
  const r = await api.post(`/api/v1/namespaces/${namespace}/pods`, pod);
  if (r.status !== 201) throw new Error(`create pod: ${r.status} ${r.text.slice(0, 300)}`);
}

const CLOCK_TICKS = 100;

/** CPU seconds (user+system) a process has used, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Resident set size in bytes, from /proc/<pid>/status. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export function benchDir(name: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `pikube-bench-${name}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

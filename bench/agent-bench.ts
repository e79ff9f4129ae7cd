// The agent's benchmarks, with a real controller (embedded broker) and a real agent process:
//  - pod start through podman: create → Running seen by a watcher, against a bare
//    `podman run -d` of the same container with the flags the driver settled on;
//  - the control plane's share: create → the node's desired set on MQTT (a probe
//    subscriber with the controller's credentials, a peer of the agent on the broker);
//  - agent RSS with 10 running pods, idle CPU over 60 s from /proc/<pid>/stat (its own
//    and that of the runtime CLIs it spawns), and the MQTT traffic of an idle node.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PodmanRuntime, SPARE_OWNER_LABEL } from '../agent/runtime/podman.js';
import { MqttLink } from '../protocol/mqtt/link.js';
import { Topics } from '../protocol/mqtt/topics.js';
import { ensureBusyboxImage, BUSYBOX_IMAGE } from '../test/helpers/podman-image.js';
import { removeDir, startAgent, startController, waitFor, type AgentHandle, type ControllerHandle } from '../test/helpers/processes.js';
import { ApiClient, percentile } from '../test/helpers/api-client.js';
import { openWatch } from './api-bench.js';
import { unitNodeOptions } from '../test/helpers/units.js';
import { agentV8Flags } from '../cli/v8-flags.js';
import type { Metric } from './metric.js';

/**
 * The agent runs with the NODE_OPTIONS of its systemd unit, as on a board;
 * BENCH_AGENT_NODE_OPTIONS replaces them (e.g. "" to compare with V8's defaults).
 */
export const AGENT_NODE_OPTIONS = process.env.BENCH_AGENT_NODE_OPTIONS ?? unitNodeOptions('pikube-agent.service');

/** What `pikube agent` sets for itself (cli/v8-flags.ts), as the bench's agents inherit this environment. */
const v8Flags = () => agentV8Flags().join(' ') || 'none';

const CLK_TCK = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface WatchedPod { object: { metadata: { name: string }; status?: { phase?: string; containerStatuses?: { state?: { running?: unknown } }[] } } }

function isRunning(p: WatchedPod['object']): boolean {
  const cs = p.status?.containerStatuses ?? [];
  return p.status?.phase === 'Running' && cs.length > 0 && cs.every((c) => c.state?.running);
}

/** utime, stime, cutime, cstime of a process, in clock ticks. */
export function cpuTicks(pid: number): { own: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields 14..17 of proc(5), counted from the state field (3) here
  return { own: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) };
}

/**
 * utime+stime of the live children of a process (a long-lived event stream shows up in
 * the parent's cutime only once it exits, so it is counted here while it runs).
 */
export function liveChildTicks(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === pid) out.set(Number(entry), Number(f[11]) + Number(f[12]));
    } catch { /* gone meanwhile */ }
  }
  return out;
}

/** Ticks the live children used between two readings; one that exited is in cutime by then. */
function liveDelta(before: Map<number, number>, after: Map<number, number>): number {
  let d = 0;
  for (const [p, t] of after) d += t - (before.get(p) ?? 0);
  for (const [p, t] of before) if (!after.has(p)) d -= t;
  return d;
}

/** A field of /proc/PID/status in MB (VmRSS, RssAnon, RssFile). */
function statusMb(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function rssMb(pid: number): number {
  return statusMb(pid, 'VmRSS');
}

/** VmRSS of a bare `node` that only waits: the floor under any Node.js agent on this host. */
async function bareNodeRssMb(): Promise<number> {
  const child = execa(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']);
  try {
    await sleep(1000);
    return rssMb(child.pid!);
  } finally {
    child.kill('SIGKILL');
    await child.catch(() => undefined);
  }
}

function sleeperPod(name: string, node: string): object {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { bench: 'agent' } },
    spec: {
      nodeSelector: { 'kubernetes.io/hostname': node },
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'main', image: BUSYBOX_IMAGE, imagePullPolicy: 'Never', command: ['/bin/sleep', '3600'] }],
    },
  };
}

export interface Cluster { ctrl: ControllerHandle; agent: AgentHandle; api: ApiClient; node: string; probe: MqttLink; topics: Topics }

/** A controller and one agent of `runtime`; `env` for both processes (e.g. a log level). */
export async function withCluster<T>(runtime: string, fn: (c: Cluster) => Promise<T>, env: NodeJS.ProcessEnv = {}, agentArgs: string[] = []): Promise<T> {
  const ctrl = await startController({ env });
  const node = `bench-${runtime}-${randomBytes(3).toString('hex')}`;
  const agent = startAgent(ctrl, { nodeName: node, runtime, env: { ...env, NODE_OPTIONS: AGENT_NODE_OPTIONS }, args: agentArgs });
  const api = new ApiClient(ctrl.kubeconfig, { maxSockets: 4 });
  const topics = new Topics();
  const probe = new MqttLink({ url: ctrl.mqttUrl, clientId: `bench-probe-${node}`, username: 'pikube-controller', password: readFileSync(join(ctrl.dir, 'mqtt-controller-password'), 'utf8').trim() });
  try {
    await probe.start({ timeoutMs: 10_000 });
    await waitFor(`node ${node} Ready`, async () => {
      const r = await api.get(`/api/v1/nodes/${node}`);
      return r.status === 200 && (r.body as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    }, 60_000, 200);
    return await fn({ ctrl, agent, api, node, probe, topics });
  } finally {
    await probe.end().catch(() => undefined);
    api.close();
    await agent.kill();
    await ctrl.kill();
    await removePodmanNode(node);
    removeDir(ctrl.dir);
    removeDir(agent.dir);
  }
}

async function removePodmanNode(node: string): Promise<void> {
  const ids = (await execa('podman', ['ps', '-aq', '--filter', `label=pikube.io/node=${node}`], { reject: false })).stdout.split('\n').filter(Boolean);
  if (ids.length) await execa('podman', ['rm', '-f', '-t', '0', ...ids], { reject: false });
  const pods: string[] = [];
  for (const label of [`pikube.io/node=${node}`, `${SPARE_OWNER_LABEL}=${node}`]) {
    pods.push(...(await execa('podman', ['pod', 'ps', '-q', '--filter', `label=${label}`], { reject: false })).stdout.split('\n').filter(Boolean));
  }
  if (pods.length) await execa('podman', ['pod', 'rm', '-f', '-t', '0', ...pods], { reject: false });
}

/** One created pod's marks, in wall-clock ms (fractional): created, desired set on MQTT, Running seen by a watcher. */
export interface PodWindow { name: string; created: number; delivered?: number; running?: number }

/** Wall-clock now with sub-millisecond precision, comparable with the processes' log times. */
const wallNow = () => performance.timeOrigin + performance.now();

/** Creates pods one at a time, each once the one before is Running (and `pauseMs` more), and marks each one's window. */
export async function createOneByOne(c: Cluster, names: string[], pauseMs = 0): Promise<PodWindow[]> {
  const windows = new Map<string, PodWindow>();
  await c.probe.subscribe(c.topics.pods(c.node), (_t, payload) => {
    const now = wallNow();
    const set = JSON.parse(payload.toString()) as { pods: { pod: { metadata: { name: string } } }[] };
    for (const p of set.pods) {
      const w = windows.get(p.pod.metadata.name);
      if (w && w.delivered === undefined) w.delivered = now;
    }
  });
  const list = await c.api.get('/api/v1/namespaces/default/pods');
  const rv = (list.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  const watch = await openWatch(c.api, `/api/v1/namespaces/default/pods?watch=true&resourceVersion=${rv}`, (ev) => {
    const o = ev.object as WatchedPod['object'];
    const w = windows.get(o.metadata.name);
    if (w && w.running === undefined && isRunning(o)) w.running = wallNow();
  });
  try {
    for (const name of names) {
      if (pauseMs > 0 && windows.size > 0) await sleep(pauseMs);
      const w: PodWindow = { name, created: wallNow() };
      windows.set(name, w);
      const r = await c.api.post('/api/v1/namespaces/default/pods', sleeperPod(name, c.node));
      if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${r.text}`);
      await waitFor(`${name} Running`, () => w.running !== undefined, 120_000, 5);
    }
  } finally {
    watch.close();
  }
  return names.map((n) => windows.get(n)!);
}

/** Creates pods one at a time; per pod: ms until the desired set carries it, and until a watcher sees it Running. */
async function createAndTime(c: Cluster, names: string[], pauseMs = 0): Promise<{ delivered: number[]; running: number[] }> {
  const windows = await createOneByOne(c, names, pauseMs);
  return {
    delivered: windows.map((w) => (w.delivered === undefined ? NaN : w.delivered - w.created)),
    running: windows.map((w) => w.running! - w.created),
  };
}

/** `podman run -d` of the same container, with the flags the driver settled on on this host. */
async function bareRuns(count: number): Promise<number[]> {
  const rt = new PodmanRuntime();
  const name = `bench-bare-${randomBytes(3).toString('hex')}`;
  // one driver run makes it adapt (ulimits, OCI runtime) exactly as the agent's does
  await rt.run({ name: `${name}-warm`, image: BUSYBOX_IMAGE, pullPolicy: 'Never', env: {}, labels: {}, mounts: [], command: ['/bin/true'] }).catch(() => undefined);
  await rt.remove(`${name}-warm`).catch(() => undefined);
  const a = rt.adaptations;
  const global = a.ociRuntime ? ['--runtime', a.ociRuntime] : [];
  const ulimits = (a.ulimits ?? []).flatMap((u) => ['--ulimit', u]);
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await execa('podman', [...global, 'run', '-d', '--name', `${name}-${i}`, '--pull', 'never', ...ulimits, BUSYBOX_IMAGE, '/bin/sleep', '3600']);
      times.push(performance.now() - t0);
    }
  } finally {
    const ids = Array.from({ length: count }, (_, i) => `${name}-${i}`);
    await execa('podman', ['rm', '-f', '-t', '0', ...ids], { reject: false });
  }
  return times;
}

function median(xs: number[]): number {
  return percentile([...xs].sort((a, b) => a - b), 50);
}

/** The pause between pods with a spare sandbox pool; BENCH_SPARE_PAUSE_MS=0 measures back-to-back starts. */
const SPARE_PAUSE_MS = Number(process.env['BENCH_SPARE_PAUSE_MS'] ?? 2000);

/** Pod start against bare podman, and create → desired set on MQTT. */
export async function benchPodStart(o: { pods: number; deliveries: number }): Promise<Metric[]> {
  await ensureBusyboxImage();
  const podStart = await withCluster('podman', async (c) => {
    await createAndTime(c, ['warm-0']); // first pod pays for image and driver adaptation
    return createAndTime(c, Array.from({ length: o.pods }, (_, i) => `start-${i}`));
  });
  // A node at rest, as when someone applies a manifest: the spare taken by one pod is back
  // before the next is created (a spare is made in well under SPARE_PAUSE_MS here).
  const spares = await withCluster('podman', async (c) => {
    await createAndTime(c, ['warm-0']);
    return createAndTime(c, Array.from({ length: o.pods }, (_, i) => `spare-${i}`), SPARE_PAUSE_MS);
  }, {}, ['--sandbox-pool', '1']);
  const bare = await bareRuns(o.pods);
  const delivery = await withCluster('simulated', async (c) => {
    await createAndTime(c, ['warm-0', 'warm-1']);
    return createAndTime(c, Array.from({ length: o.deliveries }, (_, i) => `deliver-${i}`));
  });
  const all = [...podStart.delivered, ...delivery.delivered].filter(Number.isFinite).sort((a, b) => a - b);
  const podMs = median(podStart.running);
  const spareMs = median(spares.running);
  const bareMs = median(bare);
  return [
    { metric: 'pod_start_ms', value: podMs, unit: 'ms', note: `median of ${o.pods}, create → Running seen by a watcher (podman, one container)` },
    { metric: 'pod_start_spare_sandbox_ms', value: spareMs, unit: 'ms', note: `the same with --sandbox-pool 1, ${SPARE_PAUSE_MS / 1000} s between pods` },
    { metric: 'bare_podman_run_ms', value: bareMs, unit: 'ms', note: `median of ${o.pods} \`podman run -d\` of the same container and flags` },
    { metric: 'pod_start_vs_bare_podman', value: podMs / bareMs, unit: 'ratio', goal: { op: '<=', value: 1.3 }, note: 'no spare sandboxes (the default)' },
    { metric: 'pod_start_spare_sandbox_vs_bare_podman', value: spareMs / bareMs, unit: 'ratio', goal: { op: '<=', value: 1.3 }, note: 'pikube agent --sandbox-pool 1' },
    { metric: 'desired_set_delivery_p99', value: percentile(all, 99), unit: 'ms', goal: { op: '<=', value: 20 }, note: `${all.length} creates: POST → the node's desired set on MQTT (includes scheduling)` },
    { metric: 'desired_set_delivery_p50', value: percentile(all, 50), unit: 'ms' },
  ];
}

/** RSS with 10 pods, idle CPU over `idleSeconds`, and MQTT messages/bytes of the idle node. */
export async function benchAgentIdle(o: { pods: number; idleSeconds: number }): Promise<Metric[]> {
  await ensureBusyboxImage();
  const podman = await withCluster('podman', async (c): Promise<Metric[]> => {
    await createAndTime(c, Array.from({ length: o.pods }, (_, i) => `idle-${i}`));
    await sleep(10_000); // statuses flushed, probes and relists in their steady state
    const pid = c.agent.child.pid!;
    let messages = 0;
    let bytes = 0;
    await c.probe.subscribe(`${c.topics.root}/nodes/${c.node}/#`, (topic, payload) => { messages++; bytes += Buffer.byteLength(topic) + payload.length; });
    await sleep(1000); // retained messages delivered on subscribe are not traffic
    messages = 0;
    bytes = 0;
    const before = cpuTicks(pid);
    const liveBefore = liveChildTicks(pid);
    const t0 = performance.now();
    await sleep(o.idleSeconds * 1000);
    const after = cpuTicks(pid);
    const liveAfter = liveChildTicks(pid);
    const seconds = (performance.now() - t0) / 1000;
    const perMinute = 60 / seconds;
    const ownPct = ((after.own - before.own) / CLK_TCK / seconds) * 100;
    const childPct = ((after.children - before.children + liveDelta(liveBefore, liveAfter)) / CLK_TCK / seconds) * 100;
    const rss = rssMb(pid);
    const anon = statusMb(pid, 'RssAnon');
    return [
      { metric: 'agent_rss_10_pods', value: rss, unit: 'MB', goal: { op: '<=', value: 50 }, note: `VmRSS with ${o.pods} running podman pods; ${anon.toFixed(1)} MB of it anonymous, the rest mapped files (the node binary); NODE_OPTIONS="${AGENT_NODE_OPTIONS}", V8 flags the agent sets itself: ${v8Flags()}` },
      { metric: 'agent_idle_cpu', value: ownPct + childPct, unit: '% of a core', goal: { op: '<=', value: 0.5 }, note: `${o.idleSeconds} s idle with ${o.pods} pods: the agent (${ownPct.toFixed(2)} %) and the runtime CLIs it spawned, event stream included (${childPct.toFixed(2)} %)` },
      { metric: 'agent_idle_cpu_own', value: ownPct, unit: '% of a core' },
      { metric: 'agent_idle_mqtt_messages', value: messages * perMinute, unit: 'msgs/min', note: `on ${c.topics.root}/nodes/<node>/#, both directions` },
      { metric: 'agent_idle_mqtt_bytes', value: bytes * perMinute, unit: 'bytes/min', note: 'topic + payload' },
    ];
  });
  const simulated = await withCluster('simulated', async (c) => {
    await createAndTime(c, Array.from({ length: o.pods }, (_, i) => `sim-${i}`));
    await sleep(10_000);
    return { rss: rssMb(c.agent.child.pid!), anon: statusMb(c.agent.child.pid!, 'RssAnon') };
  });
  return [
    ...podman,
    { metric: 'agent_rss_10_simulated_pods', value: simulated.rss, unit: 'MB', goal: { op: '<=', value: 50 }, note: `VmRSS with ${o.pods} simulated pods; ${simulated.anon.toFixed(1)} MB anonymous; NODE_OPTIONS="${AGENT_NODE_OPTIONS}", V8 flags the agent sets itself: ${v8Flags()}` },
    { metric: 'node_bare_rss', value: await bareNodeRssMb(), unit: 'MB', note: 'VmRSS of a node process that only waits: the floor under any Node.js agent here' },
  ];
}

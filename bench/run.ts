// `npm run bench`: runs every registered benchmark (or those named on the command line),
// prints one JSON object per measured number, then a readable table with the goals.
//
//   node dist/bench/run.js                  all of them
//   node dist/bench/run.js api-creates rss  a subset
//
// Adding a benchmark: one line in BENCHMARKS below, pointing at a function that returns
// its metrics.
import { benchScheduler } from './scheduler-bench.js';
import { benchApiCreates, benchTableList, benchWatchLatency } from './api-bench.js';
import { benchControllerRss } from './api-rss-bench.js';
import { benchApiCreatesEditor } from './api-rbac-bench.js';
import { benchJoin } from './join-bench.js';
import { benchStatusUpdateBytes } from './store-bench.js';
import { benchAgentIdle, benchPodStart } from './agent-bench.js';
import { benchStartup } from './startup-bench.js';
import { benchServices } from './services-bench.js';
import { benchIngress } from './ingress-bench.js';
import { benchIngressProxies } from './ingress-proxies-bench.js';
import { benchCronJobTick } from './cronjob-bench.js';
import { benchImagePull } from './image-pull-bench.js';
import { benchMqttApi } from './mqtt-api-bench.js';
import { benchMqttParse } from './mqtt-parse-bench.js';
import { failover, latency, rest, throughput } from './scheduling-bench.js';
import { benchStatefulSet } from './statefulset-bench.js';
import { benchPodStartBreakdown } from './pod-start-breakdown-bench.js';
import type { Metric } from './metric.js';
import { killDescendantsOnSignal } from './descendants.js';
import { benchEtcdApi, benchEtcdFailover, benchEtcdStoreCreates } from './ha-etcd-bench.js';

export type { Metric } from './metric.js';

interface Benchmark { name: string; run: () => Promise<Metric[]> }

export const BENCHMARKS: Benchmark[] = [
  { name: 'api-creates', run: () => benchApiCreates({ total: 6000, concurrency: 50 }) },
  { name: 'api-creates-editor', run: () => benchApiCreatesEditor({ total: 6000, concurrency: 50 }) },
  { name: 'table-list', run: () => benchTableList({ pods: 1000, requests: 200 }) },
  { name: 'watch-latency', run: () => benchWatchLatency({ writes: 1000 }) },
  { name: 'status-bytes', run: () => benchStatusUpdateBytes({ pods: 1000, updates: 2000 }) },
  { name: 'rss', run: () => benchControllerRss({ objects: 10_000 }) },
  { name: 'agent-pod-start', run: () => benchPodStart({ pods: 10, deliveries: 100 }) },
  { name: 'pod-start-breakdown', run: () => benchPodStartBreakdown({ pods: 10 }) },
  { name: 'agent-idle', run: () => benchAgentIdle({ pods: 10, idleSeconds: 300 }) }, // one whole safety relist period and every slower timer
  { name: 'scheduler', run: async () => [{ metric: 'scheduler_pods_per_second', value: await benchScheduler(100, 2000), unit: 'pods/s', note: '2,000 pods on 100 simulated nodes' }] },
  { name: 'agent-join', run: () => benchJoin({ agents: 5 }) },
  { name: 'startup', run: () => benchStartup({ repetitions: 5 }) },
  { name: 'services', run: () => benchServices() },
  { name: 'ingress', run: () => benchIngress({ concurrency: 50, seconds: 5, rounds: 3 }) },
  // No podman, loopback only: our proxy against http-proxy-3, CPU per request each.
  { name: 'ingress-proxies', run: () => benchIngressProxies({ concurrency: 50, seconds: 3, rounds: 5 }) },
  { name: 'cronjob-tick', run: () => benchCronJobTick(100) },
  { name: 'image-pull', run: () => benchImagePull() },
  { name: 'mqtt-api', run: () => benchMqttApi({ requests: 200 }) },
  { name: 'mqtt-parse', run: () => benchMqttParse() },
  // A real controller process and 100 hollow nodes (real agents, simulated runtime, one MQTT connection each).
  { name: 'scheduling-throughput', run: () => throughput(5000) },
  { name: 'scheduling-latency', run: () => latency(500, 5) },
  { name: 'scheduling-rest', run: () => rest(1000) },
  { name: 'scheduling-failover', run: () => failover(10) },
  { name: 'statefulset', run: () => benchStatefulSet({ replicas: 10, nodes: 3 }) },
  // Three controllers can share one etcd cluster (compare with api-creates and watch-latency).
  { name: 'etcd-api', run: () => benchEtcdApi({ total: 6000, concurrency: 50, watchWrites: 500 }) },
  { name: 'etcd-failover', run: () => benchEtcdFailover() },
  { name: 'etcd-store', run: () => benchEtcdStoreCreates({ total: 6000, concurrency: 50 }) },
];

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(Math.abs(v) >= 10 ? 1 : 2);
}

function verdict(m: Metric): string {
  if (!m.goal) return '';
  const ok = m.goal.op === '>=' ? m.value >= m.goal.value : m.value <= m.goal.value;
  return ok ? 'met' : 'MISSED';
}

function table(results: Metric[]): string {
  const head = ['metric', 'value', 'unit', 'goal', ''];
  const body = results.map((m) => [m.metric, fmt(m.value), m.unit, m.goal ? `${m.goal.op} ${fmt(m.goal.value)}` : '', verdict(m)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  killDescendantsOnSignal();
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !BENCHMARKS.some((b) => b.name === w));
  if (unknown.length) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
    process.exit(2);
  }
  const selected = wanted.length ? BENCHMARKS.filter((b) => wanted.includes(b.name)) : BENCHMARKS;
  const results: Metric[] = [];
  let failed = 0;
  for (const b of selected) {
    const started = Date.now();
    try {
      for (const m of await b.run()) {
        results.push(m);
        console.log(JSON.stringify({ ...m, benchmark: b.name }));
      }
    } catch (err) {
      failed++;
      console.log(JSON.stringify({ benchmark: b.name, error: String((err as Error)?.stack ?? err) }));
    }
    console.error(`# ${b.name} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  console.log('\n' + table(results));
  if (failed) process.exitCode = 1;
}

await main();

// Control-plane benchmarks with many nodes: a real controller process and 100 hollow
// nodes (real agents with the simulated runtime, each with its own MQTT connection, in
// this process). Every pod goes the whole way: API create, scheduler, binding, desired
// state on MQTT, the agent "starts" it and reports Running, the bridge writes the status,
// and a watch sees it. Goals (issue 4): ≥ 1,000 pods/s; p99 create → Running ≤ 1 s at
// 500 pods/s; controller at rest with 100 nodes and 1,000 pods ≤ 150 MB and ≤ 2 % of a core.
// `node dist/bench/scheduling-bench.js` runs it alone.
import { join } from 'node:path';
import { percentile, runConcurrently } from '../test/helpers/api-client.js';
import {
  benchDir, benchPod, cpuSeconds, createPod, rssBytes, RunningWatch, startAgentProcess, startBenchController,
  startHollowNodes, until, type BenchController, type HollowFleet,
} from './scheduling-cluster.js';

import type { Metric } from './metric.js';

export type { Metric };

const NODES = 100;

async function withCluster<T>(name: string, controllerArgs: string[], heartbeatMs: number, fn: (ctrl: BenchController, fleet: () => Promise<HollowFleet>, dir: string) => Promise<T>): Promise<T> {
  const tmp = benchDir(name);
  let ctrl: BenchController | undefined;
  let fleet: HollowFleet | undefined;
  try {
    ctrl = await startBenchController(join(tmp.dir, 'controller'), controllerArgs);
    const c = ctrl;
    return await fn(ctrl, async () => {
      fleet = await startHollowNodes(c, NODES, join(tmp.dir, 'nodes'), heartbeatMs);
      await until(`${NODES} nodes Ready`, async () => {
        const nodes = (await c.api.get('/api/v1/nodes')).body.items as { status?: { conditions?: { type: string; status: string }[] } }[];
        return nodes.filter((n) => n.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')).length >= NODES;
      }, 60_000, 250);
      return fleet;
    }, tmp.dir);
  } finally {
    await fleet?.stop();
    await ctrl?.kill();
    tmp.remove();
  }
}

/** 5,000 pods created as fast as the API takes them; created → all Running. */
export async function throughput(pods = 5000): Promise<Metric[]> {
  return withCluster('throughput', [], 5000, async (ctrl, fleet) => {
    await fleet();
    const watch = new RunningWatch(ctrl.api, 'bench=throughput');
    await watch.start();
    try {
      const cpu0 = cpuSeconds(ctrl.pid), ownCpu0 = process.cpuUsage();
      const started = performance.now();
      await runConcurrently(pods, 32, (i) => createPod(ctrl.api, 'default', benchPod(`tp-${i}`, { bench: 'throughput' })));
      const created = performance.now();
      await watch.whenRunning(pods, 120_000);
      const last = Math.max(...watch.runningAt.values());
      const own = process.cpuUsage(ownCpu0);
      return [
        { metric: `scheduling throughput, ${NODES} nodes, ${pods} pods created → Running`, value: Math.round(pods / ((last - started) / 1000)), unit: 'pods/s', goal: { op: '>=', value: 1000 } },
        { metric: `API create rate during it`, value: Math.round(pods / ((created - started) / 1000)), unit: 'pods/s' },
        // CPU per pod does not depend on what else the machine runs, unlike the rates.
        { metric: `controller CPU per pod (create → Running)`, value: Math.round(((cpuSeconds(ctrl.pid) - cpu0) * 1e6) / pods) / 1000, unit: 'ms' },
        { metric: `hollow nodes + client CPU per pod`, value: Math.round((own.user + own.system) / pods) / 1000, unit: 'ms' },
      ];
    } finally {
      watch.close();
    }
  });
}

/** Pods created at a steady `rate` for `seconds`; each one's create → Running. */
export async function latency(rate = 500, seconds = 5): Promise<Metric[]> {
  return withCluster('latency', [], 5000, async (ctrl, fleet) => {
    await fleet();
    const watch = new RunningWatch(ctrl.api, 'bench=latency');
    await watch.start();
    try {
      const total = rate * seconds;
      const sentAt = new Map<string, number>();
      const creates: Promise<void>[] = [];
      const t0 = performance.now();
      let i = 0;
      // Send on a 10 ms tick whatever is due, so the offered rate does not depend on how fast answers come.
      await new Promise<void>((resolve) => {
        const tick = setInterval(() => {
          const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
          for (; i < due; i++) {
            const name = `lat-${i}`;
            sentAt.set(`default/${name}`, performance.now());
            creates.push(createPod(ctrl.api, 'default', benchPod(name, { bench: 'latency' })));
          }
          if (i >= total) { clearInterval(tick); resolve(); }
        }, 10);
      });
      await Promise.all(creates);
      await watch.whenRunning(total, 120_000);
      const lat = [...sentAt].map(([k, t]) => watch.runningAt.get(k)! - t).sort((a, b) => a - b);
      return [
        { metric: `create → Running p50 at ${rate} pods/s, ${NODES} nodes`, value: Math.round(percentile(lat, 50)), unit: 'ms' },
        { metric: `create → Running p99 at ${rate} pods/s, ${NODES} nodes`, value: Math.round(percentile(lat, 99)), unit: 'ms', goal: { op: '<=', value: 1000 } },
        { metric: `create → Running max at ${rate} pods/s, ${NODES} nodes`, value: Math.round(lat[lat.length - 1]!), unit: 'ms' },
      ];
    } finally {
      watch.close();
    }
  });
}

/**
 * Controller memory and CPU once 1,000 pods run on 100 nodes. Read twice: 10–30 s after
 * the burst, when V8 still keeps the young generation the burst grew (up to 32 MB), and
 * 60–80 s after it, once V8's memory reducer has seen the allocation rate fall and given
 * that back. The second is the controller at rest; its CPU is taken from 30 to 90 s.
 */
export async function rest(pods = 1000, seconds = 20): Promise<Metric[]> {
  return withCluster('rest', [], 5000, async (ctrl, fleet) => {
    await fleet();
    const watch = new RunningWatch(ctrl.api, 'bench=rest');
    await watch.start();
    await runConcurrently(pods, 32, (i) => createPod(ctrl.api, 'default', benchPod(`rest-${i}`, { bench: 'rest' })));
    await watch.whenRunning(pods, 120_000);
    watch.close();
    const burstEnded = performance.now();
    const sleepUntil = (msAfterBurst: number) => new Promise((r) => setTimeout(r, Math.max(0, burstEnded + msAfterBurst - performance.now())));
    const rssMaxOver = async () => {
      let max = 0;
      for (let s = 0; s < seconds; s++) {
        await new Promise((r) => setTimeout(r, 1000));
        max = Math.max(max, rssBytes(ctrl.pid));
      }
      return max;
    };
    await sleepUntil(10_000);
    const afterBurst = await rssMaxOver();
    // CPU over a whole minute: it then holds every once-a-minute task once.
    const cpu0 = cpuSeconds(ctrl.pid), t0 = performance.now();
    await sleepUntil(60_000);
    const atRest = await rssMaxOver();
    await sleepUntil(90_000);
    const cpuShare = (cpuSeconds(ctrl.pid) - cpu0) / ((performance.now() - t0) / 1000);
    return [
      { metric: `controller RSS 10–30 s after the burst, ${NODES} nodes, ${pods} pods`, value: Math.round(afterBurst / 2 ** 20), unit: 'MiB' },
      { metric: `controller RSS at rest (60–80 s after), ${NODES} nodes, ${pods} pods`, value: Math.round(atRest / 2 ** 20), unit: 'MiB', goal: { op: '<=', value: 150 } },
      { metric: `controller CPU at rest, ${NODES} nodes, ${pods} pods`, value: Math.round(cpuShare * 1000) / 10, unit: '% of a core', goal: { op: '<=', value: 2 } },
    ];
  });
}

/**
 * A real agent process runs a Deployment's `replicas` pods among 100 hollow nodes (all
 * with a 1 s heartbeat, under the acceptance test's 5 s grace); then it is SIGKILLed.
 */
export async function failover(replicas = 10): Promise<Metric[]> {
  const grace = '5s', toleration = '5';
  return withCluster('failover', ['--node-monitor-grace-period', grace, '--default-toleration-seconds', toleration], 1000, async (ctrl, fleet, dir) => {
    const victim = startAgentProcess(ctrl, 'victim', join(dir, 'victim'));
    try {
      const nodeReady = async () => ((await ctrl.api.get('/api/v1/nodes/victim')).body.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready')?.status as string | undefined;
      await until('the victim node Ready', async () => (await nodeReady()) === 'True', 30_000, 200);
      // Its replicas land on it while it is the only node.
      const dep = await ctrl.api.post('/apis/apps/v1/namespaces/default/deployments', {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'moved' },
        spec: { replicas, selector: { matchLabels: { app: 'moved' } }, template: benchPod('ignored', { app: 'moved' }) },
      });
      if (dep.status !== 201) throw new Error(`create deployment: ${dep.status} ${dep.text}`);
      const runningOf = async () => ((await ctrl.api.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dmoved')).body.items as { metadata: { deletionTimestamp?: string }; spec: { nodeName?: string }; status?: { phase?: string } }[])
        .filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);
      await until('replicas Running on the victim', async () => (await runningOf()).filter((p) => p.spec.nodeName === 'victim').length === replicas, 30_000, 200);
      await fleet();

      const killedAt = performance.now();
      await victim.kill();
      await until('the victim NotReady', async () => (await nodeReady()) === 'Unknown', 30_000, 20);
      const notReady = performance.now() - killedAt;
      await until('replicas Running elsewhere', async () => {
        const running = await runningOf();
        return running.length === replicas && running.every((p) => p.spec.nodeName !== 'victim');
      }, 60_000, 50);
      return [
        { metric: `SIGKILL → node NotReady, ${NODES + 1} nodes`, value: Math.round(notReady), unit: 'ms' },
        { metric: `SIGKILL → its ${replicas} pods Running elsewhere (grace ${grace}, toleration ${toleration}s)`, value: Math.round(performance.now() - killedAt), unit: 'ms' },
      ];
    } finally {
      await victim.kill();
    }
  });
}

/** The whole set, for `npm run bench`. */
export async function run(): Promise<Metric[]> {
  return [...(await throughput()), ...(await latency()), ...(await rest()), ...(await failover())];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const which = process.argv[2] ?? 'all';
  const n = process.argv[3] ? Number(process.argv[3]) : undefined;
  const scenarios: Record<string, () => Promise<Metric[]>> = { throughput: () => throughput(n), latency: () => latency(n), rest: () => rest(n), failover: () => failover(), all: run };
  const fn = scenarios[which];
  if (!fn) {
    console.error(`usage: node dist/bench/scheduling-bench.js [${Object.keys(scenarios).join('|')}]`);
    process.exit(2);
  }
  for (const m of await fn()) console.log(`${m.metric}: ${m.value} ${m.unit}`);
  process.exit(0);
}

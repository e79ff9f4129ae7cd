// Scheduler throughput: `pods` pending pods (of a few owners, with requests) placed on
// `nodes` simulated nodes through the real store, admission and in-process client.
// Counts from the moment the scheduler starts until every pod is bound; includes the
// durable bind writes and the Scheduled events.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, Pod } from '../protocol/kube/types.js';
import { Admission } from '../controller/apiserver/admission/admission.js';
import { ApiCore } from '../controller/apiserver/api-core.js';
import { bootstrapCluster } from '../controller/apiserver/bootstrap.js';
import { R } from '../controller/apiserver/client.js';
import { LocalClient } from '../controller/apiserver/local-client.js';
import { NodeTelemetry } from '../controller/client/node-telemetry.js';
import { Scheduler } from '../controller/scheduler/scheduler.js';
import { LocalStore } from '../controller/store/local-store.js';

export interface SchedulerBenchResult { podsPerSecond: number; nodes: number; pods: number; seconds: number }

function benchNode(name: string): Node {
  const capacity = { cpu: '64', memory: '256Gi', pods: '1000' };
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/arch': 'arm64' } },
    status: { capacity, allocatable: capacity, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] },
  };
}

function benchPod(i: number): Pod {
  const owner = `bench-rs-${i % 10}`;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `bench-${i}`, namespace: 'default', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: owner, controller: true }] },
    spec: { containers: [{ name: 'app', image: 'nginx:1.27', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
  };
}

/** Runs the benchmark and returns pods scheduled per second (details in `detailed`). */
export async function benchScheduler(nodes: number, pods: number): Promise<number> {
  return (await benchSchedulerDetailed(nodes, pods)).podsPerSecond;
}

export async function benchSchedulerDetailed(nodes: number, pods: number): Promise<SchedulerBenchResult> {
  if (!Number.isInteger(nodes) || nodes < 1 || !Number.isInteger(pods) || pods < 1) throw new Error('nodes and pods must be positive integers');
  const dir = mkdtempSync(join(tmpdir(), 'pikube-bench-scheduler-'));
  const store = new LocalStore({ dir });
  await store.open();
  const scheduler = { current: undefined as Scheduler | undefined };
  try {
    const core = new ApiCore(store, new Admission(store, { defaultTolerationSeconds: 300, serviceCIDR: '10.43.0.0/16' }));
    await bootstrapCluster(core);
    const client = new LocalClient(core);
    const telemetry = new NodeTelemetry();
    for (let i = 0; i < nodes; i++) {
      const name = `sim-${String(i).padStart(4, '0')}`;
      telemetry.update(name, { online: true, lastSeen: Date.now(), usage: { cpuCores: (i % 7) * 0.5, memoryBytes: (i % 5) * 2 ** 30 }, capacity: { cpuCores: 64, memoryBytes: 256 * 2 ** 30, pods: 1000 } });
      await client.create(R.nodes, benchNode(name));
    }
    const creates: Promise<unknown>[] = [];
    for (let i = 0; i < pods; i++) creates.push(client.create(R.pods, benchPod(i)));
    await Promise.all(creates);

    const s = new Scheduler({ client, telemetry });
    scheduler.current = s;
    const started = performance.now();
    s.start();
    await s.whenIdle();
    const seconds = (performance.now() - started) / 1000;
    const bound = client.list<Pod>(R.pods, { namespace: 'default' }).items.filter((p) => p.spec.nodeName).length;
    if (bound !== pods) throw new Error(`only ${bound} of ${pods} pods were bound`);
    return { podsPerSecond: pods / seconds, nodes, pods, seconds };
  } finally {
    scheduler.current?.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// `node dist/bench/scheduler-bench.js [nodes] [pods]` runs it alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  const [nodes = 100, pods = 5000] = process.argv.slice(2).map(Number);
  const r = await benchSchedulerDetailed(nodes, pods);
  console.log(`scheduler: ${r.pods} pods on ${r.nodes} nodes in ${r.seconds.toFixed(2)} s = ${Math.round(r.podsPerSecond)} pods/s`);
}

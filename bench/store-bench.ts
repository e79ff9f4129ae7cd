// Bytes written to disk per pod status update with 1,000 pods stored, against the size of
// the pod's JSON: the store's own count (log appends plus amortised snapshots), the data
// directory's growth, and what the kernel sent to the block device (/proc/self/io).
import { mkdtempSync, readFileSync, rmSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '../protocol/kube/types.js';
import { Admission } from '../controller/apiserver/admission/admission.js';
import { ApiCore } from '../controller/apiserver/api-core.js';
import { bootstrapCluster } from '../controller/apiserver/bootstrap.js';
import { R } from '../controller/apiserver/client.js';
import { LocalClient } from '../controller/apiserver/local-client.js';
import { LocalStore } from '../controller/store/local-store.js';
import { runConcurrently } from '../test/helpers/api-client.js';
import { benchPod } from './api-bench.js';
import type { Metric } from './metric.js';

function processWriteBytes(): number {
  const m = readFileSync('/proc/self/io', 'utf8').match(/^write_bytes:\s+(\d+)/m);
  return m ? Number(m[1]) : NaN;
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) n += statSync(join(dir, f)).size;
  return n;
}

/** What an agent reports for a running pod: phase, conditions, IPs, container state. */
function runningStatus(pod: Pod, i: number): object {
  const now = new Date(Date.UTC(2026, 0, 1, 0, 0, i % 3600)).toISOString().replace('.000', '');
  const ready = i % 2 === 0 ? 'True' : 'False';
  return {
    status: {
      phase: 'Running', hostIP: '192.168.1.21', podIP: `10.42.1.${(i % 250) + 2}`, podIPs: [{ ip: `10.42.1.${(i % 250) + 2}` }], startTime: now,
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
        { type: 'Initialized', status: 'True', lastTransitionTime: now },
        { type: 'ContainersReady', status: ready, lastTransitionTime: now },
        { type: 'Ready', status: ready, lastTransitionTime: now },
      ],
      containerStatuses: [{
        name: 'app', image: 'localhost/busybox:latest', imageID: 'sha256:3f57d9401f8d42f986df300f0c69192fc41da28ccc8d797829467780db3dd741',
        containerID: `containerd://${pod.metadata.uid!.replace(/-/g, '')}${i}`, ready: ready === 'True', restartCount: Math.floor(i / 1000), started: true,
        state: { running: { startedAt: now } },
      }],
    },
  };
}

export async function benchStatusUpdateBytes(o: { pods: number; updates: number }): Promise<Metric[]> {
  const dir = mkdtempSync(join(tmpdir(), 'pikube-bench-store-'));
  const store = new LocalStore({ dir });
  await store.open();
  try {
    const core = new ApiCore(store, new Admission(store, { defaultTolerationSeconds: 300, serviceCIDR: '10.43.0.0/16' }));
    await bootstrapCluster(core);
    const client = new LocalClient(core);
    const names: string[] = [];
    await runConcurrently(o.pods, 50, async (i) => {
      const pod = benchPod(`pod-${String(i).padStart(5, '0')}`) as Pod;
      pod.metadata.namespace = 'default';
      const created = await client.create(R.pods, pod);
      names.push(created.metadata.name!);
    });
    // Bring every pod to Running first, so that the measured updates are steady-state ones.
    await runConcurrently(o.pods, 20, async (i) => {
      const p = client.get<Pod>(R.pods, 'default', names[i]!)!;
      await client.patch(R.pods, 'default', names[i]!, runningStatus(p, i), 'status');
    });

    const before = store.stats();
    const dirBefore = dirBytes(dir);
    const ioBefore = processWriteBytes();
    let jsonBytes = 0;
    // Agents report in batches: 20 updates in flight, as a batched pod-status message gives.
    await runConcurrently(o.updates, 20, async (i) => {
      const name = names[i % names.length]!;
      const p = client.get<Pod>(R.pods, 'default', name)!;
      const updated = await client.patch<Pod>(R.pods, 'default', name, runningStatus(p, o.pods + i), 'status');
      jsonBytes += Buffer.byteLength(JSON.stringify(updated));
    });
    const after = store.stats();
    const ioAfter = processWriteBytes();
    const dirAfter = dirBytes(dir);

    const podJson = jsonBytes / o.updates;
    const perUpdate = (after.bytesWritten - before.bytesWritten) / o.updates;
    const snapshots = after.snapshots - before.snapshots;
    const metrics: Metric[] = [
      { metric: 'status_update_bytes_ratio', value: perUpdate / podJson, unit: 'x pod JSON', goal: { op: '<=', value: 4 }, note: `store bytes (log + ${snapshots} snapshot(s)) per update over ${o.updates} updates with ${o.pods} pods stored` },
      { metric: 'status_update_bytes_per_update', value: perUpdate, unit: 'B' },
      { metric: 'status_update_pod_json_size', value: podJson, unit: 'B' },
      { metric: 'status_update_data_dir_growth_per_update', value: (dirAfter - dirBefore) / o.updates, unit: 'B', note: 'net growth of the data directory (log shrinks at each snapshot)' },
      { metric: 'status_update_batches', value: after.batches - before.batches, unit: 'fsyncs', note: `for ${o.updates} updates` },
    ];
    if (Number.isFinite(ioBefore) && Number.isFinite(ioAfter)) {
      metrics.push({ metric: 'status_update_block_bytes_per_update', value: (ioAfter - ioBefore) / o.updates, unit: 'B', note: 'bytes this process sent to the block layer (/proc/self/io write_bytes; page granular)' });
    }
    return metrics;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

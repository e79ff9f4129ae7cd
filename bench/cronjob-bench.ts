// CronJob controller tick: `cronJobs` CronJobs on `*/1 * * * *` through the real store,
// admission and in-process client. Measures one pass over all of them (what the
// controller does when their schedule comes due): an idle pass (nothing due), and a
// due pass that creates one Job per CronJob and writes each CronJob's status.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admission } from '../controller/apiserver/admission/admission.js';
import { ApiCore } from '../controller/apiserver/api-core.js';
import { bootstrapCluster } from '../controller/apiserver/bootstrap.js';
import { R } from '../controller/apiserver/client.js';
import { LocalClient } from '../controller/apiserver/local-client.js';
import { CronJobController, type CronJob } from '../controller/controller-manager/cronjob-controller.js';
import { LocalStore } from '../controller/store/local-store.js';
import type { Metric } from './metric.js';

const MINUTE = 60_000;

function cronJob(i: number): CronJob {
  return {
    apiVersion: 'batch/v1', kind: 'CronJob',
    metadata: { name: `backup-${i}`, namespace: 'default' },
    spec: {
      schedule: '*/1 * * * *', concurrencyPolicy: 'Allow',
      jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } } as CronJob['spec']['jobTemplate']['spec'] },
    },
  };
}

export async function benchCronJobTick(cronJobs: number, rounds = 5): Promise<Metric[]> {
  const dir = mkdtempSync(join(tmpdir(), 'pikube-bench-cronjob-'));
  const store = new LocalStore({ dir });
  await store.open();
  let controller: CronJobController | undefined;
  try {
    const core = new ApiCore(store, new Admission(store, { defaultTolerationSeconds: 300, serviceCIDR: '10.43.0.0/16' }));
    await bootstrapCluster(core);
    const client = new LocalClient(core);
    for (let i = 0; i < cronJobs; i++) await client.create(R.cronjobs, cronJob(i));
    let now = Math.ceil(Date.now() / MINUTE) * MINUTE - 30_000;
    controller = new CronJobController({ client, now: () => now });
    controller.start();
    await controller.syncAll();
    const idle: number[] = [];
    const due: number[] = [];
    for (let r = 0; r < rounds; r++) {
      let t = performance.now();
      await controller.syncAll();
      idle.push(performance.now() - t);
      now += MINUTE;
      t = performance.now();
      await controller.syncAll();
      due.push(performance.now() - t);
    }
    const jobs = client.list(R.jobs, { namespace: 'default' }).items.length;
    if (jobs < cronJobs * rounds) throw new Error(`expected ${cronJobs * rounds} jobs, found ${jobs}`);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    return [
      { metric: 'cronjob_tick_idle_ms', value: median(idle), unit: 'ms', note: `one pass over ${cronJobs} CronJobs, none due (median of ${rounds})` },
      { metric: 'cronjob_tick_due_ms', value: median(due), unit: 'ms', note: `one pass over ${cronJobs} CronJobs, each creating a Job and writing its status (median of ${rounds})` },
    ];
  } finally {
    controller?.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// `node dist/bench/cronjob-bench.js [cronJobs]` runs it alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  const [n = 100] = process.argv.slice(2).map(Number);
  for (const m of await benchCronJobTick(n)) console.log(`${m.metric}: ${m.value.toFixed(2)} ${m.unit} (${m.note})`);
}

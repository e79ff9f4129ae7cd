// Memory of a real controller process holding many objects: VmRSS from /proc once the
// objects are created and the process has settled.
import { readFileSync } from 'node:fs';
import { benchConfigMap, benchPod, createMany, withController } from './api-bench.js';
import type { Metric } from './metric.js';

function procStatusKb(pid: number, field: string): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]);
}

export async function benchControllerRss(o: { objects: number }): Promise<Metric[]> {
  return withController(async (ctrl, api) => {
    const pid = ctrl.child.pid!;
    const idleMb = procStatusKb(pid, 'VmRSS') / 1024;
    // Mostly pods (the largest common object), some configmaps.
    const pods = Math.round(o.objects * 0.8);
    await createMany(api, '/api/v1/namespaces/bench/pods', pods, 50, (i) => benchPod(`pod-${i}`));
    await createMany(api, '/api/v1/namespaces/bench/configmaps', o.objects - pods, 50, (i) => benchConfigMap(`cm-${i}`));
    await new Promise((r) => setTimeout(r, 3000));
    const rssMb = procStatusKb(pid, 'VmRSS') / 1024;
    const peakMb = procStatusKb(pid, 'VmHWM') / 1024;
    return [
      { metric: 'controller_rss_10k_objects', value: rssMb, unit: 'MB', goal: { op: '<=', value: 150 }, note: `${pods} pods + ${o.objects - pods} configmaps, VmRSS 3 s after the last create` },
      { metric: 'controller_rss_peak_10k_objects', value: peakMb, unit: 'MB', note: 'VmHWM' },
      { metric: 'controller_rss_empty', value: idleMb, unit: 'MB' },
    ];
  });
}

// Where a pod's start goes, stage by stage, so a change shows which stage it moved. The
// controller and the agent run with debug logs, whose lines carry wall-clock times:
// the scheduler's `binding`/`bound`, the agent's `desired pod set received`/`saved`,
// every runtime CLI call with its duration, and `pod statuses sent`. The bench adds what
// it sees itself: the create, the desired set on MQTT (a probe subscriber) and Running
// on a watch. Pods are created one at a time, so each one's lines fall in its own window.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBusyboxImage } from '../test/helpers/podman-image.js';
import { percentile } from '../test/helpers/api-client.js';
import { createOneByOne, withCluster, type PodWindow } from './agent-bench.js';
import type { Metric } from './metric.js';

/** The stages, in order; each ends where the next begins. */
export const STAGES = ['queue', 'bind', 'publish', 'agent receive', 'agent persist', 'sandbox', 'container start', 'first status', 'status to API'] as const;
type Stage = (typeof STAGES)[number];

interface LogLine { time: number; msg: string; pod?: string; pods?: unknown; argv?: string[] }

function readLog(path: string): LogLine[] {
  const out: LogLine[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const l = JSON.parse(line) as Omit<LogLine, 'time'> & { time: string | number };
      out.push({ ...l, time: typeof l.time === 'string' ? Date.parse(l.time) : l.time }); // ISO times (cli/logger.ts)
    } catch { /* a torn last line */ }
  }
  return out;
}

/** The end of every stage for one pod, from the lines inside its window; undefined where a mark is missing. */
export function stageEnds(w: PodWindow, ctrlLog: LogLine[], agentLog: LogLine[]): Partial<Record<Stage, number>> | undefined {
  if (w.running === undefined) return undefined;
  const inWindow = (l: LogLine) => l.time >= w.created && l.time <= w.running! + 50;
  const first = (lines: LogLine[], test: (l: LogLine) => boolean) => lines.find((l) => inWindow(l) && test(l))?.time;
  const key = `default/${w.name}`;
  const binding = first(ctrlLog, (l) => l.msg === 'binding' && l.pod === key);
  const bound = first(ctrlLog, (l) => l.msg === 'bound' && l.pod === key);
  const received = first(agentLog, (l) => l.msg === 'desired pod set received' && Array.isArray(l.pods) && l.pods.includes(w.name));
  const saved = received === undefined ? undefined : agentLog.find((l) => l.time >= received && l.msg === 'desired pod set saved')?.time;
  const cli = (sub: string[]) => (l: LogLine) => l.msg === 'runtime command done' && sub.every((s, i) => l.argv?.[l.argv.indexOf(sub[0]!) + i] === s);
  const sandbox = first(agentLog, cli(['pod', 'start']));
  const container = first(agentLog, (l) => cli(['run'])(l) && (l.argv ?? []).some((a) => a.includes(w.name)));
  const status = first(agentLog, (l) => l.msg === 'pod statuses sent' && Array.isArray(l.pods) && (l.pods as { phase?: string }[]).some((p) => p.phase === 'Running'));
  return {
    queue: binding, bind: bound, publish: w.delivered, 'agent receive': received, 'agent persist': saved,
    sandbox, 'container start': container, 'first status': status, 'status to API': w.running,
  };
}

/** Median ms of each stage over `pods` podman pods, and the median total (create → Running). */
export async function benchPodStartBreakdown(o: { pods: number }): Promise<Metric[]> {
  await ensureBusyboxImage();
  return withCluster('podman', async (c) => {
    await createOneByOne(c, ['warm-0']); // the first pod pays for driver adaptation
    const windows = await createOneByOne(c, Array.from({ length: o.pods }, (_, i) => `parts-${i}`));
    const ctrlLog = readLog(join(c.ctrl.dir, 'controller.log'));
    const agentLog = readLog(c.agent.logPath);
    const per: Record<Stage, number[]> = Object.fromEntries(STAGES.map((s) => [s, []])) as unknown as Record<Stage, number[]>;
    for (const w of windows) {
      const ends = stageEnds(w, ctrlLog, agentLog);
      if (!ends) continue;
      let from = w.created;
      for (const s of STAGES) {
        const end = ends[s];
        if (end === undefined) continue; // a missing mark folds its stage into the next
        per[s].push(Math.max(0, end - from));
        from = end;
      }
    }
    const med = (xs: number[]) => (xs.length ? percentile([...xs].sort((a, b) => a - b), 50) : NaN);
    const parts = STAGES.map((s) => `${s} ${Math.round(med(per[s]))}`).join(', ');
    const totals = windows.filter((w) => w.running !== undefined).map((w) => w.running! - w.created);
    return [
      { metric: 'pod_start_breakdown_total', value: med(totals), unit: 'ms', note: `median of ${o.pods} podman pods, debug logs on; stages (median ms): ${parts}` },
      ...STAGES.map((s) => ({ metric: `pod_start_stage: ${s}`, value: med(per[s]), unit: 'ms' })),
    ];
  }, { PIKUBE_LOG_LEVEL: 'debug' });
}

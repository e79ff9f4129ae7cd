// Agent join → Ready: a fresh agent process (simulated runtime, empty data directory) joins
// with the join token (random password issued and stored hashed, node-password rule
// checked) and its Node turns Ready; timed from the process spawn to Ready seen by the API.
import { performance } from 'node:perf_hooks';
import { removeDir, startAgent, startController } from '../test/helpers/processes.js';
import { ApiClient } from '../test/helpers/api-client.js';
import type { Metric } from './metric.js';

export async function benchJoin(o: { agents: number }): Promise<Metric[]> {
  const ctrl = await startController();
  const api = new ApiClient(ctrl.kubeconfig);
  const times: number[] = [];
  const agents = [];
  try {
    for (let i = 0; i < o.agents; i++) {
      const name = `join-bench-${i}`;
      const t0 = performance.now();
      const agent = startAgent(ctrl, { nodeName: name });
      agents.push(agent);
      for (;;) {
        const r = await api.get(`/api/v1/nodes/${name}`);
        if (r.status === 200 && r.body.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True')) break;
        if (performance.now() - t0 > 60_000) throw new Error(`${name} not Ready in 60 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
      times.push(performance.now() - t0);
    }
  } finally {
    for (const a of agents) { await a.kill(); removeDir(a.dir); }
    api.close();
    await ctrl.kill();
    removeDir(ctrl.dir);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  return [
    { metric: 'agent_join_to_ready_ms', value: median, unit: 'ms', goal: { op: '<=', value: 2000 }, note: `median of ${o.agents} fresh agents: process spawn → Node Ready (join with token, hashed password, simulated runtime)` },
    { metric: 'agent_join_to_ready_max_ms', value: times[times.length - 1]!, unit: 'ms' },
  ];
}

// The agent starts without V8's optimising compiler (cli/v8-flags.ts): on a board it costs the
// agent memory its light work never earns back. The controller keeps it, and an agent whose
// ingress proxy carries sustained traffic turns it on (agent/optimizer-switch.ts).
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiClient } from '../helpers/api-client.js';
import { HOT_INGRESS } from '../../agent/optimizer-switch.js';
import { freePort, removeDir, startAgent, startController, waitFor } from '../helpers/processes.js';

const PROBE = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'optimizer-probe.js');

/** One plain GET of the ingress proxy; resolves with the status code. */
function get(agent: Agent, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent, headers: { host: 'nothing.example' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

test('pikube agent starts without V8\'s optimising compiler and turns it on under sustained ingress traffic; the controller keeps it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pikube-v8flags-'));
  const probe = (name: string) => ({ NODE_OPTIONS: `--import=${PROBE}`, OPTIMIZER_PROBE_FILE: join(dir, `${name}.json`) });
  const read = (name: string) => (JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as { optimized: boolean }).optimized;
  const ctrl = await startController({ dir: join(dir, 'controller'), env: probe('controller') });
  const httpPort = await freePort();
  const ingress = ['--ingress', 'on', '--ingress-address', '127.0.0.1', '--ingress-https-port', String(await freePort())];
  const quiet = startAgent(ctrl, { nodeName: 'v8-quiet', dir: join(dir, 'quiet'), env: probe('quiet'), args: [...ingress, '--ingress-http-port', String(await freePort())] });
  const busy = startAgent(ctrl, { nodeName: 'v8-busy', dir: join(dir, 'busy'), env: probe('busy'), args: [...ingress, '--ingress-http-port', String(httpPort)] });
  const api = new ApiClient(ctrl.kubeconfig);
  const http = new Agent({ keepAlive: true, maxSockets: 8 });
  try {
    // Ready means the agent has joined, reported its node and run its status code.
    for (const node of ['v8-quiet', 'v8-busy']) {
      await waitFor(`node ${node} Ready`, async () => {
        const r = await api.get<{ status?: { conditions?: { type: string; status: string }[] } }>(`/api/v1/nodes/${node}`);
        return r.status === 200 && r.body.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      }, 60_000);
    }
    // No Ingress matches: every request gets the proxy's 404 page, and still counts as traffic.
    let answered = 0;
    await waitFor('the busy agent\'s ingress proxy answers', () => get(http, httpPort).then((s) => s === 404, () => false), 30_000);
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (answered < HOT_INGRESS.threshold + 100) { await get(http, httpPort); answered++; }
    }));
    t.is(await quiet.stop(), 0);
    t.is(await busy.stop(), 0);
    t.is(await ctrl.stop(), 0);
    t.true(read('controller'), 'the probe sees an optimised function in the controller');
    t.false(read('quiet'), 'an agent without ingress traffic optimised a function');
    t.true(read('busy'), 'an agent whose ingress proxy was busy did not turn the optimiser on');
  } finally {
    http.destroy();
    api.close();
    await quiet.kill();
    await busy.kill();
    await ctrl.kill();
    removeDir(dir);
  }
});

// Our ingress proxy against a well-kept proxy library (http-proxy-3), on loopback only:
// one node http server as the backend, each proxy in its own process routing with the
// same route table, and the same load generator as the `ingress` benchmark alternating
// round by round between the backend directly and each proxy. Reported per proxy: its
// requests/s, added p50/p99 against the direct rounds, and its CPU time per request.
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/processes.js';
import { load, merge, type Round, type Target } from './ingress-bench.js';
import type { Metric } from './metric.js';

const CHILD = fileURLToPath(new URL('./ingress-proxy-child.js', import.meta.url));

function start(args: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
}

export async function benchIngressProxies(opts: { concurrency: number; seconds: number; rounds: number }): Promise<Metric[]> {
  const children: ChildProcess[] = [];
  try {
    const backendPort = await freePort();
    const backend = await start(['backend', String(backendPort), '0']);
    children.push(backend);
    const targets: { name: string; target: Target; pid?: number }[] = [{ name: 'direct', target: { host: '127.0.0.1', port: backendPort } }];
    for (const name of ['pikube', 'http-proxy-3']) {
      const port = await freePort();
      const child = await start([name, String(port), String(backendPort)]);
      children.push(child);
      targets.push({ name, target: { host: '127.0.0.1', port, hostHeader: 'bench.home.lan' }, ...(child.pid ? { pid: child.pid } : {}) });
    }
    for (const t of targets) await load(t.target, opts.concurrency, 1);
    const rounds = new Map<string, Round[]>(targets.map((t) => [t.name, []]));
    for (let i = 0; i < opts.rounds; i++) {
      for (const t of targets) rounds.get(t.name)!.push(await load(t.target, opts.concurrency, opts.seconds, { ...(t.pid ? { proxy: t.pid } : {}), ...(backend.pid ? { backend: backend.pid } : {}) }));
    }
    const direct = merge(rounds.get('direct')!);
    const metrics: Metric[] = [];
    const notes: string[] = [`direct ${Math.round(direct.rps)} req/s p50 ${direct.p50.toFixed(2)} ms p99 ${direct.p99.toFixed(2)} ms, backend ${direct.usPerRequest.backend.toFixed(0)} µs/request`];
    for (const t of targets.slice(1)) {
      const m = merge(rounds.get(t.name)!);
      const key = t.name.replace(/\W/g, '_');
      notes.push(`${t.name} ${Math.round(m.rps)} req/s p50 ${m.p50.toFixed(2)} ms p99 ${m.p99.toFixed(2)} ms (${m.errors} errors), proxy ${m.usPerRequest.proxy.toFixed(0)} µs/request`);
      metrics.push(
        { metric: `proxy_${key}_rps`, value: m.rps, unit: 'req/s' },
        { metric: `proxy_${key}_throughput_loss`, value: Math.max(0, (1 - m.rps / direct.rps) * 100), unit: '%' },
        { metric: `proxy_${key}_added_p99`, value: m.p99 - direct.p99, unit: 'ms' },
        { metric: `proxy_${key}_cpu_per_request`, value: m.usPerRequest.proxy, unit: 'µs' },
      );
    }
    const note = `${opts.concurrency} connections, ${opts.rounds}×${opts.seconds} s per target, loopback, load average ${loadavg()[0]!.toFixed(1)}; ${notes.join('; ')}`;
    return [{ metric: 'proxy_direct_rps', value: direct.rps, unit: 'req/s', note }, ...metrics];
  } finally {
    for (const c of children) c.kill('SIGTERM');
  }
}

// Ingress proxy benchmark: a real controller, a real podman agent with its ingress proxy
// on loopback, one web server pod behind a Service and an Ingress. The pod runs the host's
// Node.js binary (mounted read-only from the host) as a small keep-alive HTTP server: the
// busybox httpd of the other tests forks per connection and closes it, so it would measure
// itself rather than the proxy. The same client
// (50 concurrent connections, keep-alive where the server allows it) alternates, round
// by round in one run, between the pod directly (its pod IP) and the ingress proxy (Host
// header). Reported: requests/s both ways, the throughput the proxy costs, and the added
// latency at p50 and p99 (proxy percentile minus direct percentile). Also the CPU time
// each party spent per request (the agent process that runs the proxy, the pod's server,
// the load generator): contention on a shared machine moves the rates, these much less,
// and they show whether the load generator itself was the limit.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../test/helpers/podman-image.js';
import { freePort, removeDir, startAgent, startController, waitFor } from '../test/helpers/processes.js';
import { ApiClient, percentile } from '../test/helpers/api-client.js';
import type { Metric } from './metric.js';

/** What the host's node binary needs inside a busybox container: itself and its shared libraries. */
const HOST_RUNTIME = ['/usr', '/lib', '/lib64'];
const SERVER = "require('http').createServer((q, s) => s.end('hello from ' + require('os').hostname() + '\\n')).listen(8080)";

export interface Target { host: string; port: number; hostHeader?: string }
export interface Round { requests: number; errors: number; seconds: number; latencies: number[]; cpu: { client: number; proxy: number; backend: number } }

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** `concurrency` lanes each sending GET / back to back for `seconds`. */
export async function load(target: Target, concurrency: number, seconds: number, pids: { proxy?: number; backend?: number } = {}): Promise<Round> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  const c0 = process.cpuUsage(), p0 = cpuSeconds(pids.proxy), b0 = cpuSeconds(pids.backend);
  const started = performance.now();
  const until = started + seconds * 1000;
  const once = () => new Promise<void>((resolve) => {
    const t0 = performance.now();
    const req = http.get({ host: target.host, port: target.port, path: '/', agent, headers: target.hostHeader ? { host: target.hostHeader } : {} }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) latencies.push(performance.now() - t0);
        else errors++;
        resolve();
      });
    });
    req.on('error', () => { errors++; resolve(); });
  });
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < until) await once();
  }));
  agent.destroy();
  const c = process.cpuUsage(c0);
  const cpu = { client: (c.user + c.system) / 1e6, proxy: cpuSeconds(pids.proxy) - p0, backend: cpuSeconds(pids.backend) - b0 };
  return { requests: latencies.length, errors, seconds: (performance.now() - started) / 1000, latencies, cpu };
}

export function merge(rounds: Round[]) {
  const all = rounds.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const requests = rounds.reduce((s, r) => s + r.requests, 0);
  const seconds = rounds.reduce((s, r) => s + r.seconds, 0);
  const cpu = (k: keyof Round['cpu']) => rounds.reduce((s, r) => s + r.cpu[k], 0);
  return {
    rps: requests / seconds, p50: percentile(all, 50), p99: percentile(all, 99), errors: rounds.reduce((s, r) => s + r.errors, 0),
    /** CPU microseconds per request, and the load generator's share of one core. */
    usPerRequest: { client: (cpu('client') / requests) * 1e6, proxy: (cpu('proxy') / requests) * 1e6, backend: (cpu('backend') / requests) * 1e6 },
    clientCores: cpu('client') / seconds,
  };
}

/** The host PID of the pod's server process (rootful podman: the container's first process). */
async function containerPid(node: string): Promise<number | undefined> {
  const ids = (await execa('podman', ['ps', '-q', '--filter', `label=pikube.io/node=${node}`, '--filter', 'label=pikube.io/container=web'], { reject: false })).stdout.split('\n').filter(Boolean);
  for (const id of ids) {
    const pid = Number((await execa('podman', ['inspect', '-f', '{{.State.Pid}}', id], { reject: false })).stdout);
    if (pid > 0) return pid;
  }
  return undefined;
}

export async function benchIngress(opts: { concurrency: number; seconds: number; rounds: number }): Promise<Metric[]> {
  await ensureBusyboxImage();
  const ctrl = await startController();
  const node = `bench-ingress-${randomBytes(3).toString('hex')}`;
  const httpPort = await freePort();
  const agent = startAgent(ctrl, { nodeName: node, runtime: 'podman', args: ['--ingress', 'on', '--ingress-address', '127.0.0.1', '--ingress-http-port', String(httpPort), '--ingress-https-port', String(await freePort())] });
  const api = new ApiClient(ctrl.kubeconfig, { maxSockets: 4 });
  try {
    await api.post('/api/v1/namespaces/default/pods', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        nodeName: node, terminationGracePeriodSeconds: 0,
        containers: [{
          name: 'web', image: BUSYBOX_IMAGE, imagePullPolicy: 'Never',
          command: [process.execPath, '-e', SERVER],
          ports: [{ containerPort: 8080 }], readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
          volumeMounts: HOST_RUNTIME.map((path, i) => ({ name: `host-${i}`, mountPath: path, readOnly: true })),
        }],
        volumes: HOST_RUNTIME.map((path, i) => ({ name: `host-${i}`, hostPath: { path, type: 'Directory' } })),
      },
    });
    await api.post('/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } });
    await api.post('/apis/networking.k8s.io/v1/namespaces/default/ingresses', {
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web' },
      spec: { rules: [{ host: 'bench.home.lan', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    });
    const podIP = await waitFor('the pod ready with an IP', async () => {
      const r = await api.get('/api/v1/namespaces/default/pods/web');
      const ready = r.body?.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
      return ready && r.body.status.podIP ? String(r.body.status.podIP) : false;
    }, 120_000, 250);
    const direct: Target = { host: podIP, port: 8080 };
    const proxied: Target = { host: '127.0.0.1', port: httpPort, hostHeader: 'bench.home.lan' };
    await waitFor('the proxy routes to the pod', async () => (await load(proxied, 1, 0.05)).requests > 0, 30_000, 200);
    // warm-up both ways, then alternate so that machine noise falls on both alike
    await load(direct, opts.concurrency, 1);
    await load(proxied, opts.concurrency, 1);
    const d: Round[] = [], p: Round[] = [];
    const pids = { proxy: agent.child.pid, backend: await containerPid(node) };
    for (let i = 0; i < opts.rounds; i++) {
      d.push(await load(direct, opts.concurrency, opts.seconds, pids));
      p.push(await load(proxied, opts.concurrency, opts.seconds, pids));
    }
    const a = merge(d), b = merge(p);
    const us = (m: ReturnType<typeof merge>) => `CPU per request: client ${m.usPerRequest.client.toFixed(0)} µs, proxy ${m.usPerRequest.proxy.toFixed(0)} µs, pod ${pids.backend ? m.usPerRequest.backend.toFixed(0) : '?'} µs; client at ${m.clientCores.toFixed(2)} cores`;
    const note = `${opts.concurrency} connections, ${opts.rounds}×${opts.seconds} s each way, node http server pod, load average ${loadavg()[0]!.toFixed(1)}; ` +
      `direct ${Math.round(a.rps)} req/s p50 ${a.p50.toFixed(2)} ms p99 ${a.p99.toFixed(2)} ms (${a.errors} errors; ${us(a)}), ` +
      `via ingress ${Math.round(b.rps)} req/s p50 ${b.p50.toFixed(2)} ms p99 ${b.p99.toFixed(2)} ms (${b.errors} errors; ${us(b)})`;
    return [
      { metric: 'ingress_direct_rps', value: a.rps, unit: 'req/s', note },
      { metric: 'ingress_proxy_rps', value: b.rps, unit: 'req/s' },
      { metric: 'ingress_throughput_loss', value: Math.max(0, (1 - b.rps / a.rps) * 100), unit: '%', goal: { op: '<=', value: 10 } },
      { metric: 'ingress_added_latency_p50', value: b.p50 - a.p50, unit: 'ms' },
      { metric: 'ingress_added_latency_p99', value: b.p99 - a.p99, unit: 'ms', goal: { op: '<=', value: 1 } },
      { metric: 'ingress_proxy_cpu_per_request', value: b.usPerRequest.proxy, unit: 'µs' },
      ...(pids.backend ? [{ metric: 'ingress_pod_cpu_per_request', value: b.usPerRequest.backend, unit: 'µs' }] : []),
      { metric: 'ingress_client_cpu_per_request', value: b.usPerRequest.client, unit: 'µs' },
    ];
  } finally {
    api.close();
    await agent.kill();
    await ctrl.kill();
    const ids = (await execa('podman', ['ps', '-aq', '--filter', `label=pikube.io/node=${node}`], { reject: false })).stdout.split('\n').filter(Boolean);
    if (ids.length) await execa('podman', ['rm', '-f', '-t', '0', ...ids], { reject: false });
    const pods = (await execa('podman', ['pod', 'ps', '-q', '--filter', `label=pikube.io/node=${node}`], { reject: false })).stdout.split('\n').filter(Boolean);
    if (pods.length) await execa('podman', ['pod', 'rm', '-f', '-t', '0', ...pods], { reject: false });
    removeDir(ctrl.dir);
    removeDir(agent.dir);
  }
}

// API server benchmarks against a real controller process over TLS: durable creates at
// 50 concurrent clients, kubectl's Table list of 1,000 pods, and watch delivery latency.
import { performance } from 'node:perf_hooks';
import { removeDir, startController, type ControllerHandle } from '../test/helpers/processes.js';
import { ApiClient, percentile, runConcurrently } from '../test/helpers/api-client.js';
import type { Metric } from './metric.js';

/** What kubectl 1.32 sends when it lists. */
export const KUBECTL_TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

export async function withController<T>(fn: (ctrl: ControllerHandle, api: ApiClient) => Promise<T>, maxSockets = 64): Promise<T> {
  const ctrl = await startController();
  const api = new ApiClient(ctrl.kubeconfig, { maxSockets });
  try {
    const ns = await api.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    if (ns.status !== 201) throw new Error(`cannot create namespace bench: ${ns.status} ${ns.text}`);
    return await fn(ctrl, api);
  } finally {
    api.close();
    await ctrl.kill();
    removeDir(ctrl.dir);
  }
}

export function benchConfigMap(name: string): object {
  return {
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { name, labels: { app: 'bench', tier: 'api' } },
    data: { 'settings.ini': `[server]\nname=${name}\nport=8080\nthreads=4\n`, mode: 'production' },
  };
}

/** A pod the scheduler leaves alone (no scheduler by that name), so nothing else writes. */
export function benchPod(name: string): object {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, labels: { app: 'bench', 'pod-template-hash': '5d9f7c8b6' } },
    spec: {
      schedulerName: 'bench-no-scheduler',
      containers: [{
        name: 'app', image: 'localhost/busybox:latest', imagePullPolicy: 'IfNotPresent',
        command: ['/bin/httpd', '-f', '-p', '8080'], ports: [{ containerPort: 8080, protocol: 'TCP' }],
        resources: { requests: { cpu: '50m', memory: '16Mi' }, limits: { cpu: '200m', memory: '64Mi' } },
      }],
    },
  };
}

export async function createMany(api: ApiClient, path: string, total: number, concurrency: number, make: (i: number) => object, latencies?: number[]): Promise<void> {
  await runConcurrently(total, concurrency, async (i) => {
    const t0 = performance.now();
    const r = await api.post(path, make(i));
    if (r.status !== 201) throw new Error(`create #${i}: ${r.status} ${r.text.slice(0, 300)}`);
    latencies?.push(performance.now() - t0);
  });
}

export async function benchApiCreates(o: { total: number; concurrency: number }): Promise<Metric[]> {
  return withController(async (_ctrl, api) => {
    const path = '/api/v1/namespaces/bench/configmaps';
    // Warm up: TLS sessions for every client, JIT.
    await createMany(api, path, o.concurrency * 10, o.concurrency, (i) => benchConfigMap(`warm-${i}`));
    const lat: number[] = [];
    const t0 = performance.now();
    await createMany(api, path, o.total, o.concurrency, (i) => benchConfigMap(`cm-${i}`), lat);
    const seconds = (performance.now() - t0) / 1000;
    lat.sort((a, b) => a - b);
    const note = `${o.total} configmaps, ${o.concurrency} concurrent keep-alive TLS clients, 201 only after fsync`;
    return [
      { metric: 'api_creates_per_second', value: o.total / seconds, unit: 'creates/s', goal: { op: '>=', value: 2000 }, note },
      { metric: 'api_create_latency_p50', value: percentile(lat, 50), unit: 'ms' },
      { metric: 'api_create_latency_p99', value: percentile(lat, 99), unit: 'ms' },
    ];
  }, o.concurrency);
}

export async function benchTableList(o: { pods: number; requests: number }): Promise<Metric[]> {
  return withController(async (_ctrl, api) => {
    await createMany(api, '/api/v1/namespaces/bench/pods', o.pods, 50, (i) => benchPod(`pod-${String(i).padStart(5, '0')}`));
    const path = '/api/v1/namespaces/bench/pods?limit=500';
    const all = '/api/v1/namespaces/bench/pods';
    const once = async (p: string) => {
      const t0 = performance.now();
      const r = await api.get(p, { accept: KUBECTL_TABLE_ACCEPT });
      const ms = performance.now() - t0;
      if (r.status !== 200 || r.body.kind !== 'Table') throw new Error(`table list: ${r.status} ${r.text.slice(0, 300)}`);
      return { ms, rows: r.body.rows.length as number, bytes: r.text.length };
    };
    for (let i = 0; i < 10; i++) await once(all);
    const lat: number[] = [];
    let rows = 0;
    let bytes = 0;
    for (let i = 0; i < o.requests; i++) {
      const r = await once(all);
      lat.push(r.ms);
      rows = r.rows;
      bytes = r.bytes;
    }
    if (rows !== o.pods) throw new Error(`table had ${rows} rows, expected ${o.pods}`);
    // kubectl itself pages by 500: the first page, as `kubectl get pods` asks for it.
    const paged: number[] = [];
    for (let i = 0; i < o.requests; i++) paged.push((await once(path)).ms);
    lat.sort((a, b) => a - b);
    paged.sort((a, b) => a - b);
    return [
      { metric: 'table_list_1000_pods_p99', value: percentile(lat, 99), unit: 'ms', goal: { op: '<=', value: 50 }, note: `${o.pods} pods in one Table (${Math.round(bytes / 1024)} KiB, includeObject=Metadata), ${o.requests} sequential requests` },
      { metric: 'table_list_1000_pods_p50', value: percentile(lat, 50), unit: 'ms' },
      { metric: 'table_list_first_page_500_p99', value: percentile(paged, 99), unit: 'ms', note: 'limit=500, as kubectl pages' },
    ];
  });
}

export async function benchWatchLatency(o: { writes: number }): Promise<Metric[]> {
  return withController(async (_ctrl, api) => {
    const arrivals = new Map<string, (t: number) => void>();
    const list = await api.get('/api/v1/namespaces/bench/configmaps');
    const rv = list.body.metadata.resourceVersion as string;
    const stream = await openWatch(api, `/api/v1/namespaces/bench/configmaps?watch=true&resourceVersion=${rv}`, (ev) => {
      if (ev.type !== 'ADDED') return;
      const done = arrivals.get(ev.object.metadata.name);
      if (done) { arrivals.delete(ev.object.metadata.name); done(performance.now()); }
    });
    try {
      const lat: number[] = [];
      for (let i = -50; i < o.writes; i++) {
        const name = `w-${i}`;
        const arrived = new Promise<number>((resolve) => arrivals.set(name, resolve));
        const t0 = performance.now();
        const [r, at] = await Promise.all([api.post('/api/v1/namespaces/bench/configmaps', benchConfigMap(name)), arrived]);
        if (r.status !== 201) throw new Error(`create: ${r.status} ${r.text}`);
        if (i >= 0) lat.push(at - t0);
      }
      lat.sort((a, b) => a - b);
      const note = `${o.writes} sequential creates; from sending the write to the watcher reading its event (includes the fsync)`;
      return [
        { metric: 'watch_delivery_latency_p99', value: percentile(lat, 99), unit: 'ms', goal: { op: '<=', value: 10 }, note },
        { metric: 'watch_delivery_latency_p50', value: percentile(lat, 50), unit: 'ms' },
      ];
    } finally {
      stream.close();
    }
  });
}

interface WatchEventLine { type: string; object: { metadata: { name: string; resourceVersion: string } } }

/** A raw streaming watch on the client's agent-less connection; calls back per event line. */
export async function openWatch(api: ApiClient, path: string, onEvent: (e: WatchEventLine) => void): Promise<{ close(): void }> {
  const { request } = await import('node:https');
  const url = new URL(api.access.server);
  return new Promise((resolve, reject) => {
    const req = request({
      host: url.hostname, port: url.port, path, method: 'GET', ca: api.access.ca, agent: false,
      headers: { Authorization: `Bearer ${api.access.token}`, Accept: 'application/json' },
    }, (res) => {
      if (res.statusCode !== 200) { reject(new Error(`watch: HTTP ${res.statusCode}`)); res.resume(); return; }
      res.socket.setNoDelay(true);
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.trim()) onEvent(JSON.parse(line) as WatchEventLine);
        }
      });
      res.on('error', () => undefined);
      resolve({ close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

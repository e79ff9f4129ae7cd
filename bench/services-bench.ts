// Service benchmarks: the proxy's data path and how fast it follows endpoint changes.
//
// Data path (`benchServiceDataPath`): a node network namespace with a pod bridge, a
// "server pod" namespace (TCP echo and bulk servers) and a "client pod" namespace on
// that bridge, like a CNI bridge on a real node. The real ServiceProxy runs twice in the
// node namespace, once in iptables mode and once in user-space mode, each for its own
// Service (hand-made routing payload, no controller). The client measures, interleaved
// round by round in the same run: bulk throughput over one kept-alive connection and
// round-trip latency of 64-byte messages, talking to the server pod directly, through the
// iptables Service and through the user-space Service. The host's own tables are untouched.
//
// Endpoint change (`benchEndpointChange`): a real controller and two real agents
// (simulated runtime, `--proxy-mode iptables` and `--proxy-mode userspace`), each agent in
// a network namespace of its own on a bridge with the controller, and 100 selector-less
// Services whose Endpoints point at greeting servers on the bridge. Each change patches
// one Service's Endpoints to the other server; a probe inside each agent's namespace
// connects to the ClusterIP until the new server answers. The controller's share (patch
// → routing payload on MQTT, seen by a subscriber with the controller's credentials) is
// reported beside the total.
//
// Roles run as child processes inside the namespaces: `node dist/bench/services-bench.js
// serve|client|proxy|probe '<json>'`.
import { randomBytes, randomInt } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import pino from 'pino';
import { ServiceProxy, type ProxyMode } from '../agent/proxy/service-proxy.js';
import { MqttLink } from '../protocol/mqtt/link.js';
import { Topics } from '../protocol/mqtt/topics.js';
import type { ServiceRoute, ServiceRoutingPayload } from '../protocol/mqtt/payloads.js';
import { removeDir, startAgent, startController, waitFor, type AgentHandle, type ControllerHandle } from '../test/helpers/processes.js';
import { ApiClient, percentile } from '../test/helpers/api-client.js';
import type { Metric } from './metric.js';
import { NetnsWorker, inNs, sh } from './netns-worker.js';

const SELF = fileURLToPath(import.meta.url);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
const wallNow = () => performance.timeOrigin + performance.now();
const sortNum = (xs: number[]) => [...xs].sort((a, b) => a - b);

// ---------------------------------------------------------------------------------------
// Data path

interface Target { host: string; echoPort: number; bulkPort: number }
type PathName = 'direct' | 'iptables' | 'userspace';
/** Per path: MB/s and round-trip p50 of each round (same index = same round), and every round trip. */
interface ClientResult { mbPerSecond: Record<PathName, number[]>; roundRttP50: Record<PathName, number[]>; rttUs: Record<PathName, number[]> }

const ECHO_PORT = 8080;
const BULK_PORT = 8081;
const BULK_CHUNK = 256 * 1024;

function route(name: string, clusterIP: string, podIP: string): ServiceRoute {
  return {
    namespace: 'bench', name, type: 'ClusterIP', clusterIP, headless: false, sessionAffinity: 'None', externalTrafficPolicy: 'Cluster', loadBalancerIPs: [],
    ports: [
      { name: 'echo', protocol: 'TCP', port: 80, endpoints: [{ ip: podIP, port: ECHO_PORT, nodeName: 'bench-node', ready: true }] },
      { name: 'bulk', protocol: 'TCP', port: 81, endpoints: [{ ip: podIP, port: BULK_PORT, nodeName: 'bench-node', ready: true }] },
    ],
  };
}

export async function benchServiceDataPath(o: { rounds: number; pings: number; bulkMB: number }): Promise<Metric[]> {
  const sfx = randomBytes(3).toString('hex');
  const x = randomInt(1, 250);
  const ns = { node: `pkbn-${sfx}`, server: `pkbs-${sfx}`, client: `pkbc-${sfx}` };
  const net = { podCIDR: `10.250.${x}.0/24`, gateway: `10.250.${x}.1`, server: `10.250.${x}.2`, client: `10.250.${x}.3`, iptablesIP: `10.251.${x}.10`, userspaceIP: `10.251.${x}.11` };
  const workers: NetnsWorker[] = [];
  try {
    for (const n of Object.values(ns)) await sh('ip', ['netns', 'add', n]);
    await inNs(ns.node, 'ip', ['link', 'set', 'lo', 'up']);
    await inNs(ns.node, 'ip', ['link', 'add', 'cni0', 'type', 'bridge']);
    await inNs(ns.node, 'ip', ['addr', 'add', `${net.gateway}/24`, 'dev', 'cni0']);
    await inNs(ns.node, 'ip', ['link', 'set', 'cni0', 'up']);
    await inNs(ns.node, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    for (const [pod, ip] of [[ns.server, net.server], [ns.client, net.client]] as const) {
      const host = `v${pod === ns.server ? 's' : 'c'}${sfx}`;
      await inNs(ns.node, 'ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod]);
      await inNs(ns.node, 'ip', ['link', 'set', host, 'master', 'cni0', 'up']);
      await inNs(pod, 'ip', ['link', 'set', 'lo', 'up']);
      await inNs(pod, 'ip', ['addr', 'add', `${ip}/24`, 'dev', 'eth0']);
      await inNs(pod, 'ip', ['link', 'set', 'eth0', 'up']);
      await inNs(pod, 'ip', ['route', 'add', 'default', 'via', net.gateway]);
    }

    const server = new NetnsWorker(SELF, ns.server, 'serve', { host: net.server, echoPort: ECHO_PORT, bulkPort: BULK_PORT });
    workers.push(server);
    await server.next((m) => m.ready, 20_000, 'the servers');

    const proxies: Record<'iptables' | 'userspace', NetnsWorker> = {
      iptables: new NetnsWorker(SELF, ns.node, 'proxy', { mode: 'iptables', node: 'bench-node', interfaceName: 'pkb-ipt', podCIDR: net.podCIDR }),
      userspace: new NetnsWorker(SELF, ns.node, 'proxy', { mode: 'userspace', node: 'bench-node', interfaceName: 'pkb-usr', podCIDR: net.podCIDR }),
    };
    workers.push(...Object.values(proxies));
    for (const [mode, w] of Object.entries(proxies)) {
      const started = await w.next((m) => m.started, 30_000, `${mode} proxy start`);
      if (started.started !== mode) throw new Error(`proxy came up in ${started.started} mode, wanted ${mode}`);
    }
    proxies.iptables.send({ generation: 1, services: [route('via-iptables', net.iptablesIP, net.server)] } satisfies ServiceRoutingPayload);
    proxies.userspace.send({ generation: 1, services: [route('via-userspace', net.userspaceIP, net.server)] } satisfies ServiceRoutingPayload);
    for (const w of Object.values(proxies)) await w.next((m) => m.synced === 1, 30_000, 'proxy sync');

    const targets: Record<PathName, Target> = {
      direct: { host: net.server, echoPort: ECHO_PORT, bulkPort: BULK_PORT },
      iptables: { host: net.iptablesIP, echoPort: 80, bulkPort: 81 },
      userspace: { host: net.userspaceIP, echoPort: 80, bulkPort: 81 },
    };
    const client = new NetnsWorker(SELF, ns.client, 'client', { targets, rounds: o.rounds, pings: o.pings, bulkBytes: o.bulkMB * 1e6 });
    workers.push(client);
    const result = (await client.next((m) => m.result, 600_000, 'the client\'s measurements')).result as ClientResult;

    const median = (xs: number[]) => percentile(sortNum(xs), 50);
    const mbps = (p: PathName) => median(result.mbPerSecond[p]);
    const rtt = (p: PathName, q: number) => percentile(sortNum(result.rttUs[p]), q);
    // paired by round: the loss and added latency of each round, then their median
    const loss = (p: PathName) => median(result.mbPerSecond[p].map((v, r) => (1 - v / result.mbPerSecond.direct[r]!) * 100));
    const added = (p: PathName) => median(result.roundRttP50[p].map((v, r) => v - result.roundRttP50.direct[r]!));
    const note = `pod → pod on one node's bridge, median of ${o.rounds} interleaved rounds of ${o.bulkMB} MB each over one kept-alive TCP connection per path`;
    const metrics: Metric[] = [
      { metric: 'svc_direct_throughput', value: mbps('direct'), unit: 'MB/s', note: `${note}, to the pod IP` },
      { metric: 'svc_iptables_throughput', value: mbps('iptables'), unit: 'MB/s', note: 'the same, to the ClusterIP (iptables DNAT)' },
      { metric: 'svc_userspace_throughput', value: mbps('userspace'), unit: 'MB/s', note: 'the same, to the ClusterIP (user-space proxy)' },
      { metric: 'svc_iptables_throughput_loss', value: loss('iptables'), unit: '%', goal: { op: '<=', value: 10 }, note: 'kernel mode against direct, median of the per-round losses' },
      { metric: 'svc_userspace_throughput_loss', value: loss('userspace'), unit: '%', note: 'user-space mode against direct' },
    ];
    for (const p of ['direct', 'iptables', 'userspace'] as const) {
      metrics.push({ metric: `svc_${p}_rtt_p50`, value: rtt(p, 50), unit: 'µs', ...(p === 'direct' ? { note: `${o.rounds} rounds × ${o.pings} round trips of 64 bytes on one kept-alive connection per path` } : {}) });
      metrics.push({ metric: `svc_${p}_rtt_p99`, value: rtt(p, 99), unit: 'µs' });
    }
    for (const p of ['iptables', 'userspace'] as const) {
      metrics.push({ metric: `svc_${p}_added_latency_p50`, value: added(p), unit: 'µs', note: 'round-trip p50 against direct, median of the per-round differences' });
    }
    return metrics;
  } finally {
    for (const w of workers.reverse()) await w.end().catch(() => undefined);
    for (const n of Object.values(ns)) await execa('ip', ['netns', 'del', n], { reject: false });
  }
}

/** Echo server and bulk server (8-byte big-endian request: that many bytes back). */
async function serveRole(a: { host: string; echoPort: number; bulkPort: number }): Promise<void> {
  const chunk = Buffer.alloc(BULK_CHUNK, 0x61);
  const echo = createServer((s) => { s.setNoDelay(true); s.on('error', () => undefined); s.pipe(s); });
  const bulk = createServer((s) => {
    s.setNoDelay(true);
    s.on('error', () => undefined);
    let pending = Buffer.alloc(0);
    let sending = Promise.resolve();
    s.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 8) {
        let left = Number(pending.readBigUInt64BE(0));
        pending = pending.subarray(8);
        sending = sending.then(async () => {
          while (left > 0 && !s.destroyed) {
            const n = Math.min(left, BULK_CHUNK);
            left -= n;
            if (!s.write(n === BULK_CHUNK ? chunk : chunk.subarray(0, n))) await once(s, 'drain');
          }
        });
      }
    });
  });
  const listen = (srv: Server, port: number) => new Promise<void>((r, j) => { srv.once('error', j); srv.listen(port, a.host, () => r()); });
  await listen(echo, a.echoPort);
  await listen(bulk, a.bulkPort);
  console.log(JSON.stringify({ ready: true }));
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

function connectTo(host: string, port: number, localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host, port, ...(localAddress ? { localAddress } : {}) }, () => { s.off('error', reject); resolve(s); });
    s.once('error', reject);
  });
}

/** Measures every path, round by round in a rotating order, on connections kept open. */
async function clientRole(a: { targets: Record<PathName, Target>; rounds: number; pings: number; bulkBytes: number }): Promise<void> {
  const paths = Object.keys(a.targets) as PathName[];
  const conns = new Map<PathName, { echo: Socket; bulk: Socket }>();
  for (const p of paths) {
    const t = a.targets[p];
    const echo = await connectTo(t.host, t.echoPort);
    const bulk = await connectTo(t.host, t.bulkPort);
    echo.setNoDelay(true);
    bulk.setNoDelay(true);
    conns.set(p, { echo, bulk });
  }
  const msg = Buffer.alloc(64, 0x62);
  const pingPong = async (s: Socket, n: number, out?: number[]) => {
    let got = 0;
    let wake: (() => void) | undefined;
    const onData = (d: Buffer) => { got += d.length; if (got >= 64 && wake) { const w = wake; wake = undefined; w(); } };
    s.on('data', onData);
    for (let i = 0; i < n; i++) {
      got = 0;
      const t0 = performance.now();
      const done = new Promise<void>((r) => { wake = r; });
      s.write(msg);
      await done;
      out?.push((performance.now() - t0) * 1000);
    }
    s.off('data', onData);
  };
  const download = async (s: Socket, bytes: number): Promise<number> => {
    let got = 0;
    const t0 = performance.now();
    const done = new Promise<void>((r) => {
      const onData = (d: Buffer) => { got += d.length; if (got >= bytes) { s.off('data', onData); r(); } };
      s.on('data', onData);
    });
    const req = Buffer.alloc(8);
    req.writeBigUInt64BE(BigInt(bytes));
    s.write(req);
    await done;
    return bytes / 1e6 / ((performance.now() - t0) / 1000);
  };
  const result: ClientResult = { mbPerSecond: { direct: [], iptables: [], userspace: [] }, rttUs: { direct: [], iptables: [], userspace: [] }, roundRttP50: { direct: [], iptables: [], userspace: [] } };
  for (const p of paths) { // warm-up: JIT, conntrack, socket buffers
    await pingPong(conns.get(p)!.echo, 200);
    await download(conns.get(p)!.bulk, Math.min(a.bulkBytes, 16e6));
  }
  // short rounds, every path in each, so that the machine's load (shared, 2 cores) weighs
  // on all paths alike; comparisons are made round by round
  for (let r = 0; r < a.rounds; r++) {
    const order = paths.map((_, i) => paths[(i + r) % paths.length]!);
    for (const p of order) {
      const rtts: number[] = [];
      await pingPong(conns.get(p)!.echo, a.pings, rtts);
      result.rttUs[p].push(...rtts);
      result.roundRttP50[p].push(percentile(sortNum(rtts), 50));
    }
    for (const p of order) result.mbPerSecond[p].push(await download(conns.get(p)!.bulk, a.bulkBytes));
  }
  for (const c of conns.values()) { c.echo.destroy(); c.bulk.destroy(); }
  console.log(JSON.stringify({ result }));
}

/** The real ServiceProxy; each stdin line is a routing payload; stdin closed = stop and clean up. */
async function proxyRole(a: { mode: ProxyMode; node: string; interfaceName: string; podCIDR?: string }): Promise<void> {
  const log = pino({ level: 'warn' }, pino.destination(2));
  const proxy = new ServiceProxy({ nodeName: a.node, mode: a.mode, log, interfaceName: a.interfaceName, manageInterface: true, podCIDR: () => a.podCIDR });
  const mode = await proxy.start();
  console.log(JSON.stringify({ started: mode }));
  const lines = createInterface({ input: process.stdin });
  let work = Promise.resolve();
  lines.on('line', (line) => {
    const p = JSON.parse(line) as ServiceRoutingPayload;
    work = work.then(() => proxy.update(p)).then(() => console.log(JSON.stringify({ synced: p.generation, syncMs: proxy.lastSyncMs })));
  });
  lines.on('close', () => { void work.then(() => proxy.stop()).finally(() => process.exit(0)); });
}

// ---------------------------------------------------------------------------------------
// Endpoint change → proxy

/**
 * Waits for a ClusterIP to answer with the expected greeting. Each request:
 * `{id, host, port, expect, localAddress}`; each reply: `{id, at}` (wall clock ms).
 */
async function probeRole(a: { everyMs: number }): Promise<void> {
  const greeting = (host: string, port: number, localAddress: string) => new Promise<string>((resolve) => {
    const s = createConnection({ host, port, localAddress });
    let buf = '';
    const finish = (v: string) => { s.destroy(); resolve(v); };
    s.setTimeout(1000, () => finish(''));
    s.on('error', () => finish(''));
    s.on('data', (d) => { buf += d.toString(); if (buf.includes('\n')) finish(buf.slice(0, buf.indexOf('\n'))); });
    s.on('end', () => finish(buf));
  });
  createInterface({ input: process.stdin }).on('line', (line) => {
    const q = JSON.parse(line) as { id: number; host: string; port: number; expect: string; localAddress: string; timeoutMs: number };
    void (async () => {
      const end = wallNow() + q.timeoutMs;
      while (wallNow() < end) {
        if ((await greeting(q.host, q.port, q.localAddress)) === q.expect) { console.log(JSON.stringify({ id: q.id, at: wallNow() })); return; }
        await sleep(a.everyMs);
      }
      console.log(JSON.stringify({ id: q.id, timedOut: true }));
    })();
  });
  process.stdin.on('end', () => process.exit(0));
}

interface Host { mode: 'iptables' | 'userspace'; ns: string; veth: string; address: string; node: string; agent?: AgentHandle; probe?: NetnsWorker }

export async function benchEndpointChange(o: { services: number; changes: number }): Promise<Metric[]> {
  const sfx = randomBytes(3).toString('hex');
  const subnet = `10.253.${randomInt(1, 250)}`;
  const bridge = `pkbe${sfx}`;
  const gateway = `${subnet}.1`;
  const hosts: Host[] = (['iptables', 'userspace'] as const).map((mode, i) => ({
    mode, ns: `pkbe-${sfx}-${i}`, veth: `pkbe${sfx}${i}`, address: `${subnet}.${11 + i}`, node: `bench-ep-${mode}-${sfx}`,
  }));
  let ctrl: ControllerHandle | undefined;
  let api: ApiClient | undefined;
  let mqtt: MqttLink | undefined;
  const servers: Server[] = [];
  try {
    await sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
    await sh('ip', ['addr', 'add', `${gateway}/24`, 'dev', bridge]);
    await sh('ip', ['link', 'set', bridge, 'up']);
    for (const h of hosts) {
      await sh('ip', ['netns', 'add', h.ns]);
      await sh('ip', ['link', 'add', h.veth, 'type', 'veth', 'peer', 'name', 'lan0', 'netns', h.ns]);
      await sh('ip', ['link', 'set', h.veth, 'master', bridge, 'up']);
      await inNs(h.ns, 'ip', ['addr', 'add', `${h.address}/24`, 'dev', 'lan0']);
      await inNs(h.ns, 'ip', ['link', 'set', 'lan0', 'up']);
      await inNs(h.ns, 'ip', ['link', 'set', 'lo', 'up']);
    }
    // the two endpoints every Service switches between: each greets with its name
    const endpoints: Record<'A' | 'B', number> = { A: 0, B: 0 };
    for (const name of ['A', 'B'] as const) {
      const srv = createServer((s) => { s.on('error', () => undefined); s.end(`${name}\n`); });
      await new Promise<void>((r, j) => { srv.once('error', j); srv.listen(0, gateway, () => r()); });
      servers.push(srv);
      endpoints[name] = (srv.address() as { port: number }).port;
    }

    ctrl = await startController({ host: gateway });
    api = new ApiClient(ctrl.kubeconfig, { maxSockets: 8 });
    for (const h of hosts) {
      h.agent = startAgent(ctrl, { nodeName: h.node, runtime: 'simulated', netns: h.ns, args: ['--proxy-mode', h.mode] });
      h.probe = new NetnsWorker(SELF, h.ns, 'probe', { everyMs: 3 });
    }
    const client = api;
    await waitFor('both bench nodes Ready', async () => {
      const r = await client.get('/api/v1/nodes');
      const items = (r.body?.items ?? []) as { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
      return hosts.every((h) => items.some((n) => n.metadata.name === h.node && n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')));
    }, 60_000, 200);

    // 100 Services without selector, their Endpoints written by hand (as a user may)
    const names = Array.from({ length: o.services }, (_, i) => `bench-ep-${i}`);
    const epBody = (name: string, which: 'A' | 'B') => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name }, subsets: [{ addresses: [{ ip: gateway }], ports: [{ port: endpoints[which], protocol: 'TCP' }] }] });
    const clusterIPs: string[] = [];
    for (const name of names) {
      const s = await client.post('/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80, protocol: 'TCP' }] } });
      if (s.status !== 201) throw new Error(`create service ${name}: ${s.status} ${s.text}`);
      clusterIPs.push(s.body.spec.clusterIP);
      const e = await client.post('/api/v1/namespaces/default/endpoints', epBody(name, 'A'));
      if (e.status !== 201) throw new Error(`create endpoints ${name}: ${e.status} ${e.text}`);
    }

    const ask = async (h: Host, id: number, svc: number, expect: string, timeoutMs: number) => {
      h.probe!.send({ id, host: clusterIPs[svc], port: 80, expect, localAddress: h.address, timeoutMs });
      const r = await h.probe!.next((m) => m.id === id, timeoutMs + 10_000, `probe ${id} on ${h.mode}`);
      if (r.timedOut) throw new Error(`${h.mode} proxy: service ${names[svc]} never answered with ${expect} (agent log: ${h.agent!.log().slice(-1500)})`);
      return r.at as number;
    };
    let nextId = 0;
    // every Service answers through both proxies before anything is timed
    await Promise.all(hosts.flatMap((h) => names.map((_, i) => ask(h, nextId++, i, 'A', 60_000))));

    // the controller's share: the routing payload that carries the change, on MQTT
    const topics = new Topics();
    const published = new Map<string, (at: number) => void>();
    mqtt = new MqttLink({ url: ctrl.mqttUrl, clientId: `bench-ep-probe-${sfx}`, username: 'pikube-controller', password: readFileSync(`${ctrl.dir}/mqtt-controller-password`, 'utf8').trim() });
    await mqtt.start({ timeoutMs: 10_000 });
    await mqtt.subscribe(topics.services(), (_t, buf) => {
      const at = wallNow();
      if (!published.size) return;
      const p = JSON.parse(buf.toString()) as ServiceRoutingPayload;
      for (const s of p.services) {
        const key = `${s.name}:${s.ports[0]?.endpoints[0]?.port}`;
        const done = published.get(key);
        if (done) { published.delete(key); done(at); }
      }
    });

    const current = names.map(() => 'A' as 'A' | 'B');
    const total: Record<Host['mode'], number[]> = { iptables: [], userspace: [] };
    const agentPart: Record<Host['mode'], number[]> = { iptables: [], userspace: [] };
    const controllerPart: number[] = [];
    for (let k = 0; k < o.changes; k++) {
      const svc = k % names.length;
      const next = current[svc] === 'A' ? 'B' : 'A';
      current[svc] = next;
      const seenOnMqtt = new Promise<number>((r) => published.set(`${names[svc]}:${endpoints[next]}`, r));
      const t0 = wallNow();
      const probes = hosts.map((h) => ask(h, nextId++, svc, next, 20_000));
      const r = await client.request('PATCH', `/api/v1/namespaces/default/endpoints/${names[svc]}`, { body: { subsets: epBody(names[svc]!, next).subsets }, contentType: 'application/merge-patch+json' });
      if (r.status !== 200) throw new Error(`patch endpoints: ${r.status} ${r.text}`);
      const [pub, ...seen] = await Promise.all([seenOnMqtt, ...probes]);
      controllerPart.push(pub - t0);
      hosts.forEach((h, i) => { total[h.mode].push(seen[i]! - t0); agentPart[h.mode].push(seen[i]! - pub); });
    }

    const note = `${o.changes} Endpoints patches over ${o.services} Services, one at a time`;
    const q = (xs: number[], p: number) => percentile(sortNum(xs), p);
    const metrics: Metric[] = [];
    for (const h of hosts) {
      metrics.push({ metric: `endpoint_change_${h.mode}_p99`, value: q(total[h.mode], 99), unit: 'ms', goal: { op: '<=', value: 1000 }, note: `${note}: PATCH sent → a new connection to the ClusterIP reaches the new endpoint (agent --proxy-mode ${h.mode})` });
      metrics.push({ metric: `endpoint_change_${h.mode}_p50`, value: q(total[h.mode], 50), unit: 'ms' });
      metrics.push({ metric: `endpoint_change_${h.mode}_agent_p99`, value: q(agentPart[h.mode], 99), unit: 'ms', note: 'routing payload on MQTT → the proxy uses the new endpoint (probe every 3 ms)' });
    }
    metrics.push({ metric: 'endpoint_change_controller_p99', value: q(controllerPart, 99), unit: 'ms', note: 'PATCH sent → routing payload with the change on MQTT (includes the 20 ms debounce)' });
    metrics.push({ metric: 'endpoint_change_controller_p50', value: q(controllerPart, 50), unit: 'ms' });
    return metrics;
  } finally {
    await mqtt?.end().catch(() => undefined);
    api?.close();
    for (const h of hosts) await h.probe?.end().catch(() => undefined);
    // SIGTERM: the agents take their rules and ClusterIP addresses down
    for (const h of hosts) await h.agent?.stop().catch(() => undefined);
    await ctrl?.kill();
    for (const s of servers) s.close();
    for (const h of hosts) {
      await execa('ip', ['netns', 'del', h.ns], { reject: false });
      await execa('ip', ['link', 'del', h.veth], { reject: false });
      if (h.agent) removeDir(h.agent.dir);
    }
    await execa('ip', ['link', 'del', bridge], { reject: false });
    if (ctrl) removeDir(ctrl.dir);
  }
}

export async function benchServices(): Promise<Metric[]> {
  return [
    ...(await benchServiceDataPath({ rounds: 60, pings: 100, bulkMB: 25 })),
    ...(await benchEndpointChange({ services: 100, changes: 200 })),
  ];
}

// ---------------------------------------------------------------------------------------
// Child process entry

const ROLES: Record<string, (a: any) => Promise<void>> = { serve: serveRole, client: clientRole, proxy: proxyRole, probe: probeRole };

if (process.argv[1] === SELF) {
  const role = ROLES[process.argv[2] ?? ''];
  if (!role) {
    console.error(`usage: services-bench.js ${Object.keys(ROLES).join('|')} '<json>'`);
    process.exit(2);
  }
  role(JSON.parse(process.argv[3] ?? '{}')).catch((err) => { console.error(String((err as Error)?.stack ?? err)); process.exit(1); });
}

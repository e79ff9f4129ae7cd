// The user-space proxy against real TCP and UDP echo servers on 127.0.0.x: round robin,
// ClientIP affinity, endpoint changes that spare established connections, listener
// removal; the rules each Service gives a node; the iptables script, applied for real
// inside a network namespace of our own.
import test from 'ava';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import pino from 'pino';
import { UserspaceProxier } from '../../agent/proxy/userspace-proxier.js';
import { serviceRules, type ServiceRule } from '../../agent/proxy/service-rules.js';
import { EndpointPicker } from '../../agent/proxy/endpoint-picker.js';
import { chainsIn, iptablesScript } from '../../agent/proxy/iptables-rules.js';
import { IptablesProxier } from '../../agent/proxy/iptables-proxier.js';
import { runCommand, isRoot } from '../../agent/network/ip-command.js';
import type { ServiceRoutingPayload, ServiceRoute } from '../../protocol/mqtt/payloads.js';
import { freePort } from '../helpers/processes.js';

const log = pino({ level: 'silent' });

/** A TCP server on 127.0.0.1 that greets with its name, then echoes. */
async function tcpEcho(name: string): Promise<{ port: number; server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => undefined); s.write(`${name}\n`); s.pipe(s); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as { port: number }).port, server, sockets };
}

async function udpEcho(name: string): Promise<{ port: number; socket: UdpSocket }> {
  const socket = createSocket('udp4');
  socket.on('message', (m, r) => socket.send(Buffer.concat([Buffer.from(`${name}:`), m]), r.port, r.address));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { port: socket.address().port, socket };
}

/** Connects and resolves with the connection and the greeting (the endpoint's name). */
function dial(port: number, host = '127.0.0.1', localAddress?: string): Promise<{ socket: Socket; name: string; next(): Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host, ...(localAddress ? { localAddress } : {}) });
    let buf = '';
    const waiters: ((line: string) => void)[] = [];
    const lines: string[] = [];
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const w = waiters.shift();
        if (w) w(line); else lines.push(line);
      }
    });
    const next = () => new Promise<string>((r, j) => {
      const l = lines.shift();
      if (l !== undefined) return r(l);
      waiters.push(r);
      socket.once('close', () => j(new Error('closed')));
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before greeting')));
    void next().then((name) => resolve({ socket, name, next }), reject);
  });
}

function rule(r: Partial<ServiceRule> & Pick<ServiceRule, 'ip' | 'port' | 'endpoints'>): ServiceRule {
  return { id: 'default/hello:http', kind: 'ClusterIP', protocol: 'TCP', local: false, ...r };
}

test('rules: ClusterIP, NodePort and LoadBalancer per port, ready endpoints only, policy Local', (t) => {
  const svc = (o: Partial<ServiceRoute>): ServiceRoute => ({
    namespace: 'default', name: 'hello', type: 'LoadBalancer', clusterIP: '10.43.0.20', headless: false, sessionAffinity: 'None', externalTrafficPolicy: 'Cluster', loadBalancerIPs: [],
    ports: [{ name: 'http', protocol: 'TCP', port: 80, nodePort: 30080, endpoints: [{ ip: '10.42.1.5', port: 8080, nodeName: 'a', ready: true }, { ip: '10.42.2.5', port: 8080, nodeName: 'b', ready: true }, { ip: '10.42.2.6', port: 8080, nodeName: 'b', ready: false }] }],
    ...o,
  });
  const p: ServiceRoutingPayload = { generation: 1, services: [svc({})] };
  const rules = serviceRules(p, 'a');
  t.deepEqual(rules.map((r) => `${r.kind} ${r.ip}:${r.port} ${r.endpoints.length}`), ['ClusterIP 10.43.0.20:80 2', 'NodePort 0.0.0.0:30080 2', 'LoadBalancer 0.0.0.0:80 2']);
  const local = serviceRules({ generation: 1, services: [svc({ externalTrafficPolicy: 'Local' })] }, 'a');
  t.deepEqual(local.map((r) => `${r.kind} ${r.endpoints.map((e) => e.ip).join(',')} ${r.local}`), ['ClusterIP 10.42.1.5,10.42.2.5 false', 'NodePort 10.42.1.5 true', 'LoadBalancer 10.42.1.5 true']);
  // a node without a local endpoint does not serve a Local LoadBalancer
  t.deepEqual(serviceRules({ generation: 1, services: [svc({ externalTrafficPolicy: 'Local' })] }, 'c').map((r) => r.kind), ['ClusterIP', 'NodePort']);
  t.deepEqual(serviceRules({ generation: 1, services: [svc({ type: 'ClusterIP', headless: true, clusterIP: 'None' })] }, 'a'), []);
  t.is(serviceRules({ generation: 1, services: [svc({ sessionAffinity: 'ClientIP' })] }, 'a')[0]!.affinitySeconds, 10800);
});

test('picker: round robin, affinity expires, failed endpoints skipped', (t) => {
  let now = 0;
  const p = new EndpointPicker(() => now);
  const eps = [{ ip: 'a', port: 1 }, { ip: 'b', port: 1 }, { ip: 'c', port: 1 }];
  p.update(eps);
  t.deepEqual([1, 2, 3, 4].map(() => p.pick('x')!.ip), ['a', 'b', 'c', 'a']);
  t.is(p.pick('x', new Set(['b:1', 'c:1']))!.ip, 'a');
  p.update(eps, 10);
  const first = p.pick('client')!.ip;
  t.deepEqual([1, 2, 3].map(() => p.pick('client')!.ip), [first, first, first]);
  now += 11_000;
  t.not(p.pick('client')!.ip, first);
  p.update([]);
  t.is(p.pick('x'), undefined);
});

test('tcp: round robin across endpoints, affinity, endpoint change spares open connections, delete closes the listener', async (t) => {
  const [a, b, c] = await Promise.all([tcpEcho('a'), tcpEcho('b'), tcpEcho('c')]);
  const proxy = new UserspaceProxier(log);
  const port = await freePort();
  t.teardown(async () => { await proxy.stop(); for (const s of [a, b, c]) { for (const x of s.sockets) x.destroy(); s.server.close(); } });
  const ep = (s: { port: number }) => ({ ip: '127.0.0.1', port: s.port });
  await proxy.sync([rule({ ip: '127.0.0.1', port, endpoints: [ep(a), ep(b), ep(c)] })]);
  t.deepEqual(proxy.bound, [`tcp/127.0.0.1:${port}`]);

  const names: string[] = [];
  for (let i = 0; i < 6; i++) { const d = await dial(port); names.push(d.name); d.socket.destroy(); }
  t.deepEqual(names, ['a', 'b', 'c', 'a', 'b', 'c']);

  // an established connection to a, then a leaves the endpoints: the connection lives on
  const held = await dial(port);
  t.is(held.name, 'a');
  await proxy.sync([rule({ ip: '127.0.0.1', port, endpoints: [ep(b), ep(c)] })]);
  held.socket.write('still there\n');
  t.is(await held.next(), 'still there');
  const fresh = new Set<string>();
  for (let i = 0; i < 4; i++) { const d = await dial(port); fresh.add(d.name); d.socket.destroy(); }
  t.deepEqual([...fresh].sort(), ['b', 'c']);

  // ClientIP affinity: one client address keeps its endpoint, another may get another
  await proxy.sync([rule({ ip: '127.0.0.1', port, endpoints: [ep(a), ep(b), ep(c)], affinitySeconds: 10800 })]);
  const sticky: string[] = [];
  for (let i = 0; i < 4; i++) { const d = await dial(port, '127.0.0.1', '127.0.0.7'); sticky.push(d.name); d.socket.destroy(); }
  t.is(new Set(sticky).size, 1);

  // an endpoint that refuses is skipped: the connection goes to the next one
  const dead = await freePort();
  await proxy.sync([rule({ ip: '127.0.0.1', port, endpoints: [{ ip: '127.0.0.1', port: dead }, ep(c)] })]);
  for (let i = 0; i < 2; i++) { const d = await dial(port); t.is(d.name, 'c'); d.socket.destroy(); }

  // the Service is deleted: nothing listens any more, the held connection still works
  await proxy.sync([]);
  t.deepEqual(proxy.bound, []);
  await t.throwsAsync(dial(port), { message: /ECONNREFUSED/ });
  held.socket.write('after delete\n');
  t.is(await held.next(), 'after delete');
  held.socket.destroy();
});

test('tcp: a wildcard LoadBalancer port and a ClusterIP on the same port are told apart by local address', async (t) => {
  const [lb, cluster] = await Promise.all([tcpEcho('lb'), tcpEcho('cluster')]);
  const proxy = new UserspaceProxier(log);
  const port = await freePort();
  t.teardown(async () => { await proxy.stop(); lb.server.close(); cluster.server.close(); });
  await proxy.sync([
    rule({ kind: 'ClusterIP', ip: '127.0.0.9', port, endpoints: [{ ip: '127.0.0.1', port: cluster.port }] }),
    rule({ kind: 'LoadBalancer', ip: '0.0.0.0', port, endpoints: [{ ip: '127.0.0.1', port: lb.port }] }),
  ]);
  t.deepEqual(proxy.bound, [`tcp/0.0.0.0:${port}`]);
  const viaCluster = await dial(port, '127.0.0.9');
  const viaNode = await dial(port, '127.0.0.1');
  t.is(viaCluster.name, 'cluster');
  t.is(viaNode.name, 'lb');
  viaCluster.socket.destroy();
  viaNode.socket.destroy();
});

test('udp: round robin per client, replies come back, delete closes the socket', async (t) => {
  const [a, b] = await Promise.all([udpEcho('a'), udpEcho('b')]);
  const proxy = new UserspaceProxier(log);
  const port = await freePort();
  t.teardown(async () => { await proxy.stop(); a.socket.close(); b.socket.close(); });
  await proxy.sync([rule({ protocol: 'UDP', ip: '127.0.0.1', port, endpoints: [{ ip: '127.0.0.1', port: a.port }, { ip: '127.0.0.1', port: b.port }] })]);
  const ask = (client: UdpSocket, text: string) => new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no reply')), 3000);
    client.once('message', (m) => { clearTimeout(timer); resolve(m.toString()); });
    client.send(text, port, '127.0.0.1');
  });
  const clients = await Promise.all([0, 1].map(async () => { const s = createSocket('udp4'); await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r())); return s; }));
  t.teardown(() => clients.forEach((c) => c.close()));
  const r1 = await ask(clients[0]!, 'ping');
  const r2 = await ask(clients[1]!, 'ping');
  t.deepEqual([r1, r2].sort(), ['a:ping', 'b:ping']);
  // a client's later datagrams go to the same endpoint
  t.is(await ask(clients[0]!, 'again'), `${r1.split(':')[0]}:again`);
  await proxy.sync([]);
  t.deepEqual(proxy.bound, []);
  await t.throwsAsync(ask(clients[0]!, 'gone'), { message: 'no reply' });
});

test('iptables script: DNAT per endpoint with random probabilities, affinity, masquerade, stale chains removed', (t) => {
  const rules: ServiceRule[] = [
    rule({ ip: '10.43.0.20', port: 80, endpoints: [{ ip: '10.42.1.5', port: 8080 }, { ip: '10.42.2.5', port: 8080 }, { ip: '10.42.2.6', port: 8080 }] }),
    rule({ kind: 'NodePort', ip: '0.0.0.0', port: 30080, endpoints: [{ ip: '10.42.1.5', port: 8080 }], local: true }),
    rule({ id: 'default/dns:53', protocol: 'UDP', ip: '10.43.0.53', port: 53, endpoints: [{ ip: '10.42.1.9', port: 53 }], affinitySeconds: 10800 }),
    rule({ id: 'default/empty:80', ip: '10.43.0.30', port: 80, endpoints: [] }),
  ];
  const { script, chains } = iptablesScript({ rules, podCIDR: '10.42.1.0/24', existingChains: ['PIKUBE-SVC-OLD', 'PREROUTING', 'PIKUBE-SERVICES'] });
  t.regex(script, /^\*nat\n/);
  t.regex(script, /-A PIKUBE-SERVICES ! -s 10\.42\.1\.0\/24 -d 10\.43\.0\.20\/32 -p tcp -m tcp --dport 80 -j PIKUBE-MARK-MASQ/);
  t.regex(script, /--probability 0\.3333333333 -j PIKUBE-SEP-/);
  t.regex(script, /--probability 0\.5000000000 -j PIKUBE-SEP-/);
  t.regex(script, /-j DNAT --to-destination 10\.42\.2\.6:8080/);
  t.regex(script, /-A PIKUBE-NODEPORTS -p tcp -m tcp --dport 30080 .*-j PIKUBE-EXT-/);
  t.notRegex(script, /--dport 30080 -j PIKUBE-MARK-MASQ/, 'policy Local keeps the client address');
  t.regex(script, /-m recent --name PIKUBE-SEP-\S+ --rcheck --seconds 10800 --reap --rsource/);
  t.regex(script, /-p udp -m udp -m recent --name \S+ --set --rsource .*DNAT --to-destination 10\.42\.1\.9:53/);
  t.notRegex(script, /10\.43\.0\.30/, 'no endpoints, no DNAT');
  t.regex(script, /:PIKUBE-SVC-OLD - \[0:0\]\n[\s\S]*-X PIKUBE-SVC-OLD\nCOMMIT/);
  t.notRegex(script, /-X PIKUBE-SERVICES|PREROUTING/);
  t.true(chains.every((c) => c.length <= 28));
});

test('iptables: rules applied atomically, updated and cleaned up inside a network namespace', async (t) => {
  if (!isRoot()) { t.fail('needs root for a network namespace'); return; }
  const ns = `pkt-ipt-${randomBytes(3).toString('hex')}`;
  await execa('ip', ['netns', 'add', ns]);
  t.teardown(() => execa('ip', ['netns', 'del', ns], { reject: false }));
  const inNs = (cmd: string, args: string[], input?: string) => runCommand('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args], input);
  t.true(await IptablesProxier.usable(inNs), 'iptables and iptables-restore work in the namespace');
  const ipt = new IptablesProxier(log, inNs);
  const r = (endpoints: { ip: string; port: number }[]) => [rule({ ip: '10.43.0.20', port: 80, endpoints }), rule({ kind: 'NodePort', ip: '0.0.0.0', port: 30080, endpoints })];
  await ipt.sync(r([{ ip: '10.42.1.5', port: 8080 }, { ip: '10.42.2.5', port: 8080 }]), '10.42.1.0/24');
  const save = async () => (await inNs('iptables-save', ['-t', 'nat'])).stdout;
  let s = await save();
  t.regex(s, /-A PREROUTING .*-j PIKUBE-SERVICES/);
  t.regex(s, /-A OUTPUT .*-j PIKUBE-SERVICES/);
  t.regex(s, /-A POSTROUTING .*-j PIKUBE-POSTROUTING/);
  t.regex(s, /--to-destination 10\.42\.2\.5:8080/);
  await ipt.sync(r([{ ip: '10.42.1.5', port: 8080 }]), '10.42.1.0/24');
  s = await save();
  t.notRegex(s, /10\.42\.2\.5/);
  t.regex(s, /--to-destination 10\.42\.1\.5:8080/);
  await ipt.sync([], '10.42.1.0/24');
  s = await save();
  t.notRegex(s, /PIKUBE-(SVC|SEP|EXT)-/, 'a deleted Service leaves no chains');
  await ipt.cleanup();
  s = await save();
  t.deepEqual(chainsIn(s).filter((c) => c.startsWith('PIKUBE')), []);
  t.notRegex(s, /PIKUBE/);
});

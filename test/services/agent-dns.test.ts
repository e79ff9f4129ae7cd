// Cluster DNS: the wire format, answers from the Service table, forwarding of other
// names to the node's resolver (a fake one on 127.0.0.x), over UDP and TCP.
import test from 'ava';
import { createSocket } from 'node:dgram';
import { createConnection } from 'node:net';
import pino from 'pino';
import { ClusterRecords } from '../../agent/dns/cluster-records.js';
import { DnsServer } from '../../agent/dns/dns-server.js';
import { firstNameserver } from '../../agent/dns/resolv-conf.js';
import { aData, aRecord, decodeMessage, encodeMessage, encodeQuery, RCODE, readName, TYPE, DnsFormatError } from '../../agent/dns/dns-wire.js';
import type { ServiceRoutingPayload } from '../../protocol/mqtt/payloads.js';

const log = pino({ level: 'silent' });

const payload: ServiceRoutingPayload = {
  generation: 1,
  clusterDomain: 'cluster.local',
  services: [
    { namespace: 'default', name: 'hello', type: 'ClusterIP', clusterIP: '10.43.0.20', headless: false, sessionAffinity: 'None', externalTrafficPolicy: 'Cluster', loadBalancerIPs: [],
      ports: [{ protocol: 'TCP', port: 80, endpoints: [{ ip: '10.42.1.5', port: 8080, ready: true }] }] },
    { namespace: 'db', name: 'pg', type: 'ClusterIP', headless: true, sessionAffinity: 'None', externalTrafficPolicy: 'Cluster', loadBalancerIPs: [],
      ports: [{ protocol: 'TCP', port: 5432, endpoints: [{ ip: '10.42.1.7', port: 5432, ready: true }, { ip: '10.42.2.9', port: 5432, ready: true }, { ip: '10.42.2.10', port: 5432, ready: false }] }] },
  ],
};

test('wire: a query round-trips, and compressed names are followed', (t) => {
  const q = decodeMessage(encodeQuery(0x1234, 'Hello.Default.svc.cluster.local.'));
  t.is(q.id, 0x1234);
  t.true(q.recursionDesired);
  t.false(q.response);
  t.deepEqual(q.questions, [{ name: 'hello.default.svc.cluster.local', type: TYPE.A, class: 1 }]);
  // an answer whose name is a pointer to the question (as every server writes it)
  const reply = encodeMessage({ id: 7, response: true, questions: q.questions, answers: [aRecord('x', '1.2.3.4', 30)] });
  const questionEnd = 12 + 'hello.default.svc.cluster.local'.length + 2 + 4;
  const compressed = Buffer.concat([reply.subarray(0, questionEnd), Buffer.from([0xc0, 12]), reply.subarray(questionEnd + 3)]);
  const d = decodeMessage(compressed);
  t.is(d.answers[0]!.name, 'hello.default.svc.cluster.local');
  t.is(aData(d.answers[0]!), '1.2.3.4');
  t.is(d.answers[0]!.ttl, 30);
  // pointer loops and truncation are format errors, not hangs
  t.throws(() => readName(Buffer.from([0xc0, 0x00]), 0), { instanceOf: DnsFormatError });
  t.throws(() => decodeMessage(Buffer.from([1, 2, 3])), { instanceOf: DnsFormatError });
  t.throws(() => decodeMessage(encodeQuery(1, 'a.b').subarray(0, 16)), { instanceOf: DnsFormatError });
});

test('records: services, headless services, pods, NXDOMAIN inside the domain, outside names', (t) => {
  const r = new ClusterRecords();
  r.update(payload);
  t.deepEqual(r.lookup('hello.default.svc.cluster.local'), { kind: 'found', ips: ['10.43.0.20'] });
  t.deepEqual(r.lookup('HELLO.default.svc.cluster.local.'), { kind: 'found', ips: ['10.43.0.20'] });
  t.deepEqual(r.lookup('pg.db.svc.cluster.local'), { kind: 'found', ips: ['10.42.1.7', '10.42.2.9'] });
  t.deepEqual(r.lookup('10-42-1-5.default.pod.cluster.local'), { kind: 'found', ips: ['10.42.1.5'] });
  t.deepEqual(r.lookup('nope.default.svc.cluster.local'), { kind: 'nxdomain' });
  t.deepEqual(r.lookup('hello.default.svc.cluster.local.default.svc.cluster.local'), { kind: 'nxdomain' });
  t.deepEqual(r.lookup('999-1-1-1.default.pod.cluster.local'), { kind: 'nxdomain' });
  t.deepEqual(r.lookup('example.com'), { kind: 'outside' });
  t.deepEqual(r.lookup('cluster.local.example.com'), { kind: 'outside' });
  r.update({ ...payload, clusterDomain: 'home.lab' });
  t.deepEqual(r.lookup('hello.default.svc.home.lab'), { kind: 'found', ips: ['10.43.0.20'] });
  t.deepEqual(r.lookup('hello.default.svc.cluster.local'), { kind: 'outside' });
});

test('resolv.conf: the first IPv4 nameserver', (t) => {
  t.is(firstNameserver('# x\nsearch lan\nnameserver fe80::1\nnameserver 192.168.1.1\nnameserver 8.8.8.8\n'), '192.168.1.1');
  t.is(firstNameserver('search lan\n'), undefined);
});

/** A fake upstream resolver on 127.0.0.x that answers every A query with 192.0.2.99. */
async function fakeUpstream(host: string): Promise<{ port: number; queries: string[]; close(): Promise<void> }> {
  const queries: string[] = [];
  const sock = createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    const q = decodeMessage(msg);
    queries.push(q.questions[0]!.name);
    sock.send(encodeMessage({ id: q.id, response: true, recursionAvailable: true, questions: q.questions, answers: [aRecord(q.questions[0]!.name, '192.0.2.99', 60)] }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, host, () => r()));
  const { createServer } = await import('node:net');
  const tcp = createServer((s) => {
    s.once('data', (buf) => {
      const q = decodeMessage(buf.subarray(2));
      queries.push(`tcp:${q.questions[0]!.name}`);
      const reply = encodeMessage({ id: q.id, response: true, questions: q.questions, answers: [aRecord(q.questions[0]!.name, '192.0.2.98', 60)] });
      const len = Buffer.alloc(2); len.writeUInt16BE(reply.length);
      s.end(Buffer.concat([len, reply]));
    });
  });
  const port = sock.address().port;
  await new Promise<void>((r) => tcp.listen(port, host, () => r()));
  return { port, queries, close: async () => { sock.close(); await new Promise((r) => tcp.close(r)); } };
}

function udpQuery(port: number, host: string, msg: Buffer): Promise<ReturnType<typeof decodeMessage>> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => { s.close(); reject(new Error('no answer')); }, 5000);
    s.on('message', (m) => { clearTimeout(timer); s.close(); resolve(decodeMessage(m)); });
    s.send(msg, port, host);
  });
}

function tcpQuery(port: number, host: string, msg: Buffer): Promise<ReturnType<typeof decodeMessage>> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ port, host });
    let buf = Buffer.alloc(0);
    s.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) { s.destroy(); resolve(decodeMessage(buf.subarray(2, 2 + buf.readUInt16BE(0)))); }
    });
    s.on('error', reject);
    const len = Buffer.alloc(2); len.writeUInt16BE(msg.length);
    s.write(Buffer.concat([len, msg]));
  });
}

test('server: answers cluster names over UDP and TCP, forwards the rest, SERVFAIL when the upstream is silent', async (t) => {
  const upstream = await fakeUpstream('127.0.0.3');
  const records = new ClusterRecords();
  records.update(payload);
  let up: { host: string; port: number } | undefined = { host: '127.0.0.3', port: upstream.port };
  const server = new DnsServer({ records, upstream: () => up, upstreamTimeoutMs: 500, log });
  await server.listen('127.0.0.2', 0);
  t.teardown(async () => { await server.close(); await upstream.close(); });
  const port = server.port!;

  const a = await udpQuery(port, '127.0.0.2', encodeQuery(1, 'hello.default.svc.cluster.local'));
  t.true(a.response);
  t.true(a.authoritative);
  t.is(a.rcode, RCODE.NOERROR);
  t.is(a.id, 1);
  t.deepEqual(a.answers.map(aData), ['10.43.0.20']);
  t.is(a.answers[0]!.ttl, 5);

  const headless = await tcpQuery(port, '127.0.0.2', encodeQuery(2, 'pg.db.svc.cluster.local'));
  t.deepEqual(headless.answers.map(aData).sort(), ['10.42.1.7', '10.42.2.9']);

  const aaaa = await udpQuery(port, '127.0.0.2', encodeQuery(3, 'hello.default.svc.cluster.local', TYPE.AAAA));
  t.is(aaaa.rcode, RCODE.NOERROR);
  t.is(aaaa.answers.length, 0);

  const nx = await udpQuery(port, '127.0.0.2', encodeQuery(4, 'missing.default.svc.cluster.local'));
  t.is(nx.rcode, RCODE.NXDOMAIN);
  t.is(upstream.queries.length, 0, 'cluster names never leave the node');

  const fwd = await udpQuery(port, '127.0.0.2', encodeQuery(5, 'example.com'));
  t.is(fwd.id, 5);
  t.deepEqual(fwd.answers.map(aData), ['192.0.2.99']);
  const fwdTcp = await tcpQuery(port, '127.0.0.2', encodeQuery(6, 'example.org'));
  t.deepEqual(fwdTcp.answers.map(aData), ['192.0.2.98']);
  t.deepEqual(upstream.queries, ['example.com', 'tcp:example.org']);

  // a new Service shows up with the next payload
  records.update({ ...payload, services: [...payload.services, { ...payload.services[0]!, name: 'web', clusterIP: '10.43.0.21' }] });
  t.deepEqual((await udpQuery(port, '127.0.0.2', encodeQuery(7, 'web.default.svc.cluster.local'))).answers.map(aData), ['10.43.0.21']);

  up = { host: '127.0.0.4', port: 9 }; // nothing answers there
  const fail = await udpQuery(port, '127.0.0.2', encodeQuery(8, 'example.net'));
  t.is(fail.rcode, RCODE.SERVFAIL);
  up = undefined;
  t.is((await udpQuery(port, '127.0.0.2', encodeQuery(9, 'example.net'))).rcode, RCODE.SERVFAIL);
});

test('server: malformed queries get FORMERR or nothing, never a crash', async (t) => {
  const server = new DnsServer({ records: new ClusterRecords(), upstream: () => undefined, log });
  const junk = Buffer.concat([encodeQuery(77, 'x').subarray(0, 12), Buffer.from([0xc0, 0xff])]);
  const formerr = decodeMessage((await server.answer(junk, 'udp'))!);
  t.is(formerr.rcode, RCODE.FORMERR);
  t.is(formerr.id, 77);
  t.is(await server.answer(Buffer.from([1, 2]), 'udp'), undefined);
  const two = encodeMessage({ id: 3, questions: [{ name: 'a', type: 1, class: 1 }, { name: 'b', type: 1, class: 1 }] });
  t.is(decodeMessage((await server.answer(two, 'udp'))!).rcode, RCODE.FORMERR);
});

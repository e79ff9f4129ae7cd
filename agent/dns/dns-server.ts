// Cluster DNS for pods, on UDP and TCP: answers names in the cluster domain from the
// Service table and forwards everything else, unchanged, to the node's own resolver.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ClusterRecords } from './cluster-records.js';
import { aRecord, CLASS_IN, decodeMessage, DnsFormatError, encodeMessage, RCODE, TYPE, type Message } from './dns-wire.js';

export interface Upstream { host: string; port: number }

export interface DnsServerOptions {
  records: ClusterRecords;
  /** Where names outside the cluster go; undefined = answer SERVFAIL. */
  upstream(): Upstream | undefined;
  /** TTL of cluster answers, seconds (default 5, as cluster DNS servers use). */
  ttl?: number;
  /** How long to wait for the upstream resolver (default 3 s). */
  upstreamTimeoutMs?: number;
  log?: Logger;
}

const UDP_MAX = 512;

export class DnsServer {
  private udp?: UdpSocket;
  private tcp?: Server;
  private readonly tcpClients = new Set<Socket>();

  constructor(private readonly opts: DnsServerOptions) {}

  /** Binds UDP and TCP on host:port (port 0 = any; see `port`). Rejects, binding nothing, on failure. */
  async listen(host: string, port: number): Promise<void> {
    const udp = createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, host, () => { udp.off('error', reject); resolve(); });
    });
    const boundPort = udp.address().port;
    const tcp = createServer((s) => this.serveTcp(s));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(boundPort, host, () => { tcp.off('error', reject); resolve(); });
      });
    } catch (err) {
      udp.close();
      throw err;
    }
    udp.on('error', (err) => this.opts.log?.warn({ err: err.message }, 'dns: udp socket error'));
    udp.on('message', (msg, rinfo) => {
      void this.answer(msg, 'udp').then((reply) => {
        if (reply) udp.send(reply, rinfo.port, rinfo.address);
      });
    });
    this.udp = udp;
    this.tcp = tcp;
  }

  get port(): number | undefined {
    return this.udp?.address().port;
  }

  get listening(): boolean {
    return !!this.udp;
  }

  async close(): Promise<void> {
    const udp = this.udp, tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    for (const s of this.tcpClients) s.destroy();
    await Promise.all([
      udp && new Promise<void>((r) => udp.close(() => r())),
      tcp && new Promise<void>((r) => tcp.close(() => r())),
    ]);
  }

  private serveTcp(s: Socket): void {
    this.tcpClients.add(s);
    s.setTimeout(10_000, () => s.destroy());
    s.on('close', () => this.tcpClients.delete(s));
    s.on('error', () => s.destroy());
    let buf = Buffer.alloc(0);
    s.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        void this.answer(Buffer.from(msg), 'tcp').then((reply) => {
          if (!reply || s.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(reply.length);
          s.write(Buffer.concat([len, reply]));
        });
      }
    });
  }

  /** The reply to one query message; undefined when it deserves none (not a query at all). */
  async answer(raw: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    let q: Message;
    try {
      q = decodeMessage(raw);
    } catch (err) {
      if (raw.length < 12 || !(err instanceof DnsFormatError)) return undefined;
      return encodeMessage({ id: raw.readUInt16BE(0), response: true, rcode: RCODE.FORMERR });
    }
    if (q.response) return undefined;
    const base = { id: q.id, response: true, opcode: q.opcode, recursionDesired: q.recursionDesired, recursionAvailable: true, questions: q.questions };
    if (q.opcode !== 0) return encodeMessage({ ...base, rcode: RCODE.NOTIMP });
    const question = q.questions[0];
    if (q.questions.length !== 1 || !question) return encodeMessage({ ...base, rcode: RCODE.FORMERR });
    const found = this.opts.records.lookup(question.name);
    if (found.kind === 'outside') return this.forward(raw, q, transport);
    if (found.kind === 'nxdomain') return encodeMessage({ ...base, authoritative: true, rcode: RCODE.NXDOMAIN });
    const wantsA = question.class === CLASS_IN && (question.type === TYPE.A || question.type === TYPE.ANY);
    const answers = wantsA ? found.ips.map((ip) => aRecord(question.name, ip, this.opts.ttl ?? 5)) : [];
    const reply = encodeMessage({ ...base, authoritative: true, answers });
    if (transport === 'udp' && reply.length > UDP_MAX) return encodeMessage({ ...base, authoritative: true, truncated: true });
    return reply;
  }

  private async forward(raw: Buffer, q: Message, transport: 'udp' | 'tcp'): Promise<Buffer> {
    const up = this.opts.upstream();
    const fail = () => encodeMessage({ id: q.id, response: true, recursionDesired: q.recursionDesired, recursionAvailable: true, questions: q.questions, rcode: RCODE.SERVFAIL });
    if (!up) return fail();
    const timeoutMs = this.opts.upstreamTimeoutMs ?? 3000;
    try {
      return transport === 'udp' ? await forwardUdp(raw, up, timeoutMs) : await forwardTcp(raw, up, timeoutMs);
    } catch (err) {
      this.opts.log?.debug({ name: q.questions[0]?.name, upstream: up, err: String(err) }, 'dns: upstream failed');
      return fail();
    }
  }
}

function forwardUdp(raw: Buffer, up: Upstream, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    const id = raw.readUInt16BE(0);
    const timer = setTimeout(() => done(new Error('upstream timed out')), timeoutMs);
    const done = (err?: Error, reply?: Buffer) => {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err); else resolve(reply!);
    };
    sock.on('error', (err) => done(err));
    sock.on('message', (msg, rinfo) => {
      if (rinfo.address !== up.host || msg.length < 2 || msg.readUInt16BE(0) !== id) return;
      done(undefined, msg);
    });
    sock.send(raw, up.port, up.host);
  });
}

function forwardTcp(raw: Buffer, up: Upstream, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: up.host, port: up.port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { s.destroy(); reject(new Error('upstream timed out')); }, timeoutMs);
    s.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(raw.length);
      s.write(Buffer.concat([len, raw]));
    });
    s.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer);
        s.destroy();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
    s.on('error', (err) => { clearTimeout(timer); reject(err); });
    s.on('close', () => { clearTimeout(timer); reject(new Error('upstream closed the connection')); });
  });
}

// User-space UDP forwarding: each client address gets its own upstream socket (the
// "connection"), which stays with the endpoint it picked until it idles out.
import { createSocket, type Socket } from 'node:dgram';
import type { Route } from './tcp-listener.js';

const IDLE_MS = 60_000;

interface Session { upstream: Socket; timer: NodeJS.Timeout; queue?: Buffer[] }

export class UdpListener {
  private socket?: Socket;
  private readonly sessions = new Map<string, Session>();

  constructor(readonly ip: string, readonly port: number, private readonly route: Route, private readonly idleMs = IDLE_MS) {}

  async listen(): Promise<void> {
    const socket = createSocket({ type: 'udp4' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: this.ip, port: this.port, exclusive: true }, () => { socket.off('error', reject); resolve(); });
    });
    socket.on('error', () => undefined);
    socket.on('message', (msg, rinfo) => this.relay(msg, rinfo.address, rinfo.port));
    this.socket = socket;
  }

  get connections(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    for (const key of [...this.sessions.keys()]) this.drop(key);
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  private relay(msg: Buffer, address: string, port: number): void {
    const key = `${address}:${port}`;
    let session = this.sessions.get(key);
    if (!session) {
      // A wildcard UDP socket cannot tell which local address was used: route by our own.
      const ep = this.route(this.ip)?.pick(address);
      if (!ep) return;
      const upstream = createSocket('udp4');
      upstream.on('error', () => this.drop(key));
      upstream.on('message', (reply) => {
        this.socket?.send(reply, port, address);
        this.touch(key);
      });
      upstream.connect(ep.port, ep.ip);
      const s: Session = { upstream, timer: setTimeout(() => this.drop(key), this.idleMs), queue: [msg] };
      s.timer.unref();
      this.sessions.set(key, s);
      upstream.once('connect', () => {
        const queued = s.queue ?? [];
        s.queue = undefined;
        for (const m of queued) upstream.send(m);
      });
      return;
    }
    this.touch(key);
    if (session.queue) { session.queue.push(msg); return; }
    try { session.upstream.send(msg); } catch { this.drop(key); }
  }

  private touch(key: string): void {
    const s = this.sessions.get(key);
    if (!s) return;
    s.timer.refresh();
  }

  private drop(key: string): void {
    const s = this.sessions.get(key);
    if (!s) return;
    this.sessions.delete(key);
    clearTimeout(s.timer);
    try { s.upstream.close(); } catch { /* already closed */ }
  }
}

// User-space TCP forwarding for one address and port: every accepted connection is
// spliced to an endpoint chosen when it arrives, so endpoint changes only affect new
// connections. Closing the listener stops accepting; established connections finish.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { endpointKey, type EndpointPicker } from './endpoint-picker.js';

/** The picker for a connection that arrived on this local address (undefined = refuse). */
export type Route = (localAddress: string) => EndpointPicker | undefined;

const CONNECT_ATTEMPTS = 3;
const CONNECT_TIMEOUT_MS = 5000;

export class TcpListener {
  private server?: Server;
  private readonly open = new Set<Socket>();

  constructor(readonly ip: string, readonly port: number, private readonly route: Route) {}

  async listen(): Promise<void> {
    const server = createServer({ pauseOnConnect: true }, (client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.ip, port: this.port, exclusive: true }, () => { server.off('error', reject); resolve(); });
    });
    server.on('error', () => undefined);
    this.server = server;
  }

  /** Connections being forwarded now. */
  get connections(): number {
    return this.open.size;
  }

  close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return Promise.resolve();
    // Resolves once the port is free, without waiting for established connections.
    return new Promise((resolve) => { s.close(() => undefined); setImmediate(resolve); });
  }

  private accept(client: Socket): void {
    const picker = this.route(client.localAddress?.replace(/^::ffff:/, '') ?? this.ip);
    const clientIP = client.remoteAddress?.replace(/^::ffff:/, '') ?? '';
    client.on('error', () => client.destroy());
    const tried = new Set<string>();
    const attempt = () => {
      const ep = picker?.pick(clientIP, tried);
      if (!ep || tried.size >= CONNECT_ATTEMPTS) { client.resetAndDestroy(); return; }
      tried.add(endpointKey(ep));
      const upstream = createConnection({ host: ep.ip, port: ep.port });
      upstream.setTimeout(CONNECT_TIMEOUT_MS, () => upstream.destroy(new Error('connect timeout')));
      const failed = () => { upstream.destroy(); if (!client.destroyed) attempt(); };
      upstream.once('error', failed);
      upstream.once('connect', () => {
        upstream.off('error', failed);
        upstream.setTimeout(0);
        this.splice(client, upstream);
      });
    };
    attempt();
  }

  private splice(client: Socket, upstream: Socket): void {
    this.open.add(client);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const end = () => { client.destroy(); upstream.destroy(); this.open.delete(client); };
    upstream.on('error', end);
    client.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  }
}

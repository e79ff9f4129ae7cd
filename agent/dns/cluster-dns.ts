// Keeps the cluster DNS server bound to the address pods use (the pod network's
// gateway). That address appears only once the runtime has brought its bridge up (with
// the first pod), so binding is retried until it works, and redone when it moves.
import type { Logger } from 'pino';
import type { ServiceRoutingPayload } from '../../protocol/mqtt/payloads.js';
import { ClusterRecords } from './cluster-records.js';
import { DnsServer, type Upstream } from './dns-server.js';
import { readNodeResolver } from './resolv-conf.js';

export interface ClusterDnsOptions {
  port?: number;
  /** Fixed upstream instead of the first nameserver of /etc/resolv.conf. */
  upstream?: Upstream;
  retryMs?: number;
  log: Logger;
}

const RESOLV_REFRESH_MS = 30_000;

export class ClusterDns {
  readonly records = new ClusterRecords();
  private readonly server: DnsServer;
  private address?: string;
  private boundTo?: string;
  private retry?: NodeJS.Timeout;
  private binding: Promise<void> = Promise.resolve();
  private resolver?: { host?: string; at: number };
  private warnedFor?: string;
  private stopped = false;

  constructor(private readonly opts: ClusterDnsOptions) {
    this.server = new DnsServer({ records: this.records, upstream: () => this.upstream(), log: opts.log });
  }

  /** The address pods should use as their nameserver, once the server answers there. */
  get serverIP(): string | undefined {
    return this.address;
  }

  get listening(): boolean {
    return this.server.listening && this.boundTo === this.address;
  }

  update(p: ServiceRoutingPayload): void {
    this.records.update(p);
  }

  /** Serve on this address (undefined = stop serving). */
  setAddress(ip: string | undefined): Promise<void> {
    if (ip === this.address) return this.binding;
    this.address = ip;
    return this.rebind();
  }

  private rebind(): Promise<void> {
    this.binding = this.binding.then(() => this.bind()).catch(() => undefined);
    return this.binding;
  }

  private async bind(): Promise<void> {
    clearTimeout(this.retry);
    if (this.stopped) return;
    const want = this.address;
    if (this.boundTo === want && this.server.listening) return;
    if (this.server.listening) await this.server.close();
    this.boundTo = undefined;
    if (!want) return;
    const port = this.opts.port ?? 53;
    try {
      await this.server.listen(want, port);
      this.boundTo = want;
      this.opts.log.info({ address: want, port }, 'cluster DNS listening');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (this.warnedFor !== `${want}:${code}`) {
        this.warnedFor = `${want}:${code}`;
        const why = code === 'EADDRNOTAVAIL' ? 'the pod network bridge is not up yet (it appears with the first pod)'
          : code === 'EACCES' ? 'port 53 needs root' : code === 'EADDRINUSE' ? 'another DNS server holds the port' : String(err);
        this.opts.log.warn({ address: want, port, code }, `cluster DNS not listening yet: ${why}; retrying`);
      }
      this.retry = setTimeout(() => void this.rebind(), this.opts.retryMs ?? 1000);
      this.retry.unref();
    }
  }

  private upstream(): Upstream | undefined {
    if (this.opts.upstream) return this.opts.upstream;
    const now = Date.now();
    if (!this.resolver || now - this.resolver.at > RESOLV_REFRESH_MS) {
      this.resolver = { host: this.resolver?.host, at: now };
      void readNodeResolver().then((host) => { this.resolver = { host, at: now }; });
    }
    const host = this.resolver.host;
    // never forward to ourselves
    return host && host !== this.address ? { host, port: 53 } : undefined;
  }

  /** Reads the node's resolver now (the first query need not wait for it). */
  async prime(): Promise<void> {
    this.resolver = { host: await readNodeResolver(), at: Date.now() };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.binding;
    await this.server.close();
  }
}

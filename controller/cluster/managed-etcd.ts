// A managed etcd member: Debian's etcd binary run as a supervised child of the controller
// (`--cluster-init` on the first Pi, `--join` on the others), its data in
// `<data-dir>/etcd/data`, TLS for clients and peers from the cluster CA. When it exits
// unexpectedly it is started again; on a restart with data present etcd rejoins its
// cluster by itself and the initial-cluster flags are ignored.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Etcd3 } from 'etcd3';
import { etcdClient } from '../store/etcd/connect.js';
import type { MemberPki } from './etcd-pki.js';

export const ETCD_BINARY = process.env.PIKUBE_ETCD_BINARY ?? '/usr/bin/etcd';

export interface ManagedEtcdOptions {
  dataDir: string;
  name: string;
  /** Address other members and controllers reach this one at. */
  advertiseHost: string;
  clientListen: { host: string; port: number };
  peerListen: { host: string; port: number };
  pki: MemberPki;
  /** `name=https://HOST:PORT,...` including this member; only used on a first start. */
  initialCluster?: string;
  initialState: 'new' | 'existing';
  log: Logger;
}

const url = (host: string, port: number) => `https://${host.includes(':') ? `[${host}]` : host}:${port}`;

export class ManagedEtcd {
  private child?: ChildProcess;
  private stopping = false;
  private restarts = 0;

  constructor(private readonly opts: ManagedEtcdOptions) {}

  get clientUrl(): string { return url(this.opts.advertiseHost, this.opts.clientListen.port); }
  get peerUrl(): string { return url(this.opts.advertiseHost, this.opts.peerListen.port); }
  get dataPath(): string { return join(this.opts.dataDir, 'etcd', 'data'); }

  /** Starts the member and resolves once it answers (it needs a quorum for that). */
  async start(timeoutMs = 60_000): Promise<void> {
    if (!existsSync(ETCD_BINARY)) throw new Error(`${ETCD_BINARY} not found: install Debian's etcd-server (apt-get install etcd-server)`);
    mkdirSync(this.dataPath, { recursive: true, mode: 0o700 });
    await this.endOrphan();
    this.spawn();
    const client = this.client();
    const end = Date.now() + timeoutMs;
    try {
      for (;;) {
        try {
          await client.maintenance.status({});
          await client.get('/pikube/health-probe').exec();
          break;
        } catch (err) {
          if (Date.now() > end) throw new Error(`etcd member ${this.opts.name} did not become healthy within ${timeoutMs} ms: ${(err as Error).message}`);
          await new Promise((r) => setTimeout(r, 300));
        }
      }
    } finally {
      client.close();
    }
    this.opts.log.info({ name: this.opts.name, client: this.clientUrl, peer: this.peerUrl }, 'etcd member ready');
  }

  /** A client for this member alone (member changes go through it). */
  client(): Etcd3 {
    return etcdClient({ endpoints: [this.clientUrl], ca: this.opts.pki.ca, cert: this.opts.pki.cert, key: this.opts.pki.key });
  }

  /** Adds a member to the cluster; returns the initial-cluster string it must start with. */
  async addMember(name: string, peerUrl: string): Promise<{ initialCluster: string; clientUrls: string[] }> {
    const client = this.client();
    try {
      const before = await client.cluster.memberList({});
      const existing = before.members.find((m) => m.peerURLs.includes(peerUrl));
      if (!existing) await client.cluster.memberAdd({ peerURLs: [peerUrl] });
      const after = await client.cluster.memberList({});
      const initialCluster = after.members.map((m) => `${m.name || (m.peerURLs.includes(peerUrl) ? name : '')}=${m.peerURLs[0]}`)
        .filter((e) => !e.startsWith('=')).join(',');
      const clientUrls = after.members.flatMap((m) => m.clientURLs);
      return { initialCluster, clientUrls };
    } finally {
      client.close();
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  }

  get pidFile(): string { return join(this.opts.dataDir, 'etcd', 'etcd.pid'); }

  /** A controller killed with SIGKILL leaves its member running: end it before starting ours on the same data. */
  private async endOrphan(): Promise<void> {
    if (!existsSync(this.pidFile)) return;
    const pid = Number(readFileSync(this.pidFile, 'utf8'));
    let cmdline = '';
    try { cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return; }
    if (!cmdline.includes(this.dataPath)) return;
    this.opts.log.warn({ pid }, 'ending the etcd member a previous controller left running');
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 100));
    if (existsSync(`/proc/${pid}`)) process.kill(pid, 'SIGKILL');
  }

  private spawn(): void {
    const o = this.opts;
    const listen = (h: { host: string; port: number }) => url(h.host, h.port);
    const args = [
      '--name', o.name, '--data-dir', this.dataPath,
      '--listen-client-urls', listen(o.clientListen), '--advertise-client-urls', this.clientUrl,
      '--listen-peer-urls', listen(o.peerListen), '--initial-advertise-peer-urls', this.peerUrl,
      '--initial-cluster', o.initialCluster ?? `${o.name}=${this.peerUrl}`,
      '--initial-cluster-state', o.initialState, '--initial-cluster-token', 'pikube',
      '--cert-file', o.pki.certFile, '--key-file', o.pki.keyFile, '--trusted-ca-file', o.pki.caFile, '--client-cert-auth',
      '--peer-cert-file', o.pki.certFile, '--peer-key-file', o.pki.keyFile, '--peer-trusted-ca-file', o.pki.caFile, '--peer-client-cert-auth',
      // Bookmarks advance with progress notifications; keep them frequent.
      '--experimental-watch-progress-notify-interval', '5s',
      // A Pi's SD card: keep the database small and history bounded (the controller compacts too).
      '--quota-backend-bytes', String(2 * 1024 ** 3), '--snapshot-count', '10000',
    ];
    const logFd = openSync(join(o.dataDir, 'etcd', 'etcd.log'), 'a');
    const child = spawn(ETCD_BINARY, args, { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    this.child = child;
    if (child.pid) writeFileSync(this.pidFile, String(child.pid));
    child.on('exit', (code, signal) => {
      if (this.stopping) return;
      this.restarts++;
      const delay = Math.min(10_000, 500 * this.restarts);
      o.log.error({ code, signal, restartInMs: delay, log: join(o.dataDir, 'etcd', 'etcd.log') }, 'etcd member exited; restarting it');
      setTimeout(() => { if (!this.stopping) this.spawn(); }, delay).unref();
    });
  }
}

// The user-space proxy: one listener per (protocol, address, port), reconciled with the
// rules. Rules that share a port with a wildcard (0.0.0.0) listener ride on it and are
// told apart by the connection's local address (TCP); a failed bind is retried.
import type { Logger } from 'pino';
import { EndpointPicker } from './endpoint-picker.js';
import { ANY_ADDRESS, type ServiceRule } from './service-rules.js';
import { TcpListener } from './tcp-listener.js';
import { UdpListener } from './udp-listener.js';

interface ListenerEntry {
  listener: TcpListener | UdpListener;
  /** local address (or 0.0.0.0) → picker id */
  routes: Map<string, string>;
  bound: boolean;
  binding?: Promise<void>;
}

const RETRY_MS = 2000;

export class UserspaceProxier {
  private readonly listeners = new Map<string, ListenerEntry>();
  private readonly pickers = new Map<string, EndpointPicker>();
  private retry?: NodeJS.Timeout;
  private readonly warned = new Set<string>();
  private stopped = false;

  constructor(private readonly log: Logger, private readonly now: () => number = Date.now) {}

  /** `protocol/address:port` of every listener that is bound now. */
  get bound(): string[] {
    return [...this.listeners].filter(([, e]) => e.bound).map(([k]) => k).sort();
  }

  async sync(rules: ServiceRule[]): Promise<void> {
    if (this.stopped) return;
    // pickers keep their round-robin position and affinity across updates
    const pickerIds = new Set<string>();
    for (const r of rules) {
      const pid = `${r.kind}|${r.id}`;
      pickerIds.add(pid);
      let p = this.pickers.get(pid);
      if (!p) this.pickers.set(pid, (p = new EndpointPicker(this.now)));
      p.update(r.endpoints, r.affinitySeconds);
    }
    for (const pid of [...this.pickers.keys()]) if (!pickerIds.has(pid)) this.pickers.delete(pid);

    const wanted = new Map<string, { protocol: 'TCP' | 'UDP'; ip: string; port: number; routes: Map<string, string> }>();
    const wildcardPorts = new Set(rules.filter((r) => r.ip === ANY_ADDRESS).map((r) => `${r.protocol}/${r.port}`));
    const sorted = [...rules].sort((a, b) => (a.ip === ANY_ADDRESS ? 0 : 1) - (b.ip === ANY_ADDRESS ? 0 : 1) || a.id.localeCompare(b.id));
    for (const r of sorted) {
      const onWildcard = wildcardPorts.has(`${r.protocol}/${r.port}`);
      const bindIP = onWildcard ? ANY_ADDRESS : r.ip;
      const key = `${r.protocol.toLowerCase()}/${bindIP}:${r.port}`;
      let w = wanted.get(key);
      if (!w) wanted.set(key, (w = { protocol: r.protocol, ip: bindIP, port: r.port, routes: new Map() }));
      if (w.routes.has(r.ip)) {
        const warnKey = `${key}|${r.id}`;
        if (!this.warned.has(warnKey)) {
          this.warned.add(warnKey);
          this.log.warn({ listener: key, service: r.id, holder: w.routes.get(r.ip) }, `proxy: ${r.kind} port already served by another Service; not serving it here`);
        }
        continue;
      }
      w.routes.set(r.ip, `${r.kind}|${r.id}`);
    }

    const closing: Promise<void>[] = [];
    for (const [key, e] of this.listeners) {
      if (wanted.has(key)) continue;
      this.listeners.delete(key);
      closing.push(e.listener.close());
      if (e.bound) this.log.info({ listener: key }, 'proxy: listener closed');
    }
    await Promise.all(closing);
    for (const [key, w] of wanted) {
      const e = this.listeners.get(key);
      if (e) { e.routes = w.routes; continue; }
      const entry: ListenerEntry = { routes: w.routes, bound: false } as ListenerEntry;
      const route = (local: string) => {
        const pid = entry.routes.get(local) ?? entry.routes.get(ANY_ADDRESS);
        return pid ? this.pickers.get(pid) : undefined;
      };
      entry.listener = w.protocol === 'TCP' ? new TcpListener(w.ip, w.port, route) : new UdpListener(w.ip, w.port, route);
      this.listeners.set(key, entry);
    }
    await this.bindPending();
  }

  private async bindPending(): Promise<void> {
    clearTimeout(this.retry);
    let failed = false;
    await Promise.all([...this.listeners].map(async ([key, e]) => {
      if (e.bound) return;
      e.binding ??= e.listener.listen().then(() => {
        e.bound = true;
        this.warned.delete(key);
        this.log.info({ listener: key, services: [...new Set(e.routes.values())] }, 'proxy: listening');
      }, (err: NodeJS.ErrnoException) => {
        failed = true;
        if (!this.warned.has(key)) {
          this.warned.add(key);
          this.log.warn({ listener: key, code: err.code, err: err.message }, 'proxy: cannot listen; retrying');
        }
      }).finally(() => { e.binding = undefined; });
      await e.binding;
      // the listener may have been dropped while it was binding
      if (e.bound && this.listeners.get(key) !== e) await e.listener.close();
    }));
    if (failed && !this.stopped) {
      this.retry = setTimeout(() => void this.bindPending(), RETRY_MS);
      this.retry.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const all = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(all.map((e) => e.listener.close()));
  }
}

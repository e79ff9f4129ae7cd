// ClusterIPs made local addresses of the node on a dummy interface, so user-space
// listeners can bind them and the host routes traffic for them to itself (pods reach
// them through their gateway). Kernels without the dummy driver get them on `lo` under
// a label of ours instead. Needs root; without it the agent says so once.
import type { Logger } from 'pino';
import { isRoot, runCommand, type CommandRunner } from '../network/ip-command.js';

export const SERVICE_INTERFACE = 'pikube-svc';

/** How long an address another owner put on `lo` is trusted before it is tried again. */
const FOREIGN_RECHECK_MS = 5 * 60_000;

export class ClusterIpInterface {
  private readonly run: CommandRunner;
  private present = new Set<string>();
  private linkReady = false;
  /** Where the addresses live: our dummy link, or `lo` with our label. */
  private onLoopback = false;
  private warned = false;
  /**
   * Addresses `lo` already holds under another label (a second agent on the same host):
   * not ours to serve or remove, and not worth an `ip` call every resync. When each was seen.
   */
  private readonly foreign = new Map<string, number>();

  constructor(private readonly opts: { log: Logger; run?: CommandRunner; canChange?: boolean; name?: string; now?: () => number }) {
    this.run = opts.run ?? runCommand;
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  private get name(): string {
    return this.opts.name ?? SERVICE_INTERFACE;
  }

  /** Makes exactly these addresses present; resolves with the ones that are. */
  async sync(ips: string[]): Promise<Set<string>> {
    const { log } = this.opts;
    if (!(this.opts.canChange ?? isRoot())) {
      if (ips.length && !this.warned) {
        this.warned = true;
        log.warn({}, `ClusterIPs are NOT reachable on this node: adding them to the ${this.name} interface needs root (NodePort and LoadBalancer still work)`);
      }
      return new Set();
    }
    if (!this.linkReady) {
      const add = await this.run('ip', ['link', 'add', this.name, 'type', 'dummy']);
      if (!add.ok && !/exists/i.test(add.stderr)) {
        log.info({ err: add.stderr.trim() }, `no dummy interface here: ClusterIPs go on lo as ${this.label}`);
        this.onLoopback = true;
      } else {
        await this.run('ip', ['link', 'set', this.name, 'up']);
      }
      this.linkReady = true;
      this.present = await this.read();
    }
    const want = new Set(ips);
    for (const ip of [...this.foreign.keys()]) if (!want.has(ip)) this.foreign.delete(ip);
    for (const ip of [...this.present]) {
      if (want.has(ip)) continue;
      const r = await this.run('ip', ['addr', 'del', `${ip}/32`, 'dev', this.device]);
      if (r.ok || /Cannot assign/i.test(r.stderr)) this.present.delete(ip);
    }
    for (const ip of want) {
      if (this.present.has(ip)) continue;
      const seen = this.foreign.get(ip);
      if (seen !== undefined && this.now() - seen < FOREIGN_RECHECK_MS) continue;
      const r = await this.run('ip', ['addr', 'add', `${ip}/32`, 'dev', this.device, ...(this.onLoopback ? ['label', this.label] : [])]);
      if (r.ok || /exists/i.test(r.stderr)) { this.present.add(ip); this.foreign.delete(ip); continue; }
      if (this.onLoopback && /already assigned/i.test(r.stderr)) {
        if (seen === undefined) log.info({ ip }, 'ClusterIP already on lo under another label (another agent on this host): left to it');
        this.foreign.set(ip, this.now());
        continue;
      }
      log.warn({ ip, err: r.stderr.trim() }, 'cannot add a ClusterIP to the service interface');
    }
    // foreign addresses stay out: their owner serves them (binding them here would clash)
    return new Set(this.present);
  }

  private async read(): Promise<Set<string>> {
    const r = await this.run('ip', ['-4', '-j', 'addr', 'show', 'dev', this.device]);
    const out = new Set<string>();
    if (!r.ok) return out;
    try {
      for (const link of JSON.parse(r.stdout) as { addr_info?: { local?: string; label?: string }[] }[]) {
        for (const a of link.addr_info ?? []) if (a.local && (!this.onLoopback || a.label === this.label)) out.add(a.local);
      }
    } catch { /* nothing known */ }
    return out;
  }

  private get device(): string {
    return this.onLoopback ? 'lo' : this.name;
  }

  /** Address label on lo: `lo:` and at most 12 more characters. */
  private get label(): string {
    return `lo:${this.name.slice(0, 12)}`;
  }

  /** Removes the interface and with it every ClusterIP. */
  async remove(): Promise<void> {
    if (!this.linkReady) return;
    this.linkReady = false;
    if (this.onLoopback) {
      for (const ip of this.present) await this.run('ip', ['addr', 'del', `${ip}/32`, 'dev', 'lo']);
    } else {
      await this.run('ip', ['link', 'del', this.name]);
    }
    this.present.clear();
    this.foreign.clear();
  }
}

// kube-proxy for a pikube node: keeps forwarding in line with the cluster's Service
// routing payload, level-triggered (each payload is the whole truth; updates coalesce).
//   iptables  : nat rules do the forwarding; user-space listeners still hold node and
//               LoadBalancer ports and answer on loopback, where DNAT does not apply.
//   userspace : Node.js forwards TCP and UDP itself; ClusterIPs live on a dummy interface.
import type { Logger } from 'pino';
import type { ServiceRoutingPayload } from '../../protocol/mqtt/payloads.js';
import { isRoot, runCommand, type CommandRunner } from '../network/ip-command.js';
import { ClusterIpInterface } from './cluster-ip-interface.js';
import { IptablesProxier } from './iptables-proxier.js';
import { clusterIPs, serviceRules, type ServiceRule } from './service-rules.js';
import { UserspaceProxier } from './userspace-proxier.js';

export type ProxyMode = 'iptables' | 'userspace' | 'off';
export type ProxyModeSetting = ProxyMode | 'auto';

export interface ServiceProxyOptions {
  nodeName: string;
  mode: ProxyModeSetting;
  log: Logger;
  /** This node's pod range (for masquerading decisions). */
  podCIDR?: () => string | undefined;
  /** Manage the ClusterIP dummy interface (default: when root). */
  manageInterface?: boolean;
  /** Name of that interface (tests use their own). */
  interfaceName?: string;
  run?: CommandRunner;
}

/** What `auto` becomes here: iptables when we are root and it works, else user space. */
export async function resolveProxyMode(setting: ProxyModeSetting, run: CommandRunner = runCommand, root = isRoot()): Promise<{ mode: ProxyMode; why?: string }> {
  if (setting === 'off' || setting === 'userspace') return { mode: setting };
  const usable = root && (await IptablesProxier.usable(run));
  if (usable) return { mode: 'iptables' };
  const why = root ? 'iptables / iptables-restore not usable' : 'the agent is not root';
  if (setting === 'iptables') throw new Error(`--proxy-mode iptables: ${why}`);
  return { mode: 'userspace', why };
}

export class ServiceProxy {
  private modeNow: ProxyMode = 'off';
  private userspace?: UserspaceProxier;
  private iptables?: IptablesProxier;
  private iface?: ClusterIpInterface;
  private latest?: ServiceRoutingPayload;
  private running?: Promise<void>;
  private dirty = false;
  private stopped = false;
  /** Milliseconds the last sync took, for benchmarks. */
  lastSyncMs = 0;
  /** Count of completed syncs. */
  syncs = 0;

  constructor(private readonly opts: ServiceProxyOptions) {}

  get mode(): ProxyMode {
    return this.modeNow;
  }

  /** Listeners bound now (user-space part), `tcp/0.0.0.0:30080`. */
  get listeners(): string[] {
    return this.userspace?.bound ?? [];
  }

  async start(): Promise<ProxyMode> {
    const { opts } = this;
    const run = opts.run ?? runCommand;
    const { mode, why } = await resolveProxyMode(opts.mode, run);
    this.modeNow = mode;
    if (mode === 'off') { opts.log.info({}, 'service proxy off'); return mode; }
    this.userspace = new UserspaceProxier(opts.log.child({ proxy: 'userspace' }));
    this.iface = new ClusterIpInterface({ log: opts.log, run, ...(opts.manageInterface !== undefined ? { canChange: opts.manageInterface } : {}), ...(opts.interfaceName ? { name: opts.interfaceName } : {}) });
    if (mode === 'iptables') {
      this.iptables = new IptablesProxier(opts.log.child({ proxy: 'iptables' }), run);
      // rules a killed agent left behind
      await this.iptables.cleanup();
    }
    opts.log.info({ mode, ...(why ? { why } : {}) }, `service proxy in ${mode} mode`);
    return mode;
  }

  /** Takes the newest payload; syncs at once, or right after the sync in progress. */
  update(p: ServiceRoutingPayload): Promise<void> {
    this.latest = p;
    if (this.modeNow === 'off' || this.stopped) return Promise.resolve();
    this.dirty = true;
    this.running ??= this.loop().finally(() => { this.running = undefined; });
    return this.running;
  }

  private async loop(): Promise<void> {
    while (this.dirty && !this.stopped) {
      this.dirty = false;
      const started = performance.now();
      try {
        await this.sync(this.latest!);
      } catch (err) {
        this.opts.log.warn({ err: String((err as Error).message ?? err) }, 'proxy sync failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
        this.dirty = true;
      }
      this.lastSyncMs = performance.now() - started;
      this.syncs++;
    }
  }

  private async sync(p: ServiceRoutingPayload): Promise<void> {
    const rules = serviceRules(p, this.opts.nodeName);
    const present = await this.iface!.sync(clusterIPs(p));
    let userspaceRules: ServiceRule[];
    if (this.iptables) {
      await this.iptables.sync(rules, this.opts.podCIDR?.());
      userspaceRules = rules.filter((r) => r.kind !== 'ClusterIP');
    } else {
      userspaceRules = rules.filter((r) => r.kind !== 'ClusterIP' || present.has(r.ip));
    }
    await this.userspace!.sync(userspaceRules);
  }

  /** Closes every listener and removes the rules and ClusterIP addresses. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => undefined);
    await this.userspace?.stop();
    await this.iptables?.cleanup().catch(() => undefined);
    await this.iface?.remove().catch(() => undefined);
  }
}

// Applies the kernel-mode rules: the whole nat script at once with iptables-restore
// (atomic), jumps from the built-in chains added once, everything removed on stop.
import type { Logger } from 'pino';
import { runCommand, type CommandRunner } from '../network/ip-command.js';
import { chainsIn, iptablesCleanupScript, iptablesScript, JUMPS } from './iptables-rules.js';
import type { ServiceRule } from './service-rules.js';

export class IptablesProxier {
  private readonly run: CommandRunner;
  private jumpsReady = false;
  private lastScript?: string;

  constructor(private readonly log: Logger, run?: CommandRunner) {
    this.run = run ?? runCommand;
  }

  /** True when iptables can change the nat table here. */
  static async usable(run: CommandRunner = runCommand): Promise<boolean> {
    const [save, restore] = await Promise.all([run('iptables', ['-w', '-t', 'nat', '-S', 'PREROUTING']), run('iptables-restore', ['--version'])]);
    return save.ok && restore.ok;
  }

  async sync(rules: ServiceRule[], podCIDR?: string): Promise<void> {
    const existing = await this.chains();
    const { script } = iptablesScript({ rules, podCIDR, existingChains: existing });
    if (script !== this.lastScript || !this.jumpsReady) {
      const r = await this.run('iptables-restore', ['-w', '--noflush'], script);
      if (!r.ok) throw new Error(`iptables-restore failed: ${r.stderr.trim()}`);
      this.lastScript = script;
    }
    if (!this.jumpsReady) {
      for (const [chain, args] of JUMPS) {
        const check = await this.run('iptables', ['-w', '-t', 'nat', '-C', chain, ...args]);
        if (check.ok) continue;
        const add = await this.run('iptables', ['-w', '-t', 'nat', '-I', chain, '1', ...args]);
        if (!add.ok) throw new Error(`cannot hook ${chain}: ${add.stderr.trim()}`);
      }
      this.jumpsReady = true;
    }
  }

  private async chains(): Promise<string[]> {
    const r = await this.run('iptables-save', ['-t', 'nat']);
    return r.ok ? chainsIn(r.stdout) : [];
  }

  /** Removes the jumps and every chain we own. */
  async cleanup(): Promise<void> {
    for (const [chain, args] of JUMPS) {
      // a jump may be there more than once (an agent killed while adding it)
      for (let i = 0; i < 5; i++) {
        const r = await this.run('iptables', ['-w', '-t', 'nat', '-D', chain, ...args]);
        if (!r.ok) break;
      }
    }
    const owned = await this.chains();
    const r = await this.run('iptables-restore', ['-w', '--noflush'], iptablesCleanupScript(owned));
    if (!r.ok) this.log.warn({ err: r.stderr.trim() }, 'proxy: iptables clean-up failed');
    this.jumpsReady = false;
    this.lastScript = undefined;
  }
}

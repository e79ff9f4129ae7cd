// Host-gateway routing: every board is on the same LAN, so a route per other node
// (`<its pod CIDR> via <its address>`) is all it takes for pods to reach each other.
// Our routes carry their own protocol number, so stale ones are found after a restart.
import type { Logger } from 'pino';
import { formatCidr, isIPv4, parseCidr } from './ipv4.js';
import { isRoot, runCommand, type CommandRunner } from './ip-command.js';

/** `proto` of the routes we install (any number no routing daemon uses). */
export const ROUTE_PROTO = '77';

export interface NodeRoute { name: string; podCIDR?: string; addresses: string[] }

export interface DesiredRoute { cidr: string; via: string; node: string }

/** Routes to every other node's pod range, via its first IPv4 address. */
export function desiredRoutes(nodes: NodeRoute[], self: string, ownCIDR?: string): DesiredRoute[] {
  const out = new Map<string, DesiredRoute>();
  const own = ownCIDR ? safeCidr(ownCIDR) : undefined;
  for (const n of nodes) {
    if (n.name === self || !n.podCIDR) continue;
    const cidr = safeCidr(n.podCIDR);
    const via = n.addresses.find(isIPv4);
    if (!cidr || !via || cidr === own) continue;
    out.set(cidr, { cidr, via, node: n.name });
  }
  return [...out.values()];
}

function safeCidr(c: string): string | undefined {
  try { return formatCidr(parseCidr(c)); } catch { return undefined; }
}

export class HostRoutes {
  private readonly run: CommandRunner;
  private installed = new Map<string, string>();
  private warned = new Set<string>();
  private loaded = false;
  private syncing: Promise<void> = Promise.resolve();

  constructor(private readonly opts: { nodeName: string; run?: CommandRunner; canChange?: boolean; log: Logger }) {
    this.run = opts.run ?? runCommand;
  }

  /** Level-triggered: make our routes exactly the desired ones. Serialised. */
  sync(nodes: NodeRoute[], ownCIDR?: string): Promise<void> {
    this.syncing = this.syncing.then(() => this.doSync(nodes, ownCIDR)).catch((err) => this.opts.log.warn({ err: String(err) }, 'route sync failed'));
    return this.syncing;
  }

  /** What is installed now, cidr → via. */
  get routes(): ReadonlyMap<string, string> {
    return this.installed;
  }

  private async doSync(nodes: NodeRoute[], ownCIDR?: string): Promise<void> {
    const { log } = this.opts;
    const want = desiredRoutes(nodes, this.opts.nodeName, ownCIDR);
    if (!(this.opts.canChange ?? isRoot())) {
      if (want.length && !this.warned.has('root')) {
        this.warned.add('root');
        log.warn({ routes: want }, 'pod routes to other nodes NOT installed: the agent is not root; pods on other nodes are unreachable by pod IP');
      }
      return;
    }
    if (!this.loaded) {
      this.loaded = true;
      const r = await this.run('ip', ['-4', '-j', 'route', 'show', 'proto', ROUTE_PROTO]);
      if (r.ok) {
        try {
          for (const e of JSON.parse(r.stdout || '[]') as { dst?: string; gateway?: string }[]) {
            if (e.dst) this.installed.set(e.dst.includes('/') ? e.dst : `${e.dst}/32`, e.gateway ?? '');
          }
        } catch { /* not JSON: nothing known */ }
      }
    }
    const wanted = new Map(want.map((r) => [r.cidr, r]));
    for (const [cidr] of this.installed) {
      if (wanted.has(cidr)) continue;
      const r = await this.run('ip', ['route', 'del', cidr, 'proto', ROUTE_PROTO]);
      if (r.ok || /No such process|not found/i.test(r.stderr)) {
        this.installed.delete(cidr);
        log.info({ cidr }, 'pod route removed');
      } else {
        log.warn({ cidr, err: r.stderr.trim() }, 'cannot remove a stale pod route');
      }
    }
    for (const d of want) {
      if (this.installed.get(d.cidr) === d.via) continue;
      const r = await this.run('ip', ['route', 'replace', d.cidr, 'via', d.via, 'proto', ROUTE_PROTO]);
      if (r.ok) {
        this.installed.set(d.cidr, d.via);
        this.warned.delete(d.cidr);
        log.info(d, 'pod route installed');
      } else if (!this.warned.has(d.cidr)) {
        this.warned.add(d.cidr);
        log.warn({ ...d, err: r.stderr.trim() }, `pod route to node ${d.node} NOT installed: its pods are unreachable by pod IP from here`);
      }
    }
  }
}

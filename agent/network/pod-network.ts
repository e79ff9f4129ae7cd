// The node's pod network: a runtime bridge network whose subnet is the pod range the
// controller gave this node, so pod IPs are unique across the cluster and routable
// between boards. Without a range (or when the runtime refuses) pods stay on the
// runtime's default network, and the agent says why.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { firstHost, formatCidr, parseCidr } from './ipv4.js';
import { runCommand, type CommandRunner } from './ip-command.js';

export type NetworkRuntime = 'podman' | 'nerdctl' | 'docker' | 'simulated';

export interface PodNetworkOptions {
  runtime: NetworkRuntime;
  nodeName: string;
  /** The network pods use when there is no pod range (the --network flag or the runtime default). */
  defaultNetwork?: string;
  /** Global flags for the CLI (nerdctl --namespace). */
  cliArgs?: string[];
  run?: CommandRunner;
  log: Logger;
}

export interface PodNetworkState {
  /** Runtime network name for pod sandboxes; undefined = the runtime's default. */
  network?: string;
  /** Address of the node on that network (the bridge), reachable from every pod. */
  gateway?: string;
  podCIDR?: string;
}

const DEFAULT_NETWORK: Record<NetworkRuntime, string | undefined> = { podman: 'podman', nerdctl: 'bridge', docker: 'bridge', simulated: undefined };

/** Network name for a node: runtime names allow [a-zA-Z0-9][a-zA-Z0-9_.-]*. */
export function podNetworkName(nodeName: string): string {
  return `pikube-${nodeName}`;
}

/** Linux interface names are at most 15 bytes: `pk-` and a hash of the node name. */
export function bridgeName(nodeName: string): string {
  return `pk-${createHash('sha256').update(nodeName).digest('hex').slice(0, 10)}`;
}

/** Subnet and gateway out of `network inspect` (podman's netavark shape or docker's IPAM shape). */
export function parseNetworkInspect(stdout: string): { subnet?: string; gateway?: string } {
  let json: unknown;
  try { json = JSON.parse(stdout); } catch { return {}; }
  const net = (Array.isArray(json) ? json[0] : json) as Record<string, unknown> | undefined;
  if (!net || typeof net !== 'object') return {};
  const subnets = net['subnets'] as { subnet?: string; gateway?: string }[] | undefined;
  if (Array.isArray(subnets) && subnets[0]) return { subnet: subnets[0].subnet, gateway: subnets[0].gateway };
  const config = (net['IPAM'] as { Config?: { Subnet?: string; Gateway?: string }[] } | undefined)?.Config;
  if (Array.isArray(config) && config[0]) return { subnet: config[0].Subnet, gateway: config[0].Gateway ?? (config[0].Subnet ? firstHost(config[0].Subnet) : undefined) };
  return {};
}

export class PodNetwork {
  private state: PodNetworkState = {};
  private readonly run: CommandRunner;
  private ensuring: Promise<PodNetworkState> = Promise.resolve({});

  constructor(private readonly opts: PodNetworkOptions) {
    this.run = opts.run ?? runCommand;
  }

  get current(): PodNetworkState {
    return this.state;
  }

  /** Makes the network for this pod range exist (idempotent); serialised. */
  ensure(podCIDR: string | undefined): Promise<PodNetworkState> {
    this.ensuring = this.ensuring.then(() => this.doEnsure(podCIDR), () => this.doEnsure(podCIDR));
    return this.ensuring;
  }

  private cli(args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
    return this.run(this.opts.runtime, [...(this.opts.cliArgs ?? []), ...args]);
  }

  private async doEnsure(podCIDR: string | undefined): Promise<PodNetworkState> {
    const { opts } = this;
    if (opts.runtime === 'simulated') return (this.state = {});
    let wanted: string | undefined;
    try {
      wanted = podCIDR ? formatCidr(parseCidr(podCIDR)) : undefined;
    } catch {
      opts.log.warn({ podCIDR }, 'pod network: the controller sent an invalid pod CIDR; pods stay on the default network');
    }
    if (!wanted || opts.defaultNetwork) {
      if (wanted && opts.defaultNetwork) opts.log.info({ network: opts.defaultNetwork, podCIDR: wanted }, 'pod network: --network given, not creating one for the pod CIDR');
      return (this.state = await this.fallback());
    }
    if (this.state.podCIDR === wanted && this.state.network) return this.state;
    const name = podNetworkName(opts.nodeName);
    const gateway = firstHost(wanted);
    const existing = await this.cli(['network', 'inspect', name]);
    if (existing.ok) {
      const have = parseNetworkInspect(existing.stdout);
      if (have.subnet && formatCidr(parseCidr(have.subnet)) === wanted) {
        return (this.state = { network: name, gateway: have.gateway ?? gateway, podCIDR: wanted });
      }
      const rm = await this.cli(['network', 'rm', name]);
      if (!rm.ok) {
        opts.log.warn({ network: name, subnet: have.subnet, podCIDR: wanted, err: rm.stderr.trim() }, 'pod network: the node\'s pod CIDR changed but the old network is in use; keeping it');
        return (this.state = { network: name, gateway: have.gateway, podCIDR: have.subnet });
      }
    }
    const args = ['network', 'create', '--subnet', wanted, '--gateway', gateway, '--label', `pikube.io/node=${opts.nodeName}`];
    // Our own DNS server answers on the gateway: the runtime's (aardvark) must not.
    if (opts.runtime === 'podman') args.push('--interface-name', bridgeName(opts.nodeName), '--disable-dns');
    args.push(name);
    let created = await this.cli(args);
    if (!created.ok && /unknown flag: --interface-name/.test(created.stderr)) {
      // podman before 4.4 names the bridge itself (podmanN)
      created = await this.cli(args.filter((x, i) => x !== '--interface-name' && args[i - 1] !== '--interface-name'));
    }
    if (!created.ok) {
      opts.log.warn({ network: name, podCIDR: wanted, err: created.stderr.trim() },
        'pod network: cannot create the network for this node\'s pod CIDR; pods use the runtime default network and are NOT reachable from other nodes');
      return (this.state = await this.fallback());
    }
    opts.log.info({ network: name, podCIDR: wanted, gateway }, 'pod network created');
    return (this.state = { network: name, gateway, podCIDR: wanted });
  }

  /** The default network and its gateway, so cluster DNS still has an address pods reach. */
  private async fallback(): Promise<PodNetworkState> {
    const name = this.opts.defaultNetwork ?? DEFAULT_NETWORK[this.opts.runtime];
    if (!name) return {};
    const r = await this.cli(['network', 'inspect', name]);
    const info = r.ok ? parseNetworkInspect(r.stdout) : {};
    return { ...(this.opts.defaultNetwork ? { network: name } : {}), ...(info.gateway ? { gateway: info.gateway } : {}), ...(info.subnet ? { podCIDR: info.subnet } : {}) };
  }
}

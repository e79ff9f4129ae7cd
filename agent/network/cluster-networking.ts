// Everything a node does for Services and pod addressing, fed by two messages: the
// node's pod range (desired pods payload) and the cluster's Service routing payload.
// It owns the pod network, the routes to other nodes' pods, the Service proxy and the
// cluster DNS server, and tells the pod workers which network and nameserver to use.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { ServiceRoutingPayload } from '../../protocol/mqtt/payloads.js';
import { ClusterDns } from '../dns/cluster-dns.js';
import { DEFAULT_CLUSTER_DOMAIN } from '../dns/cluster-records.js';
import { ServiceProxy, type ProxyMode, type ProxyModeSetting } from '../proxy/service-proxy.js';
import { HostRoutes } from './host-routes.js';
import { isRoot, type CommandRunner } from './ip-command.js';
import { PodNetwork, type NetworkRuntime } from './pod-network.js';

export interface ClusterNetworkingOptions {
  nodeName: string;
  runtime: NetworkRuntime;
  /** --network: pods run there instead of a network for the pod CIDR. */
  runtimeNetwork?: string;
  runtimeCliArgs?: string[];
  proxyMode: ProxyModeSetting;
  /** Run the cluster DNS server (default: unless the runtime is simulated). */
  clusterDns?: boolean;
  dnsPort?: number;
  log: Logger;
  /** Runs the runtime's network commands (tests record them). */
  run?: CommandRunner;
}

/** Periodic re-application, so routes or addresses someone removed come back. */
const RESYNC_MS = 30_000;

/** Dummy interface for this node's ClusterIPs: per node, so agents sharing a host keep apart. */
export function serviceInterfaceName(nodeName: string): string {
  return `pks-${createHash('sha256').update(nodeName).digest('hex').slice(0, 10)}`;
}

export class ClusterNetworking {
  readonly podNetwork: PodNetwork;
  readonly routes: HostRoutes;
  readonly proxy: ServiceProxy;
  readonly dns?: ClusterDns;
  private services?: ServiceRoutingPayload;
  private podCIDR?: string;
  /** The network for `podCIDR` being made (or made): later payloads wait for it. */
  private podNetworkReady: Promise<unknown> = Promise.resolve();
  private resync?: NodeJS.Timeout;
  private readonly simulated: boolean;

  constructor(private readonly opts: ClusterNetworkingOptions) {
    this.simulated = opts.runtime === 'simulated';
    const log = opts.log;
    this.podNetwork = new PodNetwork({ runtime: opts.runtime, nodeName: opts.nodeName, defaultNetwork: opts.runtimeNetwork, cliArgs: opts.runtimeCliArgs, log: log.child({ component: 'pod-network' }), ...(opts.run ? { run: opts.run } : {}) });
    this.routes = new HostRoutes({ nodeName: opts.nodeName, log: log.child({ component: 'routes' }) });
    // A simulated node has no real pods to forward to.
    const mode = this.simulated && opts.proxyMode === 'auto' ? 'off' : opts.proxyMode;
    this.proxy = new ServiceProxy({
      nodeName: opts.nodeName, mode, log: log.child({ component: 'proxy' }),
      podCIDR: () => this.podNetwork.current.podCIDR, interfaceName: serviceInterfaceName(opts.nodeName),
    });
    if (opts.clusterDns ?? !this.simulated) this.dns = new ClusterDns({ port: opts.dnsPort, log: log.child({ component: 'dns' }) });
  }

  get proxyMode(): ProxyMode {
    return this.proxy.mode;
  }

  /** Pods' runtime network (undefined = the runtime default). */
  get network(): string | undefined {
    return this.podNetwork.current.network;
  }

  /** The node's pod range, once the controller gave one (or the last run saved it). */
  get podRange(): string | undefined {
    return this.podCIDR;
  }

  /** Nameserver settings for ClusterFirst pods, when cluster DNS can serve them. */
  podDns(): { clusterDomain: string; serverIP?: string } | undefined {
    const ip = this.dns?.serverIP;
    if (!ip) return undefined;
    if ((this.opts.dnsPort ?? 53) < 1024 && !isRoot()) return undefined;
    return { clusterDomain: this.dns!.records.domain ?? DEFAULT_CLUSTER_DOMAIN, serverIP: ip };
  }

  /** Before pods start: the pod range saved from the last run, if any. */
  async start(savedPodCIDR?: string): Promise<void> {
    await this.proxy.start();
    await this.dns?.prime();
    if (!this.simulated) await this.setPodCIDR(savedPodCIDR);
    this.resync = setInterval(() => this.reapply(), RESYNC_MS);
    this.resync.unref();
  }

  /** The node's pod range from the controller (each desired pods payload). */
  async setPodCIDR(cidr: string | undefined): Promise<void> {
    if (this.simulated) return;
    if (cidr === this.podCIDR) {
      // A payload right behind the one that brought this range must not start pods before
      // its network exists: they would land on the runtime's default network for good.
      await this.podNetworkReady;
      if (this.podNetwork.current.gateway) return;
    }
    this.podCIDR = cidr;
    const ready = this.podNetwork.ensure(cidr).then((state) => {
      void this.dns?.setAddress(state.gateway);
      this.reapply();
    });
    this.podNetworkReady = ready.catch(() => undefined);
    await ready;
  }

  onServices(p: ServiceRoutingPayload): void {
    this.services = p;
    this.dns?.update(p);
    void this.proxy.update(p);
    if (!this.simulated) void this.routes.sync(p.nodes ?? [], this.podNetwork.current.podCIDR);
  }

  private reapply(): void {
    const p = this.services;
    if (!p) return;
    void this.proxy.update(p);
    if (!this.simulated) void this.routes.sync(p.nodes ?? [], this.podNetwork.current.podCIDR);
  }

  async stop(): Promise<void> {
    clearInterval(this.resync);
    await Promise.all([this.proxy.stop(), this.dns?.stop()]);
  }
}

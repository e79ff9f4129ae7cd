// Node IPAM: each node gets its own pod range (spec.podCIDR) carved from the cluster
// CIDR, like upstream's node IPAM controller. The Node objects are the allocation table.
import type { Node } from '../../protocol/kube/types.js';
import { R, type ClusterClient } from '../apiserver/client.js';
import { ipToString, parseCidr } from '../apiserver/admission/service-allocator.js';

export class PodCidrAllocator {
  private readonly cluster: { base: number; size: number };
  private readonly blockSize: number;
  private readonly reserved = new Map<string, string>();

  constructor(private readonly client: ClusterClient, clusterCIDR: string, private readonly maskSize: number) {
    this.cluster = parseCidr(clusterCIDR);
    this.blockSize = 2 ** (32 - maskSize);
    if (this.blockSize > this.cluster.size) throw new Error(`node CIDR mask /${maskSize} is larger than the cluster CIDR ${clusterCIDR}`);
  }

  /** The node's range: the one it has, or the first free one (kept for it). */
  cidrFor(node: string): string | undefined {
    const existing = this.client.get<Node>(R.nodes, undefined, node)?.spec?.podCIDR;
    if (existing) return existing;
    const held = this.reserved.get(node);
    if (held) return held;
    const used = new Set<string>(this.reserved.values());
    for (const n of this.client.list<Node>(R.nodes).items) if (n.spec?.podCIDR) used.add(n.spec.podCIDR);
    for (let off = 0; off + this.blockSize <= this.cluster.size; off += this.blockSize) {
      const cidr = `${ipToString(this.cluster.base + off)}/${this.maskSize}`;
      if (!used.has(cidr)) {
        this.reserved.set(node, cidr);
        return cidr;
      }
    }
    return undefined;
  }
}

// The scheduler's view of where pods are: bound pods from the informer plus "assumed"
// pods, placed by this scheduler but not yet seen bound. Assuming at decision time lets
// a burst of pods see each other's requests before the binds come back.
import type { Node, Pod } from '../../protocol/kube/types.js';
import { NodeInfo } from './node-info.js';
import { controllerUid, podHostPorts, podRequests, type HostPort, type PodRequests } from './pod-requests.js';

interface CachedPod {
  uid: string | undefined;
  nodeName: string;
  requests: PodRequests;
  ports: HostPort[];
  owner: string | undefined;
  /** Placed by us, not yet confirmed by the informer. */
  assumed: boolean;
}

export class SchedulerCache {
  private readonly nodeInfos = new Map<string, NodeInfo>();
  private readonly pods = new Map<string, CachedPod>();
  /** owner uid → node → pods of that owner there. */
  private readonly ownerCounts = new Map<string, Map<string, number>>();
  /** Nodes that exist as Node objects, in a stable order. */
  private readyList: NodeInfo[] | undefined;

  setNode(node: Node): NodeInfo {
    const name = node.metadata.name!;
    let info = this.nodeInfos.get(name);
    if (!info) {
      this.nodeInfos.set(name, (info = new NodeInfo(name)));
      this.readyList = undefined;
    } else if (!info.node) {
      this.readyList = undefined;
    }
    info.setNode(node);
    return info;
  }

  removeNode(name: string): void {
    const info = this.nodeInfos.get(name);
    if (!info) return;
    info.node = undefined;
    // Pods still bound there keep their totals until they go, in case the node returns.
    if (info.isEmpty) this.nodeInfos.delete(name);
    this.readyList = undefined;
  }

  /** Every node that has a Node object. */
  nodes(): readonly NodeInfo[] {
    this.readyList ??= [...this.nodeInfos.values()].filter((n) => n.node).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return this.readyList;
  }

  node(name: string): NodeInfo | undefined {
    return this.nodeInfos.get(name);
  }

  /** Pods of one controller per node (for spreading). */
  ownerSpread(owner: string): ReadonlyMap<string, number> | undefined {
    return this.ownerCounts.get(owner);
  }

  isAssumed(key: string): boolean {
    return this.pods.get(key)?.assumed === true;
  }

  has(key: string): boolean {
    return this.pods.has(key);
  }

  /** A pod the informer shows bound and not finished. Confirms an assumed pod. */
  upsertBound(key: string, pod: Pod): void {
    const nodeName = pod.spec.nodeName!;
    const existing = this.pods.get(key);
    if (existing && existing.nodeName === nodeName && existing.uid === pod.metadata.uid) {
      existing.assumed = false;
      return; // requests and ports of a bound pod do not change
    }
    if (existing) this.remove(key);
    this.insert(key, { uid: pod.metadata.uid, nodeName, requests: podRequests(pod), ports: podHostPorts(pod), owner: controllerUid(pod), assumed: false });
  }

  /** Places a pod before its bind is acknowledged. */
  assume(key: string, pod: Pod, nodeName: string, requests: PodRequests, ports: HostPort[], owner: string | undefined): void {
    if (this.pods.has(key)) this.remove(key);
    this.insert(key, { uid: pod.metadata.uid, nodeName, requests, ports, owner, assumed: true });
  }

  /** Drops an assumed pod whose bind failed; confirmed pods stay. */
  forgetAssumed(key: string): void {
    if (this.pods.get(key)?.assumed) this.remove(key);
  }

  remove(key: string): void {
    const p = this.pods.get(key);
    if (!p) return;
    this.pods.delete(key);
    const info = this.nodeInfos.get(p.nodeName);
    if (info) {
      info.removePod(p);
      if (!info.node && info.isEmpty) this.nodeInfos.delete(p.nodeName);
    }
    if (p.owner) {
      const counts = this.ownerCounts.get(p.owner);
      if (counts) {
        const n = (counts.get(p.nodeName) ?? 0) - 1;
        if (n > 0) counts.set(p.nodeName, n);
        else counts.delete(p.nodeName);
        if (counts.size === 0) this.ownerCounts.delete(p.owner);
      }
    }
  }

  private insert(key: string, p: CachedPod): void {
    this.pods.set(key, p);
    let info = this.nodeInfos.get(p.nodeName);
    if (!info) this.nodeInfos.set(p.nodeName, (info = new NodeInfo(p.nodeName)));
    info.addPod(p);
    if (p.owner) {
      let counts = this.ownerCounts.get(p.owner);
      if (!counts) this.ownerCounts.set(p.owner, (counts = new Map()));
      counts.set(p.nodeName, (counts.get(p.nodeName) ?? 0) + 1);
    }
  }
}

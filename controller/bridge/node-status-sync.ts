// Agents' availability and status → telemetry (memory) and Node objects (store). The
// store is written only when something a user would see changes, so heartbeats cost no
// disk writes.
import { allowedNodeLabels, type NodeDenial } from './node-restriction.js';
import { ANN_STORAGE_DIR as STORAGE_DIR_ANNOTATION } from '../storage/storage-types.js';
import type { Node, NodeCondition } from '../../protocol/kube/types.js';
import type { NodeStatusPayload } from '../../protocol/mqtt/payloads.js';
import { formatCpu } from '../../protocol/kube/quantity.js';
import { R, type ClusterClient } from '../apiserver/client.js';
import type { NodeTelemetry } from '../client/node-telemetry.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

export const KUBELET_VERSION = 'v1.32.0-pikube';

export interface NodeStatusSyncOptions {
  client: ClusterClient;
  telemetry: NodeTelemetry;
  log: { info: (o: object, m: string) => void; warn: (o: object, m: string) => void };
  /** A node tried something it may not (e.g. a restricted label on itself). */
  onDenied?: NodeDenial;
  /** Pod CIDR for a node, allocated on first sight. */
  podCidrFor?: (node: string) => string | undefined;
  /** Called after a node's Ready condition turned True again. */
  onReady?: (node: string) => void;
}


function memoryQuantity(bytes: number): string {
  return `${Math.floor(bytes / 1024)}Ki`;
}

/** A pressure condition: True when the board is under that pressure. */
function condition(type: string, pressure: boolean, reasons: [string, string, string, string], previous: NodeCondition | undefined, at: string): NodeCondition {
  const status = pressure ? 'True' : 'False';
  const [reasonOk, msgOk, reasonBad, msgBad] = reasons;
  return {
    type, status,
    lastHeartbeatTime: at,
    lastTransitionTime: previous && previous.status === status ? previous.lastTransitionTime : at,
    reason: pressure ? reasonBad : reasonOk,
    message: pressure ? msgBad : msgOk,
  };
}

export class NodeStatusSync {
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly latest = new Map<string, NodeStatusPayload>();

  constructor(private readonly opts: NodeStatusSyncOptions) {}

  availability(node: string, online: boolean): void {
    const t = this.opts.telemetry.get(node);
    this.opts.telemetry.update(node, { online, lastSeen: online ? Date.now() : t?.lastSeen ?? 0 });
    if (online && this.latest.has(node)) this.sync(node);
  }

  /** A liveness beat: the node is there and nothing worth a full status changed. */
  heartbeat(node: string): void {
    this.opts.telemetry.update(node, { lastSeen: Date.now() });
  }

  status(node: string, p: NodeStatusPayload): void {
    const pods = new Map<string, { namespace: string; name: string; containers: { name: string; cpuCores: number; memoryBytes: number }[] }>();
    for (const u of p.pods) pods.set(u.uid, { namespace: u.namespace, name: u.name, containers: u.containers });
    this.opts.telemetry.update(node, {
      lastSeen: Date.now(),
      usage: p.usage,
      capacity: { cpuCores: p.capacity.cpuCores, memoryBytes: p.capacity.memoryBytes, pods: p.capacity.pods },
      temperatureC: p.temperatureC,
      pods,
      readingTime: p.time,
    });
    this.latest.set(node, p);
    this.sync(node);
  }

  /** Writes the Node when what a user sees differs; one write per node at a time. */
  private sync(node: string): void {
    if (this.inflight.has(node)) return;
    const run = this.write(node)
      .catch((err) => this.opts.log.warn({ node, err: String(err) }, 'node status not written'))
      .finally(() => {
        this.inflight.delete(node);
      });
    this.inflight.set(node, run);
  }

  private async write(node: string): Promise<void> {
    const p = this.latest.get(node);
    if (!p) return;
    const t = this.opts.telemetry.get(node);
    const online = t?.online ?? false;
    const client = this.opts.client;
    const existing = client.get<Node>(R.nodes, undefined, node);
    const at = rfc3339Seconds();
    if (!existing) {
      const podCIDR = this.opts.podCidrFor?.(node);
      await client.create<Node>(R.nodes, {
        apiVersion: 'v1', kind: 'Node',
        metadata: { name: node, labels: { ...this.ownLabels(node, p.labels), 'kubernetes.io/hostname': node } },
        spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {},
      });
      this.opts.log.info({ node }, 'node registered');
    }
    const current = client.get<Node>(R.nodes, undefined, node)!;
    const status = this.desiredStatus(p, current, at, online);
    const labels = { ...(current.metadata.labels ?? {}), ...this.ownLabels(node, p.labels), 'kubernetes.io/hostname': node };
    if (!online && !current.status?.conditions) return;
    // Where the local-path provisioner puts this node's volumes.
    const annotations = p.storageDir ? { ...(current.metadata.annotations ?? {}), [STORAGE_DIR_ANNOTATION]: p.storageDir } : current.metadata.annotations;
    if (sameVisible(current.status, status) && JSON.stringify(labels) === JSON.stringify(current.metadata.labels ?? {})
      && JSON.stringify(annotations ?? {}) === JSON.stringify(current.metadata.annotations ?? {})) return;
    const next = structuredClone(current) as Node;
    next.status = status;
    next.metadata.labels = labels;
    if (annotations) next.metadata.annotations = annotations;
    await client.update<Node>(R.nodes, next, 'status');
    const wasReady = current.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    const isReady = status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    if (isReady && !wasReady && current.status?.conditions?.some((c) => c.type === 'Ready')) this.opts.onReady?.(node);
  }

  private ownLabels(node: string, labels: Record<string, string> | undefined): Record<string, string> {
    return allowedNodeLabels(node, labels, (n, what, detail) => {
      this.opts.log.warn({ node: n, denied: what, ...detail }, 'node request denied');
      this.opts.onDenied?.(n, what, detail);
    });
  }

  private desiredStatus(p: NodeStatusPayload, current: Node, at: string, online: boolean): Node['status'] {
    const prev = new Map((current.status?.conditions ?? []).map((c) => [c.type, c]));
    const conditions: NodeCondition[] = [
      condition('MemoryPressure', p.pressure.memory, ['KubeletHasSufficientMemory', 'kubelet has sufficient memory available', 'KubeletHasInsufficientMemory', 'kubelet has insufficient memory available'], prev.get('MemoryPressure'), at),
      condition('DiskPressure', p.pressure.disk, ['KubeletHasNoDiskPressure', 'kubelet has no disk pressure', 'KubeletHasDiskPressure', 'kubelet has disk pressure'], prev.get('DiskPressure'), at),
      condition('PIDPressure', p.pressure.pid, ['KubeletHasSufficientPID', 'kubelet has sufficient PID available', 'KubeletHasInsufficientPID', 'kubelet has insufficient PID available'], prev.get('PIDPressure'), at),
    ];
    const prevReady = prev.get('Ready');
    if (online) {
      conditions.push({
        type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status',
        lastHeartbeatTime: at, lastTransitionTime: prevReady?.status === 'True' ? prevReady.lastTransitionTime : at,
      });
    } else if (prevReady) {
      conditions.push(prevReady);
    }
    return {
      capacity: { cpu: formatCpu(p.capacity.cpuCores), memory: memoryQuantity(p.capacity.memoryBytes), pods: String(p.capacity.pods), ...(p.capacity.ephemeralStorageBytes ? { 'ephemeral-storage': memoryQuantity(p.capacity.ephemeralStorageBytes) } : {}) },
      allocatable: { cpu: formatCpu(p.allocatable.cpuCores), memory: memoryQuantity(p.allocatable.memoryBytes), pods: String(p.allocatable.pods), ...(p.allocatable.ephemeralStorageBytes ? { 'ephemeral-storage': memoryQuantity(p.allocatable.ephemeralStorageBytes) } : {}) },
      conditions,
      addresses: p.addresses,
      nodeInfo: {
        machineID: p.nodeInfo.machineID ?? '', systemUUID: p.nodeInfo.systemUUID ?? '', bootID: p.nodeInfo.bootID ?? '',
        kernelVersion: p.nodeInfo.kernelVersion, osImage: p.nodeInfo.osImage, containerRuntimeVersion: p.nodeInfo.containerRuntimeVersion,
        kubeletVersion: KUBELET_VERSION, kubeProxyVersion: KUBELET_VERSION, operatingSystem: p.nodeInfo.operatingSystem, architecture: p.nodeInfo.architecture,
      },
      ...(p.proxyMode ? { daemonEndpoints: { kubeletEndpoint: { Port: 0 } } } : {}),
      ...(p.images?.length ? { images: p.images } : {}),
    } as Node['status'];
  }
}

/** Equal but for heartbeat times. */
function sameVisible(a: Node['status'], b: Node['status']): boolean {
  const strip = (s: Node['status']) => JSON.stringify({ ...s, conditions: (s?.conditions ?? []).map((c) => ({ ...c, lastHeartbeatTime: undefined })) });
  return strip(a) === strip(b);
}

// Builders for the nodes and pods that scheduler and node lifecycle tests create, and a
// small wait helper. Nodes are real Node objects in the real store plus a telemetry
// entry, as the bridge would leave them.
import { waitFor as waitForValue } from '../helpers/wait.js';
import type { Affinity, Container, Node, Pod, Taint, Toleration } from '../../protocol/kube/types.js';
import { R, type ClusterClient } from '../../controller/apiserver/client.js';
import type { NodeTelemetry } from '../../controller/client/node-telemetry.js';

export interface NodeSpec {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  ready?: boolean;
  /** Telemetry: omit for an online node, `false` for offline, `'absent'` for no entry at all. */
  online?: boolean | 'absent';
  usage?: { cpuCores: number; memoryBytes: number };
}

export function nodeObject(name: string, s: NodeSpec = {}): Node {
  const capacity = { cpu: s.cpu ?? '4', memory: s.memory ?? '8Gi', pods: s.pods ?? '110' };
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/arch': 'arm64', ...(s.labels ?? {}) } },
    spec: { ...(s.taints ? { taints: s.taints } : {}), ...(s.unschedulable ? { unschedulable: true } : {}) },
    status: {
      capacity, allocatable: capacity,
      conditions: [{ type: 'Ready', status: s.ready === false ? 'False' : 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }],
    },
  };
}

export async function addNode(client: ClusterClient, telemetry: NodeTelemetry, name: string, s: NodeSpec = {}): Promise<Node> {
  if (s.online !== 'absent') {
    const capacityCores = Number(s.cpu ?? '4');
    telemetry.update(name, {
      online: s.online !== false, lastSeen: Date.now(), usage: s.usage,
      capacity: Number.isFinite(capacityCores) ? { cpuCores: capacityCores, memoryBytes: 8 * 1024 ** 3, pods: 110 } : undefined,
    });
  }
  return client.create<Node>(R.nodes, nodeObject(name, s));
}

export interface PodSpecOptions {
  namespace?: string;
  cpu?: string;
  memory?: string;
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  affinity?: Affinity;
  tolerations?: Toleration[];
  hostPort?: number;
  owner?: { uid: string; kind?: string; name?: string };
  initContainers?: Container[];
  labels?: Record<string, string>;
}

export function podObject(name: string, o: PodSpecOptions = {}): Pod {
  const requests: Record<string, string> = {};
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  const container: Container = {
    name: 'app', image: 'nginx:1.27',
    ...(Object.keys(requests).length ? { resources: { requests } } : {}),
    ...(o.hostPort ? { ports: [{ containerPort: 80, hostPort: o.hostPort }] } : {}),
  };
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: o.namespace ?? 'default',
      ...(o.labels ? { labels: o.labels } : {}),
      ...(o.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: o.owner.kind ?? 'ReplicaSet', name: o.owner.name ?? 'owner', uid: o.owner.uid, controller: true }] } : {}),
    },
    spec: {
      containers: [container],
      ...(o.initContainers ? { initContainers: o.initContainers } : {}),
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
      ...(o.affinity ? { affinity: o.affinity } : {}),
      ...(o.tolerations ? { tolerations: o.tolerations } : {}),
    },
  };
}

export function addPod(client: ClusterClient, name: string, o: PodSpecOptions = {}): Promise<Pod> {
  return client.create<Pod>(R.pods, podObject(name, o));
}

/** Polls the scheduler's caches every 10 ms; any value but undefined/false counts (0 included). */
export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 5000, stepMs = 10): Promise<T> {
  const boxed = await waitForValue(what, () => { const v = check(); return v === undefined || v === false ? undefined : { v }; }, timeoutMs, stepMs);
  return boxed.v;
}

export function getPod(client: ClusterClient, name: string, namespace = 'default'): Pod | undefined {
  return client.get<Pod>(R.pods, namespace, name);
}

export function getNode(client: ClusterClient, name: string): Node | undefined {
  return client.get<Node>(R.nodes, undefined, name);
}

export function eventsFor(client: ClusterClient, podName: string, reason: string, namespace = 'default'): { message: string; type: string; count?: number }[] {
  return client.list(R.events, { namespace }).items
    .filter((e) => (e as { involvedObject?: { name?: string } }).involvedObject?.name === podName && (e as { reason?: string }).reason === reason)
    .map((e) => e as unknown as { message: string; type: string; count?: number });
}

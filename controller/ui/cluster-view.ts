// What the status page shows, built from the shared informers (nodes, pods, events) and
// the agents' live telemetry. Changes are coalesced: listeners hear at most one `change`
// per interval, however busy the cluster is, and one snapshot serves every open page.
// Nothing is watched until the first page opens.
import { EventEmitter } from 'node:events';
import type { KubeObject, Node, Pod } from '../../protocol/kube/types.js';
import { cpuToMillis, memoryToBytes } from '../../protocol/kube/quantity.js';
import { R } from '../apiserver/client.js';
import { printPod } from '../apiserver/tables/pod-printers.js';
import { nodeRoles } from '../apiserver/tables/node-printers.js';
import type { NodeTelemetry } from '../client/node-telemetry.js';
import type { Informer } from '../client/informer.js';
import type { SharedInformers } from '../client/shared-informers.js';

export interface NodeView {
  name: string;
  ready: boolean;
  online: boolean;
  schedulable: boolean;
  roles: string[];
  address?: string;
  os?: string;
  arch?: string;
  kubeletVersion?: string;
  cpu: { usedCores?: number; capacityCores?: number };
  memory: { usedBytes?: number; capacityBytes?: number };
  temperatureC?: number;
}

export interface PodView {
  namespace: string;
  name: string;
  node: string | null;
  phase: string;
  /** kubectl's STATUS column (Running, ContainerCreating, CrashLoopBackOff, ...). */
  status: string;
  ready: string;
  restarts: string;
  ip?: string;
  created?: string;
}

export interface EventView {
  time?: string;
  type: string;
  reason: string;
  object: string;
  message: string;
  count: number;
  /** The event's namespace, for filtering by what the reader may see. */
  namespace?: string;
}

export interface ClusterSnapshot { generatedAt: string; nodes: NodeView[]; pods: PodView[]; events: EventView[]; alerts: string[] }

/** Problems of the control plane itself (e.g. the store's disk is full), shown above everything. */
export interface AlertSource { current(): string[]; on(event: 'change', listener: () => void): unknown; off(event: 'change', listener: () => void): unknown }

/** How many events the page shows. */
export const RECENT_EVENTS = 20;

type EventObject = KubeObject & {
  type?: string; reason?: string; message?: string; count?: number;
  lastTimestamp?: string | null; eventTime?: string | null; firstTimestamp?: string | null;
  involvedObject?: { kind?: string; namespace?: string; name?: string };
  series?: { lastObservedTime?: string; count?: number };
};

const num = (f: () => number): number | undefined => {
  try {
    const v = f();
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
};

function eventTime(e: EventObject): string | undefined {
  return e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? undefined;
}

export class ClusterView extends EventEmitter<{ change: [] }> {
  private readonly nodes: Informer<Node>;
  private readonly pods: Informer<Pod>;
  private readonly events: Informer<EventObject>;
  private pending?: NodeJS.Timeout;
  private started = false;
  private cached?: string;

  constructor(informers: SharedInformers, private readonly telemetry: NodeTelemetry, private readonly coalesceMs = 250, private readonly alerts?: AlertSource) {
    super();
    this.nodes = informers.get<Node>(R.nodes);
    this.pods = informers.get<Pod>(R.pods);
    this.events = informers.get<EventObject>(R.events);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const i of [this.nodes, this.pods, this.events] as Informer<KubeObject>[]) {
      i.on(this.changed);
      i.start();
    }
    this.telemetry.on('change', this.changed);
    this.alerts?.on('change', this.changed);
  }

  stop(): void {
    this.started = false;
    this.telemetry.off('change', this.changed);
    this.alerts?.off('change', this.changed);
    if (this.pending) clearTimeout(this.pending);
    this.pending = undefined;
  }

  private readonly changed = (): void => {
    this.cached = undefined;
    if (!this.started || this.pending || this.listenerCount('change') === 0) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.emit('change');
    }, this.coalesceMs);
  };

  /** The current snapshot as JSON, built once per change. */
  snapshotJson(): string {
    if (!this.started) return JSON.stringify(this.snapshot());
    return (this.cached ??= JSON.stringify(this.snapshot()));
  }

  snapshot(now = new Date()): ClusterSnapshot {
    const nodes = this.nodes.list().map((n) => this.nodeView(n)).sort((a, b) => a.name.localeCompare(b.name));
    const pods = this.pods.list().map((p) => podView(p, now))
      .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
    // Newest first; within one second (event times have no more), the later write first.
    const events = this.events.list()
      .map((e) => ({ e, at: eventTime(e) ?? '', rv: Number(e.metadata.resourceVersion) || 0 }))
      .sort((a, b) => b.at.localeCompare(a.at) || b.rv - a.rv)
      .slice(0, RECENT_EVENTS)
      .map(({ e, at }) => ({
        time: at || undefined,
        type: e.type ?? 'Normal',
        reason: e.reason ?? '',
        object: eventObject(e),
        message: e.message ?? '',
        count: e.series?.count ?? e.count ?? 1,
        namespace: e.metadata.namespace ?? 'default',
      }));
    return { generatedAt: now.toISOString(), nodes, pods, events, alerts: this.alerts?.current() ?? [] };
  }

  private nodeView(node: Node): NodeView {
    const name = node.metadata.name!;
    const t = this.telemetry.get(name);
    const status = node.status ?? {};
    const info = status.nodeInfo;
    const ready = (status.conditions ?? []).filter((c) => c.type === 'Ready').pop()?.status === 'True';
    const capacity = status.capacity ?? {};
    const address = (status.addresses ?? []).find((a) => a.type === 'InternalIP')?.address;
    return {
      name, ready, online: t?.online ?? false,
      schedulable: node.spec?.unschedulable !== true,
      roles: nodeRoles(node.metadata.labels),
      ...(address ? { address } : {}),
      ...(info ? { os: info.osImage, arch: info.architecture, kubeletVersion: info.kubeletVersion } : {}),
      cpu: {
        usedCores: t?.usage?.cpuCores,
        capacityCores: t?.capacity?.cpuCores ?? num(() => cpuToMillis(capacity.cpu ?? '') / 1000),
      },
      memory: {
        usedBytes: t?.usage?.memoryBytes,
        capacityBytes: t?.capacity?.memoryBytes ?? num(() => memoryToBytes(capacity.memory ?? '')),
      },
      ...(t?.temperatureC !== undefined ? { temperatureC: t.temperatureC } : {}),
    };
  }
}

/** `pod/web-1` as kubectl writes it, with the namespace in front when it is not `default`. */
function eventObject(e: EventObject): string {
  const o = e.involvedObject ?? {};
  const ref = `${(o.kind ?? '').toLowerCase()}/${o.name ?? ''}`;
  return o.namespace && o.namespace !== 'default' ? `${o.namespace} ${ref}` : ref;
}

function podView(pod: Pod, now: Date): PodView {
  const cells = printPod(pod, now).cells;
  return {
    namespace: pod.metadata.namespace ?? 'default',
    name: pod.metadata.name!,
    node: pod.spec?.nodeName || null,
    phase: pod.status?.phase ?? 'Pending',
    status: String(cells[2] ?? ''),
    ready: String(cells[1] ?? ''),
    restarts: String(cells[3] ?? '0'),
    ...(pod.status?.podIP ? { ip: pod.status.podIP } : {}),
    ...(pod.metadata.creationTimestamp ? { created: pod.metadata.creationTimestamp } : {}),
  };
}

// What agents report that is too frequent to store: liveness and real usage. Lives in
// memory only (heartbeats never cause a disk write); the bridge feeds it, the node
// lifecycle controller, the scheduler and metrics read it.
import { EventEmitter } from 'node:events';

export interface NodeTelemetryEntry {
  /** From the retained availability topic (the agent's Will says offline). */
  online: boolean;
  /** ms since epoch of the last status message from the agent. */
  lastSeen: number;
  usage?: { cpuCores: number; memoryBytes: number };
  capacity?: { cpuCores: number; memoryBytes: number; pods: number };
  temperatureC?: number;
  /** Per-pod usage for metrics.k8s.io, keyed by pod uid. */
  pods: Map<string, { namespace: string; name: string; containers: { name: string; cpuCores: number; memoryBytes: number }[] }>;
  /** When the last reading was taken (agent clock). */
  readingTime?: string;
}

export class NodeTelemetry extends EventEmitter<{ change: [nodeName: string] }> {
  private readonly nodes = new Map<string, NodeTelemetryEntry>();

  get(nodeName: string): NodeTelemetryEntry | undefined {
    return this.nodes.get(nodeName);
  }

  names(): string[] {
    return [...this.nodes.keys()];
  }

  /** Merges a partial update and tells listeners. */
  update(nodeName: string, patch: Partial<NodeTelemetryEntry>): void {
    const current = this.nodes.get(nodeName) ?? { online: false, lastSeen: 0, pods: new Map() };
    this.nodes.set(nodeName, { ...current, ...patch });
    this.emit('change', nodeName);
  }

  forget(nodeName: string): void {
    if (this.nodes.delete(nodeName)) this.emit('change', nodeName);
  }
}

// Events agents report (Pulling, Started, BackOff, ...) → core/v1 Events.
import type { NodeEvent } from '../../protocol/mqtt/payloads.js';
import type { ClusterClient } from '../apiserver/client.js';
import { EventRecorder } from '../client/event-recorder.js';

export class NodeEvents {
  private readonly recorders = new Map<string, EventRecorder>();

  constructor(private readonly client: ClusterClient, private readonly log: { warn: (o: object, m: string) => void }) {}

  record(node: string, events: NodeEvent[]): void {
    let rec = this.recorders.get(node);
    if (!rec) this.recorders.set(node, (rec = new EventRecorder(this.client, { component: 'kubelet', host: node }, this.log)));
    for (const e of events) {
      const when = new Date(e.time);
      rec.event({ ...e.involvedObject, apiVersion: 'v1' }, e.type, e.reason, e.message, Number.isNaN(when.getTime()) ? new Date() : when);
    }
  }
}

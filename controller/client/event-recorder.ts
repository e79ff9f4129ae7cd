// Records core/v1 Events the way kubectl describe shows them. Repeats of the same
// (object, reason, message) within a short window bump `count` instead of piling up.
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../../protocol/kube/types.js';
import { R, type ClusterClient } from '../apiserver/client.js';

export interface EventSource { component: string; host?: string }

export interface InvolvedObject { kind: string; apiVersion?: string; namespace?: string; name: string; uid?: string; fieldPath?: string; resourceVersion?: string }

export class EventRecorder {
  private readonly recent = new Map<string, { name: string; namespace: string; count: number; at: number }>();

  constructor(private readonly client: ClusterClient, private readonly source: EventSource, private readonly log?: { warn: (o: object, m: string) => void }) {}

  /** Records an event about a stored object. Never throws: events are best effort. */
  event(obj: KubeObject | InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string, when = new Date()): void {
    const involved = 'metadata' in obj
      ? { kind: obj.kind ?? '', apiVersion: obj.apiVersion, namespace: obj.metadata.namespace, name: obj.metadata.name ?? '', uid: obj.metadata.uid }
      : obj;
    void this.record(involved, type, reason, message, when).catch((err) => this.log?.warn({ err: String(err), reason }, 'event not recorded'));
  }

  private async record(involved: InvolvedObject, type: string, reason: string, message: string, when: Date): Promise<void> {
    const namespace = involved.namespace || 'default';
    const key = `${namespace}/${involved.kind}/${involved.name}/${involved.uid ?? ''}/${involved.fieldPath ?? ''}/${reason}/${message}`;
    const now = when.toISOString();
    const seen = this.recent.get(key);
    if (seen && when.getTime() - seen.at < 10 * 60_000) {
      const existing = this.client.get(R.events, seen.namespace, seen.name);
      if (existing) {
        seen.count++;
        seen.at = when.getTime();
        await this.client.patch(R.events, seen.namespace, seen.name, { count: seen.count, lastTimestamp: now });
        return;
      }
    }
    const name = `${involved.name}.${randomBytes(8).toString('hex')}`;
    const event = {
      apiVersion: 'v1', kind: 'Event',
      metadata: { name, namespace },
      involvedObject: { ...involved, namespace: involved.namespace },
      reason, message, type,
      source: { component: this.source.component, ...(this.source.host ? { host: this.source.host } : {}) },
      firstTimestamp: now, lastTimestamp: now, count: 1,
      reportingComponent: this.source.component, reportingInstance: this.source.host ?? '',
    };
    await this.client.create(R.events, event as never);
    this.recent.set(key, { name, namespace, count: 1, at: when.getTime() });
    if (this.recent.size > 5000) this.recent.delete(this.recent.keys().next().value as string);
  }
}

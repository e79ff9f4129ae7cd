// Status updates from all of a node's pod workers on their way to the control plane, as
// the kubelet's status manager sends them: what users and controllers wait for goes out
// at once, the rest (restart counts, probe times) is gathered for a short while and sent
// together, one update per pod with the newest status winning.
import type pino from 'pino';
import type { PodStatusUpdate } from '../../protocol/mqtt/payloads.js';

export interface PodStatusBatcherOptions {
  /** How long updates are gathered before they go out together. */
  batchMs: number;
  send(updates: PodStatusUpdate[]): void;
  log: pino.Logger;
  /** Once true, no new timer is started (what is queued goes out with stop()). */
  stopped(): boolean;
}

export class PodStatusBatcher {
  private pending = new Map<string, PodStatusUpdate>();
  private timer?: NodeJS.Timeout;
  /** Pods whose status went out at least once: later updates are batched. */
  private readonly reported = new Set<string>();
  /** Phase and readiness last sent at once, per pod. */
  private readonly lastPhase = new Map<string, string>();

  constructor(private readonly opts: PodStatusBatcherOptions) {}

  queue(u: PodStatusUpdate): void {
    this.pending.set(u.uid, u);
    // A pod's first status, a new phase and a readiness change are what users and controllers
    // wait for (rollouts, endpoints, ordered StatefulSets): no batching delay, as upstream's
    // status manager sends them at once.
    const phase = `${u.status?.phase ?? ''}/${readyOf(u)}`;
    if (!this.reported.has(u.uid) || phase !== this.lastPhase.get(u.uid)) {
      this.reported.add(u.uid);
      this.lastPhase.set(u.uid, phase);
      clearTimeout(this.timer);
      this.timer = undefined;
      this.flush();
      return;
    }
    if (this.timer || this.opts.stopped()) return;
    this.timer = setTimeout(() => { this.timer = undefined; this.flush(); }, this.opts.batchMs);
  }

  /** A pod is gone from the node: its next status (if it comes back) is a first one again. */
  forget(uid: string): void {
    this.reported.delete(uid);
    this.lastPhase.delete(uid);
  }

  /** Sends what is queued and stops the timer. */
  stop(): void {
    this.flush();
    clearTimeout(this.timer);
  }

  private flush(): void {
    if (this.pending.size === 0) return;
    const updates = [...this.pending.values()];
    this.pending = new Map();
    this.opts.log.debug({ pods: updates.map((u) => ({ uid: u.uid, phase: u.status?.phase })) }, 'pod statuses sent');
    try {
      this.opts.send(updates);
    } catch (err) {
      this.opts.log.error({ err }, 'onStatus failed');
    }
  }
}

function readyOf(u: PodStatusUpdate): string {
  return u.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? '';
}

// Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does
// (staging/src/k8s.io/client-go/tools/leaderelection/leaderelection.go): candidates try
// every retry period; a Lease held by another is taken only once it has not changed for
// a whole lease duration by our own clock (no trust in other hosts' clocks); the leader
// renews every retry period and gives up at once when it could not renew within the
// renew deadline, or when the Lease names someone else.
import type { Logger } from 'pino';
import type { ClusterClient } from '../apiserver/client.js';
import { R } from '../apiserver/client.js';
import type { KubeObject } from '../../protocol/kube/types.js';

export interface LeaderElectionOptions {
  client: ClusterClient;
  identity: string;
  namespace?: string;
  name?: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  onStartedLeading: () => void | Promise<void>;
  /** Called synchronously, the moment leadership is lost: stop every leader-only loop. */
  onStoppedLeading: () => void;
  log: Logger;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}
type Lease = KubeObject & { spec?: LeaseSpec };

const microTime = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

export class LeaderElector {
  private timer?: NodeJS.Timeout;
  private watchdog?: NodeJS.Timeout;
  private leading = false;
  private stopped = false;
  private lastRenew = 0;
  /** The Lease's resourceVersion last seen, and when (our clock) it was first seen. */
  private observed?: { rv: string; at: number };
  private running?: Promise<void>;

  constructor(private readonly opts: LeaderElectionOptions) {
    if (!(opts.leaseDurationMs > opts.renewDeadlineMs && opts.renewDeadlineMs > opts.retryPeriodMs && opts.retryPeriodMs > 0)) {
      throw new Error('leader election needs lease duration > renew deadline > retry period > 0');
    }
  }

  get isLeader(): boolean { return this.leading; }

  start(): void {
    // A round can hang on an unreachable datastore: the deadline is checked on its own.
    this.watchdog = setInterval(() => {
      if (this.leading && Date.now() - this.lastRenew > this.opts.renewDeadlineMs) this.lose('could not renew within the renew deadline');
    }, 100);
    this.watchdog.unref();
    const tick = () => {
      if (this.stopped) return;
      this.running = this.round().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.opts.retryPeriodMs * (this.leading ? 1 : 1 + Math.random() * 0.2));
      });
    };
    tick();
  }

  /** Stops trying; a leader releases the Lease so that another takes over without waiting it out. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.watchdog) clearInterval(this.watchdog);
    // A round stuck on an unreachable datastore must not hold shutdown: wait at most
    // one renew deadline for it, as the leader would have given up by then anyway.
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([
      this.running?.catch(() => undefined),
      new Promise<void>((r) => { bound = setTimeout(r, this.opts.renewDeadlineMs); }),
    ]);
    clearTimeout(bound);
    if (this.leading) {
      this.lose('shutting down');
      const lease = this.current();
      if (lease?.spec?.holderIdentity === this.opts.identity) {
        await this.opts.client.update(R.leases, { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 } } as Lease).catch(() => undefined);
      }
    }
  }

  private get ns(): string { return this.opts.namespace ?? 'kube-system'; }
  private get name(): string { return this.opts.name ?? 'pikube-controller'; }

  private current(): Lease | undefined {
    return this.opts.client.get<Lease>(R.leases, this.ns, this.name);
  }

  private lose(reason: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.opts.log.warn({ identity: this.opts.identity, reason }, 'lost the leader lease; stopping leader-only loops');
    this.opts.onStoppedLeading();
  }

  private async round(): Promise<void> {
    const now = Date.now();
    try {
      const ok = await this.tryAcquireOrRenew(now);
      if (ok) {
        this.lastRenew = Date.now();
        if (!this.leading && !this.stopped) {
          this.leading = true;
          this.opts.log.info({ identity: this.opts.identity }, 'acquired the leader lease');
          await this.opts.onStartedLeading();
        }
        return;
      }
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'leader election round failed');
    }
    if (this.leading && Date.now() - this.lastRenew > this.opts.renewDeadlineMs) this.lose('could not renew within the renew deadline');
  }

  private async tryAcquireOrRenew(now: number): Promise<boolean> {
    const { client, identity } = this.opts;
    const spec: LeaseSpec = { holderIdentity: identity, leaseDurationSeconds: Math.ceil(this.opts.leaseDurationMs / 1000), acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 };
    const lease = this.current();
    if (!lease) {
      await client.create(R.leases, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.name, namespace: this.ns }, spec } as Lease);
      return true;
    }
    const rv = lease.metadata.resourceVersion ?? '';
    if (this.observed?.rv !== rv) this.observed = { rv, at: now };
    const held = lease.spec?.holderIdentity;
    if (held && held !== identity) {
      if (this.leading) this.lose(`the Lease names ${held}`);
      const duration = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
      if (this.observed.at + duration > now) return false;
    }
    const next: LeaseSpec = held === identity
      ? { ...lease.spec, renewTime: microTime(now), leaseDurationSeconds: spec.leaseDurationSeconds }
      : { ...spec, leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1 };
    // The resourceVersion makes this a compare-and-swap: two candidates cannot both win.
    await client.update(R.leases, { ...lease, spec: next } as Lease);
    return true;
  }
}

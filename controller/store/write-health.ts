// Whether the store can write right now. A full SD card fails every write until space
// returns; that is one episode: one error line when it starts, one info line when it
// ends, a counter of failed writes for Prometheus, and a reason for /readyz and the
// status page while it lasts.
import { EventEmitter } from 'node:events';

type Log = { info: (o: object, m: string) => void; error: (o: object, m: string) => void };

export interface WriteFailure { reason: string; code?: string; since: string; failedWrites: number }

export class WriteHealth extends EventEmitter<{ change: [] }> {
  /** Writes that failed since start (a write is one create, update or delete). */
  failedWrites = 0;
  private episode?: WriteFailure;

  constructor(private readonly log?: Log) { super(); }

  /** Undefined while writes succeed. */
  get failure(): WriteFailure | undefined { return this.episode; }

  /** For /readyz: why writes fail, or undefined. */
  reason(): string | undefined {
    const e = this.episode;
    if (!e) return undefined;
    return `${e.code === 'ENOSPC' ? 'store disk is full' : 'store cannot write'} since ${e.since} (${e.failedWrites} writes failed): ${e.reason}`;
  }

  /** For the status page. */
  current(): string[] {
    const r = this.reason();
    return r ? [r.charAt(0).toUpperCase() + r.slice(1)] : [];
  }

  failed(err: Error, writes: number): void {
    this.failedWrites += writes;
    if (this.episode) {
      this.episode.failedWrites += writes;
      this.episode.reason = err.message;
      return;
    }
    const code = (err as NodeJS.ErrnoException).code;
    this.episode = { reason: err.message, ...(code ? { code } : {}), since: new Date().toISOString(), failedWrites: writes };
    this.log?.error({ err: err.message, code }, code === 'ENOSPC'
      ? 'store cannot write: the disk is full; writes fail until space is freed (logged once until it recovers)'
      : 'store cannot write; writes fail until the cause is fixed (logged once until it recovers)');
    this.emit('change');
  }

  succeeded(): void {
    if (!this.episode) return;
    this.log?.info({ since: this.episode.since, failedWrites: this.episode.failedWrites }, 'store writes succeed again');
    this.episode = undefined;
    this.emit('change');
  }
}

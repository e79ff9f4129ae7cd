// Whether the store can write right now. A full SD card fails every write until space
// returns; that is one episode: one error line when it starts, one info line when it
// ends, a counter of failed writes for Prometheus, and a reason for /readyz and the
// status page while it lasts.
type Log = { info: (o: object, m: string) => void; error: (o: object, m: string) => void };

export interface WriteFailure { reason: string; code?: string; since: string; failedWrites: number }

export class WriteHealth {
  /** Writes that failed since start (a write is one create, update or delete). */
  failedWrites = 0;
  private episode?: WriteFailure;

  constructor(private readonly log?: Log) {}

  /** Undefined while writes succeed. */
  get failure(): WriteFailure | undefined { return this.episode; }

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
  }

  succeeded(): void {
    if (!this.episode) return;
    this.log?.info({ since: this.episode.since, failedWrites: this.episode.failedWrites }, 'store writes succeed again');
    this.episode = undefined;
  }
}

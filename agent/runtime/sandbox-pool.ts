// Spare pod sandboxes made ahead of time. Most of a podman pod's start is its infra
// container's start and the network set-up that goes with it; a pod that takes a spare
// starts its first container at once. One make at a time, in the background, and never
// while nobody asked for spares: the pool is empty until keep() names the pod network.
import type { Logger } from 'pino';

export interface SpareSandbox { id: string; name: string; ip?: string; /** Its infra container, whose exit ends it. */ infraId?: string }

export interface SandboxPoolOptions {
  /** How many spares to keep ready. */
  size: number;
  /** Makes and starts one spare on this network. */
  make(network: string): Promise<SpareSandbox>;
  /** Removes a spare nobody will take. */
  discard(id: string): Promise<void>;
  /** Wait after a failed make before the next try (default 30 s). */
  retryMs?: number;
  log?: Logger;
}

export class SandboxPool {
  private network: string | undefined;
  private readonly ready: SpareSandbox[] = [];
  private making?: Promise<void>;
  private retry?: NodeJS.Timeout;
  private stopped = false;
  /**
   * The last spares handed out: one whose claim is still being written looks free to a
   * listing made meanwhile, and must not come back into the pool.
   */
  private readonly handedOut: string[] = [];

  constructor(private readonly opts: SandboxPoolOptions) {}

  /** True while a spare is being made (a listing may see it half made). */
  get busy(): boolean { return this.making !== undefined; }

  /** The spares ready now (for tests and logs). */
  get spares(): readonly SpareSandbox[] { return this.ready; }

  /**
   * Keeps `size` spares on `network` from now on. `found` are spares of an earlier run,
   * still running and empty: they count before any new one is made; the surplus is removed.
   */
  async keep(network: string, found: SpareSandbox[] = []): Promise<void> {
    if (this.stopped) return;
    const stale = network === this.network ? [] : this.ready.splice(0);
    this.network = network;
    for (const s of found) {
      if (this.ready.some((r) => r.id === s.id) || this.handedOut.includes(s.id)) continue;
      if (this.ready.length < this.opts.size) this.ready.push(s);
      else stale.push(s);
    }
    for (const s of stale) await this.discard(s);
    this.fill();
  }

  /**
   * A spare on `network`, taken out of the pool; undefined when the pool keeps none there.
   * A spare being made is waited for: it is further along than a new sandbox would be.
   */
  async take(network: string): Promise<SpareSandbox | undefined> {
    if (this.stopped || this.opts.size === 0 || network !== this.network) return undefined;
    if (this.ready.length === 0 && this.making) await this.making;
    const spare = network === this.network ? this.ready.shift() : undefined;
    if (spare) {
      this.handedOut.push(spare.id);
      if (this.handedOut.length > 64) this.handedOut.shift();
    }
    this.fill();
    return spare;
  }

  /** A ready spare whose infra container (`containerId`) exited or vanished is no spare: removed, and replaced. */
  lost(containerId: string): void {
    const i = this.ready.findIndex((s) => s.infraId === containerId);
    if (i < 0) return;
    const [dead] = this.ready.splice(i, 1);
    this.opts.log?.info({ spare: dead!.name }, 'a spare pod sandbox died; replacing it');
    void this.discard(dead!).then(() => this.fill());
  }

  /** Stops making spares and removes those ready. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.making;
    for (const s of this.ready.splice(0)) await this.discard(s);
  }

  private fill(): void {
    const network = this.network;
    if (this.making || this.retry || this.stopped || network === undefined || this.ready.length >= this.opts.size) return;
    let failed = false;
    this.making = (async () => {
      try {
        const spare = await this.opts.make(network);
        if (this.stopped || network !== this.network) await this.discard(spare);
        else this.ready.push(spare);
      } catch (err) {
        failed = true;
        this.opts.log?.warn({ err: String((err as Error)?.message ?? err), network }, 'cannot make a spare pod sandbox; trying again later');
      }
    })().finally(() => {
      this.making = undefined;
      if (!failed) { this.fill(); return; }
      this.retry = setTimeout(() => { this.retry = undefined; this.fill(); }, this.opts.retryMs ?? 30_000);
      this.retry.unref();
    });
  }

  private async discard(s: SpareSandbox): Promise<void> {
    await this.opts.discard(s.id).catch((err) => this.opts.log?.warn({ err: String(err), sandbox: s.name }, 'cannot remove a spare pod sandbox'));
  }
}

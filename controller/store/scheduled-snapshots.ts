// Snapshots on a schedule, like `k3s etcd-snapshot`'s schedule and retention: every
// interval the durable state goes to a checksummed file in a directory the owner picks
// (a USB stick, a NAS mount), the newest `retain` are kept. A store that has not changed
// since the last snapshot writes nothing, so an idle Pi does not wear its card.
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurably } from './durable-file.js';

export interface ScheduledSnapshotOptions {
  dir: string;
  intervalMs: number;
  retain: number;
  log?: { info: (o: object, m: string) => void; error: (o: object, m: string) => void };
}

const NAME = /^pikube-snapshot-(\d{8}T\d{6}Z)-r(\d+)\.db$/;

export function snapshotFileName(at: Date, revision: number): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `pikube-snapshot-${stamp}-r${revision}.db`;
}

export class ScheduledSnapshots {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private lastRevision?: number;

  constructor(private readonly store: { readonly revision: number; snapshotFile(): { revision: number; bytes: Buffer } }, private readonly opts: ScheduledSnapshotOptions) {}

  start(): void {
    if (this.opts.intervalMs <= 0) return;
    this.timer = setInterval(() => { if (!this.running) this.running = this.take().finally(() => { this.running = undefined; }); }, this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Writes one snapshot unless nothing changed since the newest one; returns its path. Never throws. */
  async take(now = new Date()): Promise<string | undefined> {
    try {
      const existing = await this.list();
      this.lastRevision ??= existing.at(-1)?.revision;
      if (this.store.revision === this.lastRevision) return undefined;
      const { revision, bytes } = this.store.snapshotFile();
      await mkdir(this.opts.dir, { recursive: true, mode: 0o700 });
      const path = join(this.opts.dir, snapshotFileName(now, revision));
      await writeFileDurably(path, bytes);
      this.lastRevision = revision;
      // Only once the new one is durable do old ones go.
      const all = await this.list();
      for (const old of all.slice(0, Math.max(0, all.length - this.opts.retain))) await rm(join(this.opts.dir, old.name), { force: true });
      this.opts.log?.info({ path, revision, bytes: bytes.length }, 'scheduled store snapshot written');
      return path;
    } catch (err) {
      this.opts.log?.error({ err: String(err), dir: this.opts.dir }, 'scheduled store snapshot failed; trying again at the next interval');
      return undefined;
    }
  }

  /** Our snapshot files in the directory, oldest first. */
  private async list(): Promise<{ name: string; revision: number }[]> {
    let names: string[];
    try { names = await readdir(this.opts.dir); } catch { return []; }
    return names.map((name) => ({ name, m: NAME.exec(name) })).filter((x) => x.m)
      .map((x) => ({ name: x.name, stamp: x.m![1]!, revision: Number(x.m![2]) }))
      .sort((a, b) => a.stamp.localeCompare(b.stamp) || a.revision - b.revision)
      .map(({ name, revision }) => ({ name, revision }));
  }
}

// Append-only log of changes since the last snapshot. Appends that arrive together are
// written together and made durable by a single fdatasync (group commit); nothing is
// written while nothing changes. A batch either reaches the disk whole or fails whole:
// every write is checked for its length, and after a failure the file is cut back to its
// last good record before anything else is appended, so a later batch never lands behind
// half a record.
import { open, type FileHandle } from 'node:fs/promises';
import { constants, existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { encodeRecord, scanLog, type LogScan } from './log-format.js';
import { fsyncPath } from './durable-file.js';

export type { LogRecord } from './log-format.js';

export function readLog(path: string): { buf: Buffer; scan: LogScan } {
  const buf = existsSync(path) ? readFileSync(path) : Buffer.alloc(0);
  return { buf, scan: scanLog(buf) };
}

interface Pending {
  r: number;
  /** Which object the record changes: a failed record fails the queued changes of the same object. */
  key: string;
  data: Buffer;
  durable: () => void;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export interface WalHooks {
  /** After each durable batch. */
  onBatchDurable?: () => void;
  /** A batch could not be written (the error says why). */
  onWriteFailed?: (err: Error, records: number) => void;
}

/** Thrown to changes that queued behind a failed change of the same object. */
export class DependentWriteError extends Error {
  constructor(cause: Error) {
    super(`an earlier change of the same object could not be written: ${cause.message}`);
    this.name = 'StoreWriteError';
  }
}

export class WriteAheadLog {
  private fh?: FileHandle;
  private pending: Pending[] = [];
  private flushing?: Promise<void>;
  private scheduled = false;
  /** Set while a snapshot is being taken: batches wait, appends still queue. */
  private locked = false;
  /** A failed write may have left bytes past `size`; they are cut before the next append. */
  private dirtyTail = false;
  /** Bytes of verified records in the file: where the next record goes. */
  size = 0;
  bytesWritten = 0;
  batches = 0;

  constructor(private readonly path: string, private readonly hooks: WalHooks = {}) {}

  async open(validBytes: number): Promise<void> {
    const created = !existsSync(this.path);
    this.fh = await open(this.path, constants.O_RDWR | constants.O_CREAT, 0o600);
    if (created) await fsyncPath(dirname(this.path));
    this.size = validBytes;
    const { size } = await this.fh.stat();
    if (size > validBytes) {
      await this.fh.truncate(validBytes);
      await this.fh.datasync();
    }
  }

  /**
   * Queues `json` (one record, no newline) for the next batch. `durable` runs once the
   * record is on disk, in revision order, before the promise resolves.
   */
  append(revision: number, key: string, json: string, durable: () => void = () => undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ r: revision, key, data: encodeRecord(json), durable, resolve, reject });
      if (!this.scheduled && !this.flushing) {
        this.scheduled = true;
        // Let every write of this turn of the event loop join the batch.
        setImmediate(() => { this.scheduled = false; void this.flushLoop(); });
      }
    });
  }

  private async flushLoop(): Promise<void> {
    if (this.flushing) return;
    this.flushing = (async () => {
      while (this.pending.length > 0 && !this.locked) {
        const batch = this.pending;
        this.pending = [];
        const data = batch.length === 1 ? batch[0]!.data : Buffer.concat(batch.map((p) => p.data));
        try {
          await this.writeAt(data);
        } catch (e) {
          this.fail(batch, e as Error);
          continue;
        }
        this.size += data.length;
        this.bytesWritten += data.length;
        this.batches++;
        for (const p of batch) p.durable();
        for (const p of batch) p.resolve();
        this.hooks.onBatchDurable?.();
      }
    })();
    try { await this.flushing; } finally { this.flushing = undefined; }
    if (this.pending.length > 0 && !this.locked) void this.flushLoop();
  }

  /** Writes `data` at the end of the good records and makes it durable, or throws. */
  private async writeAt(data: Buffer): Promise<void> {
    const fh = this.fh;
    if (!fh) throw new Error('store log is closed');
    if (this.dirtyTail) await this.cutTail();
    let done = 0;
    try {
      while (done < data.length) {
        const { bytesWritten } = await fh.write(data, done, data.length - done, this.size + done);
        if (bytesWritten <= 0) throw new Error(`short write: ${done} of ${data.length} bytes reached the store log`);
        done += bytesWritten;
      }
      await fh.datasync();
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      this.dirtyTail = true;
      await this.cutTail().catch(() => undefined);
      const what = err.code ? `${err.code}: ${err.message.replace(/^[A-Z]+: /, '')}` : err.message;
      const wrapped = new Error(`store write failed (${what}; ${done} of ${data.length} bytes written, cut back)`) as NodeJS.ErrnoException;
      wrapped.name = 'StoreWriteError';
      if (err.code) wrapped.code = err.code;
      throw wrapped;
    }
  }

  private async cutTail(): Promise<void> {
    await this.fh!.truncate(this.size);
    await this.fh!.datasync();
    this.dirtyTail = false;
  }

  /** Fails the batch, and the queued changes of the same objects, which were checked against it. */
  private fail(batch: Pending[], err: Error): void {
    const keys = new Set(batch.map((p) => p.key));
    const dependent = this.pending.filter((p) => keys.has(p.key));
    this.pending = this.pending.filter((p) => !keys.has(p.key));
    this.hooks.onWriteFailed?.(err, batch.length + dependent.length);
    for (const p of batch) p.reject(err);
    const derr = new DependentWriteError(err);
    for (const p of dependent) p.reject(derr);
  }

  /**
   * Runs `snapshot` with no batch in flight, then empties the log. Whatever `snapshot`
   * captures synchronously at its start is the state the emptied log no longer needs;
   * appends queued meanwhile go to the fresh log.
   */
  async compact(snapshot: () => Promise<void>): Promise<void> {
    this.locked = true;
    try {
      while (this.flushing) await this.flushing;
      await snapshot();
      await this.reset();
    } finally {
      this.locked = false;
      if (this.pending.length > 0) void this.flushLoop();
    }
  }

  /** Waits until everything appended so far is durable or failed. */
  async drain(): Promise<void> {
    while (this.flushing || this.pending.length > 0 || this.scheduled || this.locked) {
      if (this.flushing) await this.flushing;
      else await new Promise((r) => setImmediate(r));
    }
  }

  /** Empties the log after a durable snapshot made its records redundant. */
  private async reset(): Promise<void> {
    await this.fh!.truncate(0);
    await this.fh!.datasync();
    this.size = 0;
    this.dirtyTail = false;
  }

  async close(): Promise<void> {
    await this.drain();
    await this.fh?.close();
    this.fh = undefined;
  }
}

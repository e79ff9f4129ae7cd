// Append-only log of changes since the last snapshot. Appends that arrive together are
// written together and made durable by a single fdatasync (group commit); nothing is
// written while nothing changes.
import { open, type FileHandle } from 'node:fs/promises';
import { readFileSync, existsSync, truncateSync } from 'node:fs';

export interface LogRecord {
  /** revision */
  r: number;
  /** key: `<gr>/<namespace>/<name>` */
  k: string;
  /** the object after the change; absent for a deletion */
  o?: unknown;
}

export interface ReplayResult { records: LogRecord[]; validBytes: number; tornBytes: number }

/** Reads every whole record; a torn tail (a crash mid-append) is reported and cut off. */
export function replayLog(path: string): ReplayResult {
  if (!existsSync(path)) return { records: [], validBytes: 0, tornBytes: 0 };
  const buf = readFileSync(path);
  const records: LogRecord[] = [];
  let offset = 0;
  while (offset < buf.length) {
    const nl = buf.indexOf(0x0a, offset);
    if (nl < 0) break;
    try {
      const rec = JSON.parse(buf.subarray(offset, nl).toString('utf8')) as LogRecord;
      if (typeof rec.r !== 'number' || typeof rec.k !== 'string') break;
      records.push(rec);
    } catch {
      break;
    }
    offset = nl + 1;
  }
  const tornBytes = buf.length - offset;
  if (tornBytes > 0) truncateSync(path, offset);
  return { records, validBytes: offset, tornBytes };
}

export class WriteAheadLog {
  private fh?: FileHandle;
  private pending: { r: number; line: string; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private flushing?: Promise<void>;
  private scheduled = false;
  /** Set while a snapshot is being taken: batches wait, appends still queue. */
  private locked = false;
  size = 0;
  /** Highest revision whose record is on disk. */
  durableRevision = 0;
  bytesWritten = 0;
  batches = 0;

  constructor(private readonly path: string, private readonly onBatchDurable: () => void) {}

  async open(existingBytes: number): Promise<void> {
    this.fh = await open(this.path, 'a');
    this.size = existingBytes;
  }

  /** Resolves when the record is on disk. */
  append(rec: LogRecord): Promise<void> {
    return this.appendSerialized(rec.r, JSON.stringify(rec));
  }

  /** Like append, for a record the caller has already serialised (one JSON line, no newline). */
  appendSerialized(revision: number, json: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ r: revision, line: json + '\n', resolve, reject });
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
        const data = Buffer.from(batch.map((p) => p.line).join(''), 'utf8');
        try {
          await this.fh!.write(data);
          await this.fh!.datasync();
        } catch (err) {
          for (const p of batch) p.reject(err);
          continue;
        }
        this.size += data.length;
        this.bytesWritten += data.length;
        this.batches++;
        this.durableRevision = batch[batch.length - 1]!.r;
        for (const p of batch) p.resolve();
        this.onBatchDurable();
      }
    })();
    try { await this.flushing; } finally { this.flushing = undefined; }
    if (this.pending.length > 0 && !this.locked) void this.flushLoop();
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

  /** Waits until everything appended so far is durable. */
  async drain(): Promise<void> {
    while (this.flushing || this.pending.length > 0 || this.scheduled || this.locked) {
      if (this.flushing) await this.flushing;
      else await new Promise((r) => setImmediate(r));
    }
  }

  /** Empties the log after a snapshot made its records redundant. */
  async reset(): Promise<void> {
    await this.fh!.truncate(0);
    await this.fh!.datasync();
    this.size = 0;
  }

  async close(): Promise<void> {
    await this.drain();
    await this.fh?.close();
    this.fh = undefined;
  }
}

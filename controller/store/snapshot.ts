// The store's snapshot: every object at one revision, rewritten only when the log has
// grown past it, and made durable (file and directory fsync) before the log is emptied.
// The same bytes are what `pikube store snapshot save` downloads and restore reads:
//
//   pikube-snapshot 2 revision=<r> bytes=<n> crc32=<hex>\n<json of n bytes>\n
//
// The header line keeps the revision readable even when the body is damaged, so a repair
// can keep the revision counter from going back.
import { readFile, rename, rm } from 'node:fs/promises';
import { statSync, existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { DataFile } from 'lowdb/node';
import { fsyncPath } from './durable-file.js';

export interface SnapshotData {
  format: 1 | 2;
  revision: number;
  /** gr → "namespace/name" → object */
  objects: Record<string, Record<string, unknown>>;
}

export class SnapshotCorrupt extends Error {
  constructor(readonly path: string, readonly reason: string, readonly headerRevision?: number) {
    super(`snapshot ${path} is corrupt: ${reason}`);
    this.name = 'SnapshotCorrupt';
  }
}

const empty = (): SnapshotData => ({ format: 2, revision: 0, objects: {} });
const HEADER = /^pikube-snapshot 2 revision=(\d+) bytes=(\d+) crc32=([0-9a-f]{8})$/;

export function encodeSnapshot(data: SnapshotData): Buffer {
  const body = Buffer.from(JSON.stringify({ ...data, format: 2 }), 'utf8');
  const head = `pikube-snapshot 2 revision=${data.revision} bytes=${body.length} crc32=${(crc32(body) >>> 0).toString(16).padStart(8, '0')}\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body, Buffer.from('\n')]);
}

/** The snapshot in `buf`; throws SnapshotCorrupt when it does not verify. `{…}` is the format before checksums. */
export function decodeSnapshot(buf: Buffer, path: string): SnapshotData {
  if (buf.length === 0) return empty();
  if (buf[0] === 0x7b) {
    try {
      const d = JSON.parse(buf.toString('utf8')) as SnapshotData;
      if (typeof d.revision !== 'number' || typeof d.objects !== 'object') throw new Error('no revision or objects');
      return d;
    } catch (err) {
      throw new SnapshotCorrupt(path, `not a snapshot (${(err as Error).message})`);
    }
  }
  const nl = buf.indexOf(0x0a);
  const m = nl > 0 ? HEADER.exec(buf.toString('latin1', 0, nl)) : null;
  if (!m) throw new SnapshotCorrupt(path, 'no valid header line');
  const revision = Number(m[1]);
  const bytes = Number(m[2]);
  const body = buf.subarray(nl + 1, nl + 1 + bytes);
  if (body.length !== bytes) throw new SnapshotCorrupt(path, `cut short: ${body.length} of ${bytes} bytes`, revision);
  if ((crc32(body) >>> 0).toString(16).padStart(8, '0') !== m[3]) throw new SnapshotCorrupt(path, 'checksum mismatch', revision);
  const d = JSON.parse(body.toString('utf8')) as SnapshotData;
  if (d.revision !== revision) throw new SnapshotCorrupt(path, `header says revision ${revision}, body ${d.revision}`, revision);
  return d;
}

/** The revision a snapshot's header names, readable even when its body is damaged. */
export function headerRevision(buf: Buffer): number | undefined {
  const nl = buf.indexOf(0x0a);
  const m = nl > 0 ? HEADER.exec(buf.toString('latin1', 0, Math.min(nl, 200))) : null;
  return m ? Number(m[1]) : undefined;
}

export class Snapshot {
  /** True when the file on disk predates checksums and should be rewritten. */
  legacy = false;
  /** lowdb writes the checksummed text here first; it is fsynced before it replaces the snapshot. */
  private readonly next: DataFile<SnapshotData>;

  constructor(readonly path: string) {
    this.next = new DataFile<SnapshotData>(`${path}.next`, {
      parse: (text) => decodeSnapshot(Buffer.from(text, 'utf8'), `${path}.next`),
      stringify: (d) => encodeSnapshot(d).toString('utf8'),
    });
  }

  async read(): Promise<SnapshotData> {
    let buf: Buffer;
    try {
      buf = await readFile(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return empty();
      throw err;
    }
    this.legacy = buf[0] === 0x7b;
    return decodeSnapshot(buf, this.path);
  }

  size(): number {
    return existsSync(this.path) ? statSync(this.path).size : 0;
  }

  /** Serialises `data` synchronously (the caller's state at this instant), then writes it durably. */
  async write(data: SnapshotData): Promise<void> {
    const next = `${this.path}.next`;
    try {
      await this.next.write(data);
      await fsyncPath(next);
      await rename(next, this.path);
    } catch (err) {
      // A full disk gets the space of the half-written copy back; the old snapshot stays.
      await rm(next, { force: true }).catch(() => undefined);
      await rm(join(dirname(next), `.${basename(next)}.tmp`), { force: true }).catch(() => undefined); // lowdb's own temp file
      throw err;
    }
    await fsyncPath(dirname(this.path));
    this.legacy = false;
  }
}

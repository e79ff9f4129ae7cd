// The store's snapshot: one JSON file kept by lowdb, rewritten only when the log has
// grown past it, and made durable (file and directory fsync) before the log is emptied.
import { DataFile } from 'lowdb/node';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { statSync, existsSync } from 'node:fs';

export interface SnapshotData {
  format: 1;
  revision: number;
  /** gr → "namespace/name" → object */
  objects: Record<string, Record<string, unknown>>;
}

const empty = (): SnapshotData => ({ format: 1, revision: 0, objects: {} });

export class Snapshot {
  private readonly file: DataFile<SnapshotData>;
  /** lowdb writes here first; it is fsynced before it replaces the snapshot. */
  private readonly next: DataFile<SnapshotData>;

  constructor(private readonly path: string) {
    const format = { parse: JSON.parse, stringify: (d: SnapshotData) => JSON.stringify(d) };
    this.file = new DataFile<SnapshotData>(path, format);
    this.next = new DataFile<SnapshotData>(`${path}.next`, format);
  }

  async read(): Promise<SnapshotData> {
    return (await this.file.read()) ?? empty();
  }

  size(): number {
    return existsSync(this.path) ? statSync(this.path).size : 0;
  }

  /** Serialises `data` synchronously (the caller's state at this instant), then writes it durably. */
  async write(data: SnapshotData): Promise<void> {
    await this.next.write(data);
    await fsyncPath(`${this.path}.next`);
    await rename(`${this.path}.next`, this.path);
    await fsyncPath(dirname(this.path));
  }
}

export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try { await fh.sync(); } finally { await fh.close(); }
}

// The node's last desired pod set on disk, so pods keep running (and come back after a
// reboot) while the control plane is away. Written atomically: temp file, fsync,
// rename, fsync of the directory; skipped when nothing changed.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { DesiredPodsPayload } from '../../protocol/mqtt/payloads.js';

export const DESIRED_FILE = 'desired-pods.json';

export class DesiredStore {
  private lastWritten?: string;

  constructor(private readonly dataDir: string) {}

  get file(): string {
    return path.join(this.dataDir, DESIRED_FILE);
  }

  /** The saved set, or undefined when there is none. Throws on a file that is not a desired set. */
  async load(): Promise<DesiredPodsPayload | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const parsed = JSON.parse(text) as DesiredPodsPayload;
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.generation !== 'number' || !Array.isArray(parsed.pods)) {
      throw new Error(`${this.file} does not hold a desired pod set`);
    }
    this.lastWritten = text;
    return parsed;
  }

  async save(p: DesiredPodsPayload): Promise<void> {
    const text = JSON.stringify(p);
    if (text === this.lastWritten) return;
    await fs.mkdir(this.dataDir, { recursive: true });
    const tmp = `${this.file}.tmp`;
    const fh = await fs.open(tmp, 'w', 0o600); // holds secrets and tokens
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, this.file);
    const dir = await fs.open(this.dataDir, 'r');
    try { await dir.sync(); } finally { await dir.close(); }
    this.lastWritten = text;
  }
}

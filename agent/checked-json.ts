// The agent's own files (its desired pod set, its MQTT credentials) as JSON that carries
// its own checksum, written so a power cut leaves the old file or the new one, never a
// mix: temp file, fsync, rename, directory fsync. The checksum is the last member,
//   {...,"crc32":"<8 hex>"}
// over the text before it plus the closing brace, so the file stays plain JSON for
// anyone reading it. A file that fails the check is renamed aside, never trusted.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';

const TRAILER = /,"crc32":"([0-9a-f]{8})"\}$/;

export class DamagedFile extends Error {
  constructor(readonly file: string, readonly reason: string, readonly setAsideAs?: string) {
    super(`${file} is damaged (${reason})${setAsideAs ? `; set aside as ${setAsideAs}` : ''}`);
    this.name = 'DamagedFile';
  }
}

const hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');

/** `value` (a non-empty object) as JSON with its checksum as last member. */
export function sealJson(value: object): string {
  return sealJsonText(JSON.stringify(value));
}

/** The same, for an object already serialized (`text` is JSON.stringify's output). */
export function sealJsonText(text: string): string {
  if (!text.startsWith('{') || text === '{}') throw new Error('only a non-empty object can be sealed');
  return `${text.slice(0, -1)},"crc32":"${hex(crc32(text))}"}`;
}

/**
 * The value in `text`: verified when it carries a checksum; files written before
 * checksums (no crc32 member) are accepted as they are. Throws a reason otherwise.
 */
export function unsealJson(text: string): { value: Record<string, unknown>; sealed: boolean } {
  const trimmed = text.trimEnd();
  const m = TRAILER.exec(trimmed);
  if (m) {
    const body = `${trimmed.slice(0, m.index)}}`;
    if (hex(crc32(body)) !== m[1]) throw new Error('checksum mismatch');
    return { value: JSON.parse(body) as Record<string, unknown>, sealed: true };
  }
  let value: unknown;
  try { value = JSON.parse(trimmed); } catch { throw new Error('not JSON (cut short?)'); }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
  if ('crc32' in value) throw new Error('checksum member out of place');
  return { value: value as Record<string, unknown>, sealed: false };
}

/** Renames a damaged file aside (kept for a look, never read again); returns the new name. */
export async function setAside(file: string): Promise<string | undefined> {
  const aside = `${file}.bad-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  try {
    await fs.rename(file, aside);
    return aside;
  } catch {
    return undefined;
  }
}

/** Reads and verifies `file`: undefined when absent; a damaged file is set aside and reported as DamagedFile. */
export async function readCheckedJson(file: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return unsealJson(text).value;
  } catch (err) {
    throw new DamagedFile(file, (err as Error).message, await setAside(file));
  }
}

export async function writeFileAtomically(file: string, text: string, mode = 0o600): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const fh = await fs.open(tmp, 'w', mode);
    try {
      await fh.writeFile(text);
      await fh.chmod(mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  const d = await fs.open(dir, 'r');
  try { await d.sync(); } finally { await d.close(); }
}

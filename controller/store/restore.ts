// `pikube store snapshot restore`: a verified snapshot becomes the store of a new data
// directory. The controller started on it serves exactly the snapshot's objects and
// hands out revisions above the snapshot's.
import { readFile, mkdir } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSnapshot, encodeSnapshot } from './snapshot.js';
import { LOG_FILE, SNAPSHOT_FILE } from './inspect.js';
import { writeFileDurably } from './durable-file.js';

export async function restoreSnapshot(file: string, dataDir: string): Promise<{ revision: number; objects: number; storeDir: string }> {
  const data = decodeSnapshot(await readFile(file), file);
  const storeDir = join(dataDir, 'store');
  for (const f of [SNAPSHOT_FILE, LOG_FILE]) {
    const p = join(storeDir, f);
    if (existsSync(p) && statSync(p).size > 0) {
      throw new Error(`${p} already exists: restore into a new data directory (the store there is left as it is)`);
    }
  }
  await mkdir(storeDir, { recursive: true, mode: 0o700 });
  await writeFileDurably(join(storeDir, SNAPSHOT_FILE), encodeSnapshot({ ...data, format: 2 }));
  const objects = Object.values(data.objects).reduce((n, m) => n + Object.keys(m).length, 0);
  return { revision: data.revision, objects, storeDir };
}

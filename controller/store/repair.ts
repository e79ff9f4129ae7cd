// `pikube store repair`: keeps a copy of the damaged files, then rebuilds the store from
// everything that verifies: the snapshot (when it does) plus every log record that
// passes its checksum, wherever it sits in the file. The result is one fresh snapshot
// and an empty log. Its revision is the highest the damaged files show was handed out,
// so resourceVersions never repeat after a repair.
import { copyFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { inspectStore, highestRevision, type StoreInspection } from './inspect.js';
import { lastRevisionBefore } from './log-format.js';
import { encodeSnapshot, type SnapshotData } from './snapshot.js';
import { fsyncPath, writeFileDurably } from './durable-file.js';

export interface RepairResult { changed: boolean; backupDir?: string; lines: string[]; revision: number; objects: number }

export async function repairStore(dir: string, now = new Date()): Promise<RepairResult> {
  const found = inspectStore(dir);
  if (!found.snapshotError && found.scan.corrupt.length === 0 && !found.scan.torn) {
    return { changed: false, lines: ['store is healthy: nothing to repair'], revision: highestRevision(found), objects: countObjects(found.snapshot!) };
  }
  const lines: string[] = [];
  const backupDir = join(dir, `damaged-${now.toISOString().replace(/[:.]/g, '-')}`);
  await mkdir(backupDir, { recursive: true });
  for (const p of [found.snapshotPath, found.logPath]) {
    if (!existsSync(p)) continue;
    const copy = join(backupDir, p.slice(p.lastIndexOf('/') + 1));
    await copyFile(p, copy);
    await fsyncPath(copy);
  }
  await fsyncPath(backupDir);
  lines.push(`kept a copy of the damaged files in ${backupDir}`);

  const { data, kept } = rebuild(found, lines);
  const revision = highestRevision(found);
  data.revision = revision;
  // Snapshot first: should the log's truncation not happen, its records are all at or
  // below the snapshot's revision and replay skips them.
  await writeFileDurably(found.snapshotPath, encodeSnapshot(data));
  await writeFileDurably(found.logPath, Buffer.alloc(0));
  const objects = countObjects(data);
  lines.push(`kept ${kept} log records that verify; the store now holds ${objects} objects at revision ${revision}`);
  return { changed: true, backupDir, lines, revision, objects };
}

function rebuild(found: StoreInspection, lines: string[]): { data: SnapshotData; kept: number } {
  const base = found.snapshot;
  const data: SnapshotData = base ? { format: 2, revision: base.revision, objects: structuredClone(base.objects) } : { format: 2, revision: 0, objects: {} };
  if (found.snapshotError) {
    lines.push(`dropped the snapshot ${found.snapshotPath} (${found.snapshotError.reason}): the objects only it held are lost; restore a backup with \`pikube store snapshot restore\` if you have one`);
  }
  const floor = base?.revision ?? -1;
  let kept = 0;
  for (const { rec } of found.scan.records) {
    if (rec.r <= floor) continue;
    const slash = rec.k.indexOf('/');
    const gr = rec.k.slice(0, slash);
    const key = rec.k.slice(slash + 1);
    const byKey = (data.objects[gr] ??= {});
    if (rec.o) byKey[key] = rec.o;
    else delete byKey[key];
    kept++;
  }
  for (const c of found.scan.corrupt) {
    const before = lastRevisionBefore(found.scan, c.start, base?.revision ?? 0);
    const after = found.scan.records.find((s) => s.offset >= c.end)?.rec.r;
    lines.push(`dropped ${c.end - c.start} bytes at log offset ${c.start} (${c.reason}): the changes between revision ${before} and ${after ?? 'the end'}`);
  }
  if (found.scan.torn) {
    lines.push(`dropped a torn tail of ${found.scan.torn.end - found.scan.torn.start} bytes at log offset ${found.scan.torn.start} (${found.scan.torn.reason})`);
  }
  return { data, kept };
}

function countObjects(d: SnapshotData): number {
  return Object.values(d.objects).reduce((n, m) => n + Object.keys(m).length, 0);
}

// Reads a store directory without changing it and says what verifies: used when the store
// opens, by `pikube store check` and by `pikube store repair`.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { scanLog, lastRevisionBefore, type LogScan } from './log-format.js';
import { decodeSnapshot, headerRevision, SnapshotCorrupt, type SnapshotData } from './snapshot.js';

export const LOG_FILE = 'store.log';
export const SNAPSHOT_FILE = 'store.json';

export interface StoreInspection {
  dir: string;
  logPath: string;
  snapshotPath: string;
  snapshot?: SnapshotData;
  snapshotError?: SnapshotCorrupt;
  snapshotBytes: number;
  /** Written before snapshots carried a checksum. */
  snapshotLegacy: boolean;
  logBytes: number;
  scan: LogScan;
}

export function inspectStore(dir: string): StoreInspection {
  const logPath = join(dir, LOG_FILE);
  const snapshotPath = join(dir, SNAPSHOT_FILE);
  const snapBuf = existsSync(snapshotPath) ? readFileSync(snapshotPath) : Buffer.alloc(0);
  const logBuf = existsSync(logPath) ? readFileSync(logPath) : Buffer.alloc(0);
  const out: StoreInspection = { dir, logPath, snapshotPath, snapshotBytes: snapBuf.length, snapshotLegacy: snapBuf[0] === 0x7b, logBytes: logBuf.length, scan: scanLog(logBuf) };
  try {
    out.snapshot = decodeSnapshot(snapBuf, snapshotPath);
  } catch (err) {
    if (!(err instanceof SnapshotCorrupt)) throw err;
    out.snapshotError = new SnapshotCorrupt(snapshotPath, err.reason, headerRevision(snapBuf));
  }
  return out;
}

/** The highest revision the files prove was handed out, damaged parts included where readable. */
export function highestRevision(i: StoreInspection): number {
  let rev = i.snapshot?.revision ?? i.snapshotError?.headerRevision ?? 0;
  for (const s of i.scan.records) rev = Math.max(rev, s.rec.r);
  return rev;
}

/** The command that repairs the store in `dir` (the controller keeps it in <data-dir>/store). */
export function repairCommand(dir: string): string {
  return basename(dir) === 'store' ? `pikube store repair --data-dir ${dirname(dir)}` : `pikube store repair --store-dir ${dir}`;
}

/** One readable line when the store must not be opened as it is, else undefined. */
export function refusal(i: StoreInspection): string | undefined {
  const fix = `run \`${repairCommand(i.dir)}\` (it keeps a copy of the damaged files and every record that verifies)`;
  if (i.snapshotError) {
    return `${i.snapshotError.message}; refusing to start: ${fix}, or restore a backup with \`pikube store snapshot restore\``;
  }
  const bad = i.scan.corrupt[0];
  if (!bad) return undefined;
  const lastGood = lastRevisionBefore(i.scan, bad.start, i.snapshot?.revision ?? 0);
  const after = i.scan.records.filter((s) => s.offset >= bad.end).length;
  return `store log ${i.logPath} is corrupt at byte offset ${bad.start} (${bad.reason}, ${bad.end - bad.start} bytes); ` +
    `last good revision before it is ${lastGood}, ${after} verifying records follow; refusing to start: ${fix}`;
}

/** What `pikube store check` prints. */
export function report(i: StoreInspection): { lines: string[]; healthy: boolean } {
  const lines: string[] = [];
  if (i.snapshotError) lines.push(`snapshot ${i.snapshotPath}: CORRUPT (${i.snapshotError.reason}${i.snapshotError.headerRevision !== undefined ? `, header revision ${i.snapshotError.headerRevision}` : ''})`);
  else lines.push(`snapshot ${i.snapshotPath}: ok, revision ${i.snapshot!.revision}, ${Object.values(i.snapshot!.objects).reduce((n, m) => n + Object.keys(m).length, 0)} objects, ${i.snapshotBytes} bytes`);
  const recs = i.scan.records;
  lines.push(`log ${i.logPath}: ${i.logBytes} bytes, ${recs.length} records that verify${recs.length ? ` (revisions ${recs[0]!.rec.r}..${recs[recs.length - 1]!.rec.r})` : ''}${i.scan.legacy ? `, ${i.scan.legacy} without checksums (older format)` : ''}`);
  for (const c of i.scan.corrupt) {
    const lastGood = lastRevisionBefore(i.scan, c.start, i.snapshot?.revision ?? 0);
    lines.push(`log: CORRUPT at byte offset ${c.start}, ${c.end - c.start} bytes (${c.reason}); last good revision before it ${lastGood}`);
  }
  if (i.scan.torn) lines.push(`log: torn tail at byte offset ${i.scan.torn.start}, ${i.scan.torn.end - i.scan.torn.start} bytes (${i.scan.torn.reason}); cut on the next start`);
  const healthy = !i.snapshotError && i.scan.corrupt.length === 0 && !i.scan.torn;
  lines.push(healthy ? 'store is healthy' : i.snapshotError || i.scan.corrupt.length ? `store is damaged: ${repairCommand(i.dir)}` : 'store has a torn tail only: the controller cuts it on start');
  return { lines, healthy };
}

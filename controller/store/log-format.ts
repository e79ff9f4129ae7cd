// The byte format of the store log, and the scan that reads it back. One record a line:
//
//   <length:8 hex> <crc32:8 hex> <json>\n
//
// length and checksum cover the JSON text, so `cut -c19-` of the file is still readable
// JSON lines. Like etcd's WAL (server/storage/wal/decoder.go), a record that fails its
// checksum at the very end is a torn write and is cut; a bad record with good records
// after it is corruption, which only an explicit repair may drop.
import { crc32 } from 'node:zlib';

export interface LogRecord {
  /** revision */
  r: number;
  /** key: `<gr>/<namespace>/<name>` */
  k: string;
  /** the object after the change; absent for a deletion */
  o?: unknown;
}

export interface ScannedRecord { rec: LogRecord; offset: number; end: number; legacy: boolean }
export interface BadRange { start: number; end: number; reason: string }

export interface LogScan {
  records: ScannedRecord[];
  /** Damaged stretches with verifying records after them. */
  corrupt: BadRange[];
  /** A damaged stretch running to the end of the file (a write cut short). */
  torn?: BadRange;
  /** Records written before checksums (still accepted, rewritten on start). */
  legacy: number;
}

const HEADER = 18; // "llllllll cccccccc "

/** One record, ready to append. */
export function encodeRecord(json: string): Buffer {
  const body = Buffer.from(json, 'utf8');
  const out = Buffer.allocUnsafe(HEADER + body.length + 1);
  out.write(`${hex8(body.length)} ${hex8(crc32(body))} `, 0, 'latin1');
  body.copy(out, HEADER);
  out[out.length - 1] = 0x0a;
  return out;
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

type Parsed = { ok: true; rec: LogRecord; end: number; legacy: boolean } | { ok: false; reason: string };

const isHex = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66);

function parseAt(buf: Buffer, offset: number): Parsed {
  if (buf[offset] === 0x7b) return parseLegacy(buf, offset);
  if (buf.length - offset < HEADER + 1) return { ok: false, reason: 'record header cut short' };
  for (let i = 0; i < 17; i++) {
    if (i === 8) { if (buf[offset + 8] !== 0x20) return { ok: false, reason: 'malformed record header' }; continue; }
    if (!isHex(buf[offset + i]!)) return { ok: false, reason: 'malformed record header' };
  }
  if (buf[offset + 17] !== 0x20) return { ok: false, reason: 'malformed record header' };
  const len = parseInt(buf.toString('latin1', offset, offset + 8), 16);
  const crc = parseInt(buf.toString('latin1', offset + 9, offset + 17), 16);
  const start = offset + HEADER;
  const end = start + len + 1;
  if (end > buf.length) return { ok: false, reason: 'record cut short' };
  if (buf[end - 1] !== 0x0a) return { ok: false, reason: 'record length does not match' };
  const body = buf.subarray(start, end - 1);
  if ((crc32(body) >>> 0) !== crc) return { ok: false, reason: 'record checksum mismatch' };
  try {
    const rec = JSON.parse(body.toString('utf8')) as LogRecord;
    if (typeof rec.r !== 'number' || typeof rec.k !== 'string') return { ok: false, reason: 'record without revision or key' };
    return { ok: true, rec, end, legacy: false };
  } catch {
    return { ok: false, reason: 'record is not JSON' };
  }
}

/** A line from before records were checksummed: plain JSON. */
function parseLegacy(buf: Buffer, offset: number): Parsed {
  const nl = buf.indexOf(0x0a, offset);
  if (nl < 0) return { ok: false, reason: 'record cut short' };
  try {
    const rec = JSON.parse(buf.toString('utf8', offset, nl)) as LogRecord;
    if (typeof rec.r !== 'number' || typeof rec.k !== 'string') return { ok: false, reason: 'record without revision or key' };
    return { ok: true, rec, end: nl + 1, legacy: true };
  } catch {
    return { ok: false, reason: 'record is not JSON' };
  }
}

/**
 * The next offset after `from` where a record verifies, or -1. Every byte is a candidate
 * (the damage may have hit the newline before a good record); a checksummed header is
 * checked in a few comparisons, so this stays linear.
 */
function resync(buf: Buffer, from: number): number {
  for (let p = from + 1; p < buf.length; p++) {
    const c = buf[p]!;
    if (isHex(c)) {
      const r = parseAt(buf, p);
      if (r.ok) return p;
    } else if (c === 0x7b && buf[p - 1] === 0x0a) {
      // A legacy line has no checksum: only trust one that is followed by more good records.
      const r = parseAt(buf, p);
      if (r.ok && (r.end === buf.length || parseAt(buf, r.end).ok)) return p;
    }
  }
  return -1;
}

export function scanLog(buf: Buffer): LogScan {
  const out: LogScan = { records: [], corrupt: [], legacy: 0 };
  let offset = 0;
  while (offset < buf.length) {
    const r = parseAt(buf, offset);
    if (r.ok) {
      out.records.push({ rec: r.rec, offset, end: r.end, legacy: r.legacy });
      if (r.legacy) out.legacy++;
      offset = r.end;
      continue;
    }
    const next = resync(buf, offset);
    if (next < 0) { out.torn = { start: offset, end: buf.length, reason: r.reason }; break; }
    out.corrupt.push({ start: offset, end: next, reason: r.reason });
    offset = next;
  }
  return out;
}

/** The highest revision among the records before `offset`. */
export function lastRevisionBefore(scan: LogScan, offset: number, floor: number): number {
  let rev = floor;
  for (const s of scan.records) if (s.end <= offset) rev = Math.max(rev, s.rec.r);
  return rev;
}

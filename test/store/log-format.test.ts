// The log's byte format: checksummed records, a torn tail told apart from a damaged
// middle, and lines from before checksums still read.
import test from 'ava';
import { encodeRecord, scanLog, lastRevisionBefore } from '../../controller/store/log-format.js';

const rec = (r: number, name = `cm-${r}`) => encodeRecord(JSON.stringify({ r, k: `configmaps/default/${name}`, o: { metadata: { name }, data: { r: String(r) } } }));
const log = (...parts: Buffer[]) => Buffer.concat(parts);

test('a clean log reads back every record, and stays readable JSON after the header', (t) => {
  const buf = log(rec(1), rec(2), rec(3));
  const s = scanLog(buf);
  t.deepEqual(s.records.map((x) => x.rec.r), [1, 2, 3]);
  t.is(s.corrupt.length, 0);
  t.is(s.torn, undefined);
  const line = buf.toString().split('\n')[0]!;
  t.regex(line, /^[0-9a-f]{8} [0-9a-f]{8} \{"r":1,/);
  t.is(JSON.parse(line.slice(18)).r, 1);
});

test('a record cut short at the end is a torn tail, not corruption', (t) => {
  const whole = log(rec(1), rec(2));
  for (const cut of [1, 5, 18, 30]) {
    const s = scanLog(log(whole, rec(3).subarray(0, cut)));
    t.deepEqual(s.records.map((x) => x.rec.r), [1, 2]);
    t.is(s.corrupt.length, 0);
    t.deepEqual(s.torn && { start: s.torn.start, end: s.torn.end }, { start: whole.length, end: whole.length + cut });
  }
});

test('a bad last record is torn; a bad record followed by good ones is corruption', (t) => {
  const a = rec(1); const b = rec(2); const c = rec(3);
  const lastBad = Buffer.from(log(a, b, c)); lastBad[a.length + b.length + 25] ^= 0x01;
  const s1 = scanLog(lastBad);
  t.is(s1.corrupt.length, 0);
  t.is(s1.torn?.start, a.length + b.length);
  t.is(s1.torn?.reason, 'record checksum mismatch');

  for (const at of [0, 3, 8, 12, 17, 25, b.length - 1]) {
    const midBad = Buffer.from(log(a, b, c)); midBad[a.length + at] ^= 0x20;
    const s2 = scanLog(midBad);
    t.is(s2.corrupt.length, 1, `flip at ${at}`);
    t.is(s2.corrupt[0]!.start, a.length);
    t.deepEqual(s2.records.map((x) => x.rec.r), [1, 3], 'the record after the damage still verifies');
    t.is(lastRevisionBefore(s2, s2.corrupt[0]!.start, 0), 1);
  }
});

test('lines written before checksums are still read, and a damaged one among them is found', (t) => {
  const legacy = (r: number) => Buffer.from(`${JSON.stringify({ r, k: `configmaps/default/old-${r}`, o: { metadata: { name: `old-${r}` } } })}\n`);
  const s = scanLog(log(legacy(1), legacy(2), rec(3)));
  t.deepEqual(s.records.map((x) => x.rec.r), [1, 2, 3]);
  t.is(s.legacy, 2);
  const broken = Buffer.from(log(legacy(1), legacy(2), legacy(3), rec(4)));
  broken[legacy(1).length + 2] = 0x00;
  const s2 = scanLog(broken);
  t.is(s2.corrupt.length, 1);
  t.deepEqual(s2.records.map((x) => x.rec.r), [1, 3, 4]);
});

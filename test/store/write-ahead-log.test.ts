// The store's write-ahead log on its own, on real files: group commit, durable callbacks
// in revision order, a torn tail cut on open, compaction, and a real full tmpfs for the
// failure path (the batch fails whole, its object's queued changes with it, the file is
// cut back to its last good record and later batches land behind it).
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DependentWriteError, WriteAheadLog, readLog } from '../../controller/store/write-ahead-log.js';
import { encodeRecord } from '../../controller/store/log-format.js';
import { mountTmpfs } from '../helpers/tmpfs.js';

function tempDir(t: import('ava').ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'pikube-wal-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const rec = (r: number, k: string, o?: unknown) => JSON.stringify({ r, k, ...(o === undefined ? {} : { o }) });

test('appends of one turn are written as one batch, durable callbacks run in revision order before the promises resolve', async (t) => {
  const path = join(tempDir(t), 'log');
  let durableBatches = 0;
  const wal = new WriteAheadLog(path, { onBatchDurable: () => durableBatches++ });
  await wal.open(0);
  const order: string[] = [];
  const appends = [1, 2, 3, 4, 5].map((r) => wal.append(r, `cm/default/o${r}`, rec(r, `cm/default/o${r}`, { n: r }), () => order.push(`durable ${r}`))
    .then(() => order.push(`resolved ${r}`)));
  await Promise.all(appends);
  t.is(wal.batches, 1, 'five appends in one turn: one write and one fdatasync');
  t.is(durableBatches, 1);
  t.deepEqual(order.slice(0, 5), ['durable 1', 'durable 2', 'durable 3', 'durable 4', 'durable 5']);
  await wal.append(6, 'cm/default/o6', rec(6, 'cm/default/o6'));
  t.is(wal.batches, 2, 'nothing is written while nothing changes; the next change is the next batch');
  await wal.close();
  const { scan } = readLog(path);
  t.deepEqual(scan.records.map((s) => s.rec.r), [1, 2, 3, 4, 5, 6]);
  t.deepEqual(scan.records[0]!.rec.o, { n: 1 });
  t.is(scan.torn, undefined);
  t.is(wal.size, statSync(path).size);
  t.is(wal.bytesWritten, statSync(path).size);
});

test('open cuts what lies past the last good record (a write torn by a crash)', async (t) => {
  const path = join(tempDir(t), 'log');
  writeFileSync(path, Buffer.concat([encodeRecord(rec(1, 'a')), encodeRecord(rec(2, 'b'))]));
  const good = statSync(path).size;
  appendFileSync(path, encodeRecord(rec(3, 'c')).subarray(0, 10)); // half a record
  const before = readLog(path);
  t.deepEqual(before.scan.torn?.start, good);
  const wal = new WriteAheadLog(path);
  await wal.open(good);
  t.is(statSync(path).size, good);
  await wal.append(3, 'c', rec(3, 'c'));
  await wal.close();
  const after = readLog(path).scan;
  t.deepEqual(after.records.map((s) => s.rec.r), [1, 2, 3], 'the new record follows the good ones, not the torn bytes');
  t.is(after.torn, undefined);
});

test('compact runs the snapshot with no batch in flight, empties the log, and appends queued meanwhile go to the fresh log', async (t) => {
  const path = join(tempDir(t), 'log');
  const wal = new WriteAheadLog(path);
  await wal.open(0);
  await Promise.all([1, 2, 3].map((r) => wal.append(r, 'k', rec(r, 'k'))));
  let late: Promise<void> | undefined;
  let sizeDuringSnapshot = -1;
  await wal.compact(async () => {
    sizeDuringSnapshot = statSync(path).size;
    late = wal.append(4, 'k', rec(4, 'k'));
    await new Promise((r) => setTimeout(r, 20));
    t.is(readLog(path).scan.records.length, 3, 'a batch waits while the snapshot is taken');
  });
  t.true(sizeDuringSnapshot > 0);
  await late;
  await wal.drain();
  t.deepEqual(readLog(path).scan.records.map((s) => s.rec.r), [4]);
  t.is(wal.size, statSync(path).size);
  await wal.close();
});

test('full disk: the batch fails whole with the reason, queued changes of its objects fail with it, the file is cut back, later writes land behind the good records', async (t) => {
  const fs = await mountTmpfs(512 * 1024);
  t.teardown(() => fs.unmount());
  const path = join(fs.dir, 'log');
  const failures: { err: Error; records: number }[] = [];
  const wal = new WriteAheadLog(path, { onWriteFailed: (err, records) => failures.push({ err, records }) });
  await wal.open(0);
  await wal.append(1, 'cm/default/keep', rec(1, 'cm/default/keep', { data: 'x' }));
  const good = statSync(path).size;

  fs.fill(8 * 1024);
  const big = 'y'.repeat(64 * 1024);
  // one batch too big for what is left, then (queued while it is written) another change of
  // the same object and a change of an unrelated one
  const first = wal.append(2, 'cm/default/big', rec(2, 'cm/default/big', { data: big }));
  await new Promise((r) => setImmediate(r));
  const sameObject = wal.append(3, 'cm/default/big', rec(3, 'cm/default/big', { data: 'small' }));
  const other = wal.append(4, 'cm/default/other', rec(4, 'cm/default/other', { data: 'small' }));
  const [a, b, c] = await Promise.allSettled([first, sameObject, other]);
  t.is(a.status, 'rejected');
  t.regex((a as PromiseRejectedResult).reason.message, /store write failed \(ENOSPC/);
  t.is((a as PromiseRejectedResult).reason.code, 'ENOSPC');
  t.is(b.status, 'rejected', 'a change checked against the failed one fails too');
  t.true((b as PromiseRejectedResult).reason instanceof DependentWriteError);
  t.is(c.status, 'fulfilled', 'an unrelated small change still fits');
  t.is(failures[0]!.records, 2);

  const scan = readLog(path).scan;
  t.deepEqual(scan.records.map((s) => s.rec.r), [1, 4], 'no trace of the failed batch');
  t.is(scan.torn, undefined, 'no half record left behind');
  t.true(statSync(path).size > good);

  fs.unfill();
  await wal.append(5, 'cm/default/big', rec(5, 'cm/default/big', { data: big }));
  await wal.close();
  t.deepEqual(readLog(path).scan.records.map((s) => s.rec.r), [1, 4, 5]);
  t.is(readFileSync(path).length, wal.size);
});

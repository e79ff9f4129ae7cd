// The embedded store on a real full tmpfs and with real damaged bytes: a failed write
// changes nothing and loses nothing acknowledged; a corrupt log middle refuses to open
// with file, offset and last good revision; repair keeps every verifying record and a
// copy; a torn tail is cut, logged and kept aside; files from before checksums load.
import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStore } from '../../controller/store/local-store.js';
import { repairStore } from '../../controller/store/repair.js';
import { inspectStore, report } from '../../controller/store/inspect.js';
import type { KubeObject } from '../../protocol/kube/types.js';
import { mountTmpfs } from '../helpers/tmpfs.js';
import { removeDir } from '../helpers/processes.js';

const cm = (name: string, bytes = 10): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { pad: 'x'.repeat(bytes) } });

function recorder() {
  const lines: { level: string; o: object; m: string }[] = [];
  const log = {
    info: (o: object, m: string) => lines.push({ level: 'info', o, m }),
    warn: (o: object, m: string) => lines.push({ level: 'warn', o, m }),
    error: (o: object, m: string) => lines.push({ level: 'error', o, m }),
  };
  return { log, lines };
}

function tempDir(t: { teardown: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'pikube-store-test-'));
  t.teardown(() => removeDir(dir));
  return dir;
}

test('full disk: failed writes change nothing, say why, and nothing acknowledged is lost after space returns', async (t) => {
  const fs = await mountTmpfs(1024 * 1024);
  t.teardown(() => fs.unmount());
  const dir = join(fs.dir, 'store');
  const { log, lines } = recorder();
  const store = new LocalStore({ dir, log });
  await store.open();
  await store.create('configmaps', 'default', 'before', cm('before'));
  const seen: number[] = [];
  store.watch('configmaps', store.revision, (e) => seen.push(e.revision));
  fs.fill(48 * 1024);
  const acked = new Map<string, number>();
  const failed: string[] = [];
  const errors: Error[] = [];
  // Concurrent writes of 6 kB: some batches fit, then ENOSPC.
  await Promise.all(Array.from({ length: 40 }, async (_, i) => {
    try {
      const o = await store.create('configmaps', 'default', `fill-${i}`, cm(`fill-${i}`, 6000));
      acked.set(`fill-${i}`, Number(o.metadata.resourceVersion));
    } catch (err) {
      failed.push(`fill-${i}`);
      errors.push(err as Error);
    }
  }));
  t.true(failed.length > 0, 'the disk filled up');
  t.regex(errors[0]!.message, /ENOSPC/);
  for (const n of failed) t.is(store.get('configmaps', 'default', n), undefined, `${n} failed and is not visible`);
  for (const [n, rv] of acked) t.is(store.get('configmaps', 'default', n)?.metadata.resourceVersion, String(rv));
  t.truthy(store.health.failure, 'the store knows it cannot write');
  t.regex(store.health.reason()!, /disk is full/);
  t.is(lines.filter((l) => l.level === 'error').length, 1, 'one error line for the whole episode');
  t.true(store.stats().failedWrites! >= failed.length);
  // An update fails as well, leaving the old state.
  const beforeRv = store.get('configmaps', 'default', 'before')!.metadata.resourceVersion;
  await t.throwsAsync(store.update('configmaps', 'default', 'before', cm('before', 200_000)), { message: /ENOSPC/ });
  t.is(store.get('configmaps', 'default', 'before')?.metadata.resourceVersion, beforeRv);
  t.is(lines.filter((l) => l.level === 'error').length, 1);

  fs.unfill();
  const after = await store.create('configmaps', 'default', 'after', cm('after'));
  t.is(store.health.failure, undefined, 'writes succeed again without a restart');
  t.true(Number(after.metadata.resourceVersion) > Math.max(...acked.values()));
  t.true(lines.some((l) => l.m === 'store writes succeed again'));
  // Watchers saw only durable changes, in increasing order.
  t.deepEqual(seen, [...seen].sort((a, b) => a - b));
  t.deepEqual(new Set(seen), new Set([...acked.values(), Number(after.metadata.resourceVersion)]));
  await store.close();

  const reopened = new LocalStore({ dir });
  await reopened.open();
  for (const [n, rv] of acked) t.is(reopened.get('configmaps', 'default', n)?.metadata.resourceVersion, String(rv), `${n} survived`);
  for (const n of failed) t.is(reopened.get('configmaps', 'default', n), undefined);
  t.truthy(reopened.get('configmaps', 'default', 'after'));
  t.is(reopened.revision, Number(after.metadata.resourceVersion));
  t.deepEqual(inspectStore(dir).scan.corrupt, []);
  await reopened.close();
});

test('a change queued behind a failed change of the same object fails too; others are untouched', async (t) => {
  const fs = await mountTmpfs(512 * 1024);
  t.teardown(() => fs.unmount());
  const store = new LocalStore({ dir: join(fs.dir, 'store') });
  await store.open();
  fs.fill(2048);
  const big = store.create('configmaps', 'default', 'big', cm('big', 64 * 1024));
  // Queued in the same turn: checked against `big` while it is pending.
  const dependent = store.update('configmaps', 'default', 'big', cm('big', 5));
  await t.throwsAsync(big, { message: /ENOSPC/ });
  await t.throwsAsync(dependent);
  t.is(store.get('configmaps', 'default', 'big'), undefined);
  fs.unfill();
  const again = await store.create('configmaps', 'default', 'big', cm('big', 5));
  t.truthy(again);
  await store.close();
});

async function storeWithRecords(dir: string, n: number): Promise<number> {
  const s = new LocalStore({ dir });
  await s.open();
  for (let i = 1; i <= n; i++) await s.create('configmaps', 'default', `wal-${i}`, cm(`wal-${i}`, 200));
  const rev = s.revision;
  await s.close();
  return rev;
}

test('one flipped byte in the log middle: refuses to open with file, offset and last good revision; repair keeps the rest and a copy', async (t) => {
  const dir = tempDir(t);
  const lastRev = await storeWithRecords(dir, 30);
  const logPath = join(dir, 'store.log');
  const original = readFileSync(logPath);
  const damaged = Buffer.from(original);
  const off = Math.floor(original.length / 3);
  damaged[off] ^= 0x55;
  writeFileSync(logPath, damaged);
  const err = await t.throwsAsync(new LocalStore({ dir }).open());
  t.is(err!.name, 'StoreCorrupt');
  t.regex(err!.message, new RegExp(`${logPath.replace(/[/.]/g, '\\$&')} is corrupt at byte offset \\d+`));
  t.regex(err!.message, /last good revision before it is \d+/);
  t.regex(err!.message, /pikube store repair/);
  t.false(err!.message.includes('\n'), 'one line');
  t.deepEqual(readFileSync(logPath), damaged, 'opening changed nothing');
  const badOffset = Number(/offset (\d+)/.exec(err!.message)![1]);
  t.true(badOffset <= off);
  const lastGood = Number(/revision before it is (\d+)/.exec(err!.message)![1]);

  const checked = report(inspectStore(dir));
  t.false(checked.healthy);
  t.deepEqual(readFileSync(logPath), damaged, 'check changed nothing');

  const r = await repairStore(dir);
  t.true(r.changed);
  t.deepEqual(readFileSync(join(r.backupDir!, 'store.log')), damaged, 'a copy of the damaged log is kept');
  t.true(r.lines.some((l) => /dropped \d+ bytes at log offset \d+/.test(l)));
  t.is(r.revision, lastRev, 'the revision does not go back');
  const s = new LocalStore({ dir });
  await s.open();
  const present = Array.from({ length: 30 }, (_, i) => !!s.get('configmaps', 'default', `wal-${i + 1}`));
  t.is(present.filter((p) => !p).length, 1, 'exactly the damaged record is dropped');
  for (let i = 1; i <= lastGood; i++) t.true(present[i - 1]!);
  const next = await s.create('configmaps', 'default', 'post-repair', cm('post-repair'));
  t.true(Number(next.metadata.resourceVersion) > lastRev);
  await s.close();
});

test('a torn tail is cut, logged with its size, and kept aside', async (t) => {
  const dir = tempDir(t);
  await storeWithRecords(dir, 5);
  const logPath = join(dir, 'store.log');
  const good = readFileSync(logPath);
  writeFileSync(logPath, Buffer.concat([good, Buffer.from('000000ff 12345678 {"r":6,"k":"configmaps/default/half')]));
  const { log, lines } = recorder();
  const s = new LocalStore({ dir, log });
  await s.open();
  t.is(s.revision, 5);
  const warn = lines.find((l) => l.level === 'warn')!;
  t.regex(warn.m, /cut a torn record \(\d+ bytes at offset \d+\)/);
  t.is((warn.o as { bytes: number }).bytes, 53);
  t.deepEqual(readFileSync(logPath), good);
  const torn = readdirSync(dir).find((f) => f.startsWith('store.log.torn-'))!;
  t.is(readFileSync(join(dir, torn), 'utf8'), '000000ff 12345678 {"r":6,"k":"configmaps/default/half', 'exactly the cut bytes are kept');
  await s.create('configmaps', 'default', 'next', cm('next'));
  await s.close();
  t.deepEqual(inspectStore(dir).scan.corrupt, []);
});

test('a data directory from before checksums loads and is converted', async (t) => {
  const dir = tempDir(t);
  const objs = { configmaps: { 'default/a': { ...cm('a'), metadata: { ...cm('a').metadata, resourceVersion: '7' } } } };
  writeFileSync(join(dir, 'store.json'), JSON.stringify({ format: 1, revision: 7, objects: objs }));
  const line = (r: number, name: string) => JSON.stringify({ r, k: `configmaps/default/${name}`, o: { ...cm(name), metadata: { ...cm(name).metadata, resourceVersion: String(r) } } });
  writeFileSync(join(dir, 'store.log'), `${line(8, 'b')}\n${JSON.stringify({ r: 9, k: 'configmaps/default/a' })}\n${line(10, 'c')}\n`);
  const s = new LocalStore({ dir });
  await s.open();
  t.is(s.revision, 10);
  t.deepEqual(s.list('configmaps').map((o) => o.metadata.name).sort(), ['b', 'c']);
  t.regex(readFileSync(join(dir, 'store.json'), 'latin1').split('\n')[0]!, /^pikube-snapshot 2 revision=10 /);
  t.is(readFileSync(join(dir, 'store.log')).length, 0);
  await s.close();
  const again = new LocalStore({ dir });
  await again.open();
  t.is(again.revision, 10);
  await again.close();
});

test('a damaged snapshot refuses to open; repair keeps the log and the revision', async (t) => {
  const dir = tempDir(t);
  const s = new LocalStore({ dir, minLogBytes: 2000, logToSnapshotRatio: 0 });
  await s.open();
  for (let i = 1; i <= 20; i++) await s.create('configmaps', 'default', `s-${i}`, cm(`s-${i}`, 300));
  await s.close();
  t.true(s.stats().snapshots > 0);
  const snap = join(dir, 'store.json');
  const b = readFileSync(snap);
  b[b.length - 10] ^= 0x01;
  writeFileSync(snap, b);
  await t.throwsAsync(new LocalStore({ dir }).open(), { message: /snapshot .* is corrupt: checksum mismatch.*pikube store repair/ });
  const r = await repairStore(dir);
  t.is(r.revision, 20);
  t.true(existsSync(join(r.backupDir!, 'store.json')));
  const again = new LocalStore({ dir });
  await again.open();
  t.is(again.revision, 20);
  t.true(Number((await again.create('configmaps', 'default', 'z', cm('z'))).metadata.resourceVersion) > 20);
  await again.close();
});

test('a snapshot that cannot be written keeps the old one and the whole log, and backs off', async (t) => {
  const fs = await mountTmpfs(1024 * 1024);
  t.teardown(() => fs.unmount());
  const dir = join(fs.dir, 'store');
  const { log, lines } = recorder();
  const s = new LocalStore({ dir, log, minLogBytes: 16 * 1024, logToSnapshotRatio: 0 });
  await s.open();
  for (let i = 0; i < 8; i++) await s.create('configmaps', 'default', `c-${i}`, cm(`c-${i}`, 10_000));
  await new Promise((r) => setTimeout(r, 200));
  const snapshots = s.stats().snapshots;
  t.true(snapshots >= 1);
  const oldSnap = readFileSync(join(dir, 'store.json'));
  // Room for log records, not for a whole new snapshot.
  fs.fill(60 * 1024);
  for (let i = 8; i < 18; i++) await s.create('configmaps', 'default', `c-${i}`, cm(`c-${i}`, 4_000));
  await new Promise((r) => setTimeout(r, 300));
  t.is(s.stats().snapshots, snapshots, 'no snapshot fitted');
  t.deepEqual(readFileSync(join(dir, 'store.json')), oldSnap, 'the old snapshot is untouched');
  t.is(lines.filter((l) => l.m.startsWith('snapshot failed')).length, 1, 'tried once, then backs off');
  t.false(readdirSync(dir).some((f) => f.includes('.tmp')), 'the half-written snapshot is removed');
  await s.close();
  fs.unfill();
  const again = new LocalStore({ dir });
  await again.open();
  t.is(again.list('configmaps').length, 18);
  await again.close();
});

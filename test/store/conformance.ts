// The store conformance suite: every StoreBackend runs these same tests (CRUD, conflicts,
// watch ordering and resumption, 410 Gone, restart recovery, concurrent writers), so the
// embedded store and etcd cannot drift apart. A backend provides a harness; see
// local-store.test.ts and etcd-store.test.ts.
import type { ExecutionContext } from 'ava';
import type { KubeObject } from '../../protocol/kube/types.js';
import { StoreError, type StoreBackend, type StoreEvent } from '../../controller/store/backend.js';

export interface StoreHarness {
  /** A new, empty, opened store. */
  open(): Promise<StoreBackend>;
  /** Closes `store` and opens the same data again, as a restart does. */
  reopen(store: StoreBackend): Promise<StoreBackend>;
  /** Makes every revision up to the store's current one unavailable to new watches. */
  expire(store: StoreBackend): Promise<void>;
  /** A second store on the same data, when the backend can share it (etcd). */
  peer?(store: StoreBackend): Promise<StoreBackend>;
  /** Releases everything the harness made. */
  cleanup(): Promise<void>;
}

const cm = (ns: string, name: string, data: Record<string, string> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, uid: `${ns}-${name}` }, data } as KubeObject);

const dataOf = (o: KubeObject | undefined) => (o?.data ?? {}) as Record<string, string>;
const rv = (o: KubeObject) => Number(o.metadata.resourceVersion);

function expectCode(err: unknown, code: string): boolean {
  return err instanceof StoreError && err.code === code;
}

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Registers one test; `test` or `test.serial` from ava. */
type Register = (title: string, impl: (t: ExecutionContext) => Promise<void>) => void;

export function storeConformance(test: Register, name: string, harness: () => StoreHarness): void {
  const run = (title: string, body: (s: StoreBackend, h: StoreHarness, t: ExecutionContext) => Promise<StoreBackend | void>) =>
    test(`${name}: ${title}`, async (t) => {
      const h = harness();
      let s = await h.open();
      try {
        s = (await body(s, h, t)) ?? s;
      } finally {
        await s.close().catch(() => undefined);
        await h.cleanup();
      }
    });

  run('create, get, list, update, delete', async (s, _h, t) => {
    const a = await s.create('configmaps', 'ns1', 'a', cm('ns1', 'a', { k: '1' }));
    t.true(rv(a) > 0);
    t.deepEqual(s.get('configmaps', 'ns1', 'a')?.data, { k: '1' });
    t.is(s.get('configmaps', 'ns1', 'a')?.metadata.resourceVersion, a.metadata.resourceVersion);
    await s.create('configmaps', 'ns2', 'b', cm('ns2', 'b'));
    await s.create('namespaces', '', 'ns1', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns1' } } as KubeObject);
    t.is(s.list('configmaps').length, 2);
    t.deepEqual(s.list('configmaps', 'ns1').map((o) => o.metadata.name), ['a']);
    t.is(s.get('namespaces', '', 'ns1')?.metadata.name, 'ns1');
    const err = await s.create('configmaps', 'ns1', 'a', cm('ns1', 'a')).catch((e: unknown) => e);
    t.true(expectCode(err, 'AlreadyExists'));
    const a2 = await s.update('configmaps', 'ns1', 'a', cm('ns1', 'a', { k: '2' }), rv(a));
    t.true(rv(a2) > rv(a));
    t.deepEqual(s.get('configmaps', 'ns1', 'a')?.data, { k: '2' });
    const gone = await s.delete('configmaps', 'ns1', 'a');
    t.true(rv(gone) > rv(a2), 'a deletion carries its own revision');
    t.deepEqual(gone.data, { k: '2' });
    t.is(s.get('configmaps', 'ns1', 'a'), undefined);
    t.true(expectCode(await s.update('configmaps', 'ns1', 'a', cm('ns1', 'a')).catch((e: unknown) => e), 'NotFound'));
    t.true(expectCode(await s.delete('configmaps', 'ns1', 'a').catch((e: unknown) => e), 'NotFound'));
    t.true(s.revision >= rv(gone));
    t.true(Object.isFrozen(s.get('configmaps', 'ns2', 'b')), 'stored objects are frozen');
  });

  run('a stale resourceVersion is a Conflict; the current one wins', async (s, _h, t) => {
    const a = await s.create('configmaps', 'ns', 'a', cm('ns', 'a'));
    const a2 = await s.update('configmaps', 'ns', 'a', cm('ns', 'a', { v: '2' }), rv(a));
    t.true(expectCode(await s.update('configmaps', 'ns', 'a', cm('ns', 'a', { v: 'stale' }), rv(a)).catch((e: unknown) => e), 'Conflict'));
    t.true(expectCode(await s.delete('configmaps', 'ns', 'a', rv(a)).catch((e: unknown) => e), 'Conflict'));
    t.deepEqual(s.get('configmaps', 'ns', 'a')?.data, { v: '2' });
    await s.delete('configmaps', 'ns', 'a', rv(a2));
    t.is(s.get('configmaps', 'ns', 'a'), undefined);
  });

  run('watch delivers every change once, in revision order, with the previous state', async (s, _h, t) => {
    const from = s.revision;
    const seen: StoreEvent[] = [];
    const stop = s.watch('configmaps', from, (e) => seen.push(e));
    let last: KubeObject | undefined;
    for (let i = 0; i < 20; i++) last = await s.create('configmaps', 'ns', `o${i}`, cm('ns', `o${i}`));
    await s.create('secrets', 'ns', 'x', cm('ns', 'x'));
    for (let i = 0; i < 20; i += 2) await s.update('configmaps', 'ns', `o${i}`, cm('ns', `o${i}`, { u: '1' }));
    await s.delete('configmaps', 'ns', 'o1');
    await until('40 events', () => seen.length >= 31);
    stop();
    t.is(seen.length, 31);
    t.true(seen.every((e, i) => i === 0 || e.revision > seen[i - 1]!.revision), 'strictly rising revisions');
    t.true(seen.every((e) => e.gr === 'configmaps'));
    t.is(seen.filter((e) => e.type === 'ADDED').length, 20);
    t.is(seen.filter((e) => e.type === 'MODIFIED').length, 10);
    const mod = seen.find((e) => e.type === 'MODIFIED')!;
    t.deepEqual(mod.previous?.data, {});
    t.is(String(mod.revision), mod.object.metadata.resourceVersion ?? '');
    const del = seen[seen.length - 1]!;
    t.is(del.type, 'DELETED');
    t.is(del.object.metadata.resourceVersion, String(del.revision));
    t.true(rv(last!) < del.revision);
  });

  run('a watch resumes from any retained revision without gaps or repeats', async (s, _h, t) => {
    const revs: number[] = [];
    for (let i = 0; i < 10; i++) revs.push(rv(await s.create('configmaps', 'ns', `o${i}`, cm('ns', `o${i}`))));
    const seen: number[] = [];
    const stop = s.watch('configmaps', revs[4]!, (e) => seen.push(e.revision));
    await s.create('configmaps', 'ns', 'late', cm('ns', 'late'));
    await until('6 events', () => seen.length >= 6);
    stop();
    t.deepEqual(seen.slice(0, 5), revs.slice(5));
    t.is(seen.length, 6);
  });

  run('a watch from a compacted revision is Expired (410 Gone)', async (s, h, t) => {
    const old = s.revision;
    for (let i = 0; i < 5; i++) await s.create('configmaps', 'ns', `o${i}`, cm('ns', `o${i}`));
    await h.expire(s);
    const err = (() => { try { s.watch('configmaps', old, () => undefined)(); return undefined; } catch (e) { return e; } })();
    t.true(expectCode(err, 'Expired'), String(err));
    // From the current revision it still works.
    const seen: StoreEvent[] = [];
    const stop = s.watch('configmaps', s.revision, (e) => seen.push(e));
    await s.create('configmaps', 'ns', 'after', cm('ns', 'after'));
    await until('the new event', () => seen.length === 1);
    stop();
    t.pass();
  });

  run('a restart keeps every object, its resourceVersion and the revision order', async (s, h, t) => {
    const before: KubeObject[] = [];
    for (let i = 0; i < 30; i++) before.push(await s.create('configmaps', 'ns', `o${i}`, cm('ns', `o${i}`, { i: String(i) })));
    await s.delete('configmaps', 'ns', 'o0');
    const mid = s.revision;
    await s.update('configmaps', 'ns', 'o1', cm('ns', 'o1', { i: 'changed' }));
    const revBefore = s.revision;
    const r = await h.reopen(s);
    t.true(r.revision >= revBefore);
    t.is(r.list('configmaps').length, 29);
    for (const o of before.slice(2)) t.is(r.get('configmaps', 'ns', o.metadata.name!)?.metadata.resourceVersion, o.metadata.resourceVersion);
    t.deepEqual(r.get('configmaps', 'ns', 'o1')?.data, { i: 'changed' });
    const next = await r.create('configmaps', 'ns', 'new', cm('ns', 'new'));
    t.true(rv(next) > revBefore, 'revisions keep rising after a restart');
    // Resuming a watch from before the restart still yields what came after.
    const seen: StoreEvent[] = [];
    const stop = r.watch('configmaps', mid, (e) => seen.push(e));
    await until('2 events', () => seen.length >= 2);
    stop();
    t.deepEqual(seen.map((e) => [e.type, e.name]), [['MODIFIED', 'o1'], ['ADDED', 'new']]);
    return r;
  });

  run('concurrent writers: one wins each compare, and no retried increment is lost', async (s, h, t) => {
    const base = await s.create('configmaps', 'ns', 'c', cm('ns', 'c', { n: '0' }));
    const racers = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => s.update('configmaps', 'ns', 'c', cm('ns', 'c', { n: String(i) }), rv(base))));
    t.is(racers.filter((r) => r.status === 'fulfilled').length, 1);
    t.true(racers.filter((r) => r.status === 'rejected').every((r) => expectCode((r as PromiseRejectedResult).reason, 'Conflict')));
    const other = h.peer ? await h.peer(s) : s;
    const writers = [s, other];
    await s.update('configmaps', 'ns', 'c', cm('ns', 'c', { n: '0' }));
    await until('peer sees the reset', () => dataOf(other.get('configmaps', 'ns', 'c')).n === '0');
    const increments = 8;
    await Promise.all(Array.from({ length: 6 }, async (_, w) => {
      const store = writers[w % writers.length]!;
      for (let i = 0; i < increments; i++) {
        for (;;) {
          const cur = store.get('configmaps', 'ns', 'c')!;
          try {
            await store.update('configmaps', 'ns', 'c', cm('ns', 'c', { n: String(Number((cur.data as Record<string, string>).n) + 1) }), rv(cur));
            break;
          } catch (err) {
            if (!expectCode(err, 'Conflict')) throw err;
            await new Promise((r) => setTimeout(r, Math.random() * 5));
          }
        }
      }
    }));
    await until('both see the total', () => writers.every((w) => dataOf(w.get('configmaps', 'ns', 'c')).n === String(6 * increments)));
    t.is(dataOf(s.get('configmaps', 'ns', 'c')).n, String(6 * increments));
    if (other !== s) await other.close();
  });
}

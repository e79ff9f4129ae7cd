// The pool's bookkeeping, with a recording maker: how many spares, when they are made,
// who waits for one, and what is removed. The real pods are in podman-spares.test.ts.
import test from 'ava';
import { SandboxPool, type SpareSandbox } from '../../agent/runtime/sandbox-pool.js';

function recorder(opts: { failFirst?: number } = {}) {
  const made: string[] = [];
  const discarded: string[] = [];
  let fail = opts.failFirst ?? 0;
  let n = 0;
  const pending: (() => void)[] = [];
  return {
    made, discarded, pending,
    make: (network: string): Promise<SpareSandbox> => new Promise((resolve, reject) => {
      pending.push(() => {
        if (fail > 0) { fail--; reject(new Error('no room')); return; }
        const id = `${network}-${n++}`;
        made.push(id);
        resolve({ id, name: `spare-${id}` });
      });
    }),
    discard: async (id: string) => { discarded.push(id); },
    /** Lets the oldest make finish. */
    async finish(): Promise<void> {
      for (let i = 0; i < 20 && pending.length === 0; i++) await new Promise((r) => setImmediate(r));
      pending.shift()?.();
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    },
  };
}

test('nothing is made before keep(); then one at a time up to the size', async (t) => {
  const r = recorder();
  const pool = new SandboxPool({ size: 2, make: r.make, discard: r.discard });
  t.is(await pool.take('net'), undefined, 'no network named yet');
  t.is(r.pending.length, 0);
  await pool.keep('net');
  t.is(r.pending.length, 1, 'one make at a time');
  await r.finish();
  t.is(r.pending.length, 1);
  await r.finish();
  t.deepEqual(pool.spares.map((s) => s.id), ['net-0', 'net-1']);
  t.is(r.pending.length, 0, 'full');
});

test('take hands out a ready spare and makes its replacement; a spare being made is waited for', async (t) => {
  const r = recorder();
  const pool = new SandboxPool({ size: 1, make: r.make, discard: r.discard });
  await pool.keep('net');
  await r.finish();
  t.is((await pool.take('net'))?.id, 'net-0');
  t.is(r.pending.length, 1, 'its replacement is under way');
  const waiting = pool.take('net');
  await r.finish();
  t.is((await waiting)?.id, 'net-1');
  t.is(await pool.take('other'), undefined, 'spares are for one network');
});

test('spares found from an earlier run count; the surplus and those of an old network are removed', async (t) => {
  const r = recorder();
  const pool = new SandboxPool({ size: 1, make: r.make, discard: r.discard });
  await pool.keep('a', [{ id: 'old-1', name: 'o1' }, { id: 'old-2', name: 'o2' }]);
  t.deepEqual(pool.spares.map((s) => s.id), ['old-1']);
  t.deepEqual(r.discarded, ['old-2']);
  t.is(r.pending.length, 0, 'nothing to make');
  await pool.keep('b');
  t.deepEqual(r.discarded, ['old-2', 'old-1'], 'the network changed');
  await r.finish();
  t.deepEqual(pool.spares.map((s) => s.id), ['b-0']);
});

test('a failed make waits before the next try; stop removes what is ready', async (t) => {
  const r = recorder({ failFirst: 1 });
  const pool = new SandboxPool({ size: 1, make: r.make, discard: r.discard, retryMs: 50 });
  await pool.keep('net');
  await r.finish();
  t.is(r.pending.length, 0, 'no immediate retry');
  t.is(await pool.take('net'), undefined);
  await new Promise((res) => setTimeout(res, 80));
  await r.finish();
  t.deepEqual(pool.spares.map((s) => s.id), ['net-0']);
  await pool.stop();
  t.deepEqual(r.discarded, ['net-0']);
  t.is(await pool.take('net'), undefined);
});

test('a ready spare whose infra container died is removed and replaced; others are not touched', async (t) => {
  const r = recorder();
  const pool = new SandboxPool({ size: 1, make: r.make, discard: r.discard });
  await pool.keep('net', [{ id: 'pod-a', name: 'a', infraId: 'infra-a' }]);
  pool.lost('some-other-container');
  t.deepEqual(r.discarded, []);
  pool.lost('infra-a');
  t.deepEqual(pool.spares, []);
  await r.finish();
  t.deepEqual(r.discarded, ['pod-a']);
  t.deepEqual(pool.spares.map((s) => s.id), ['net-0']);
});

test('a spare handed out is never taken back by a listing made before its claim was written', async (t) => {
  const r = recorder();
  const pool = new SandboxPool({ size: 1, make: r.make, discard: r.discard });
  await pool.keep('net');
  await r.finish();
  const given = await pool.take('net');
  t.is(given?.id, 'net-0');
  // a listing that still saw net-0 free, while its replacement is being made
  await pool.keep('net', [{ id: 'net-0', name: 'spare-net-0' }]);
  t.deepEqual(pool.spares, [], 'net-0 stays with its pod');
  t.deepEqual(r.discarded, [], 'and is not removed either');
  t.true(pool.busy);
  await r.finish();
  t.deepEqual(pool.spares.map((s) => s.id), ['net-1']);
  t.false(pool.busy);
});

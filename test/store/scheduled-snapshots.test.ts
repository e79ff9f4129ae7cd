// Scheduled snapshots: written only when the store changed, verified by restore, and
// only the newest `retain` kept, old ones removed only after the new one is durable.
import test from 'ava';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStore } from '../../controller/store/local-store.js';
import { ScheduledSnapshots } from '../../controller/store/scheduled-snapshots.js';
import { restoreSnapshot } from '../../controller/store/restore.js';
import { removeDir } from '../helpers/processes.js';

test('a snapshot per interval when something changed, the newest N kept, each one restorable', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pikube-sched-'));
  t.teardown(() => removeDir(dir));
  const store = new LocalStore({ dir: join(dir, 'store') });
  await store.open();
  const snaps = new ScheduledSnapshots(store, { dir: join(dir, 'usb'), intervalMs: 0, retain: 3 });
  const written: string[] = [];
  for (let i = 0; i < 5; i++) {
    await store.create('configmaps', 'default', `c-${i}`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c-${i}`, namespace: 'default' } });
    written.push((await snaps.take(new Date(Date.UTC(2026, 0, 1, i))))!);
  }
  t.is(await snaps.take(new Date(Date.UTC(2026, 0, 2))), undefined, 'nothing changed: nothing written');
  const left = readdirSync(join(dir, 'usb')).sort();
  t.deepEqual(left, written.slice(2).map((p) => p.slice(p.lastIndexOf('/') + 1)));
  t.regex(left[2]!, /^pikube-snapshot-20260101T040000Z-r5\.db$/);
  const r = await restoreSnapshot(join(dir, 'usb', left[0]!), join(dir, 'restored'));
  t.deepEqual(r.revision, 3);
  const restored = new LocalStore({ dir: r.storeDir });
  await restored.open();
  t.deepEqual(restored.list('configmaps').map((o) => o.metadata.name).sort(), ['c-0', 'c-1', 'c-2']);
  await restored.close();
  await store.close();
  // A new process finds the newest snapshot and does not repeat it.
  const reopened = new LocalStore({ dir: join(dir, 'store') });
  await reopened.open();
  t.is(await new ScheduledSnapshots(reopened, { dir: join(dir, 'usb'), intervalMs: 0, retain: 3 }).take(), undefined);
  await reopened.close();
});

// The store conformance suite on etcd: one real etcd member (Debian's etcd-server) for the
// file, a key prefix of its own for every test; compaction is etcd's.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { EtcdStore } from '../../controller/store/etcd/etcd-store.js';
import { compactTo } from '../../controller/store/etcd/compactor.js';
import type { StoreBackend } from '../../controller/store/backend.js';
import { startEtcdCluster, etcdAvailable, type EtcdCluster } from '../helpers/etcd.js';
import { storeConformance, type StoreHarness } from './conformance.js';

let etcd: EtcdCluster | undefined;
const ready = etcdAvailable() || process.env.CI === 'true' ? startEtcdCluster(1).then((c) => (etcd = c)) : undefined;
test.after.always(async () => { await etcd?.stop(); });

if (!ready) {
  test('etcd conformance needs /usr/bin/etcd (apt-get install etcd-server)', (t) => t.pass());
} else {
  // Serial: etcd compaction is global, so the expiry test would cut history from under a
  // store another test is opening at the same moment.
  storeConformance(test.serial, 'etcd', (): StoreHarness => {
    const prefix = `/t-${randomBytes(4).toString('hex')}/`;
    const opened: EtcdStore[] = [];
    const make = async () => {
      const c = await ready;
      const s = new EtcdStore({ endpoints: c.endpoints, prefix });
      opened.push(s);
      await s.open();
      return s;
    };
    return {
      open: make,
      async reopen(s: StoreBackend) { await s.close(); return make(); },
      async expire(s: StoreBackend) { await compactTo(s as EtcdStore, s.revision); },
      peer: make,
      async cleanup() { for (const s of opened) await s.close(); },
    };
  });

  // A write waits for its own watch event; one committed just before close would
  // otherwise hold its caller (a leader's last renewal, say) for good.
  test.serial('closing the store releases writes still waiting for their watch event', async (t) => {
    const c = await ready;
    const s = new EtcdStore({ endpoints: c.endpoints, prefix: `/t-${randomBytes(4).toString('hex')}/` });
    await s.open();
    const waiting = s.caughtUp(s.revision + 1000);
    let released = false;
    void waiting.then(() => { released = true; });
    await new Promise((r) => setTimeout(r, 50));
    t.false(released);
    await s.close();
    await waiting;
    t.true(released);
  });
}

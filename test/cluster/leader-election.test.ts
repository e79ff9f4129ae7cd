// Leader election on a Lease, with two controllers' API cores on one real etcd: exactly one
// leads; a leader whose datastore goes away stops at once (within the renew deadline) and
// the other takes over once the lease has run out.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { EtcdStore } from '../../controller/store/etcd/etcd-store.js';
import { ApiCore } from '../../controller/apiserver/api-core.js';
import { Admission } from '../../controller/apiserver/admission/admission.js';
import { LocalClient } from '../../controller/apiserver/local-client.js';
import { bootstrapCluster } from '../../controller/apiserver/bootstrap.js';
import { LeaderElector } from '../../controller/cluster/leader-election.js';
import { startEtcdCluster, etcdAvailable, type EtcdCluster } from '../helpers/etcd.js';
import { waitFor } from '../helpers/processes.js';

let etcd: EtcdCluster | undefined;
test.after.always(async () => { await etcd?.stop(); });

test('one leader at a time; a leader cut off stops within the renew deadline and another takes over', async (t) => {
  t.timeout(120_000);
  if (!etcdAvailable() && process.env.CI !== 'true') return t.pass('etcd-server is not installed');
  etcd = await startEtcdCluster(1);
  const prefix = `/le-${randomBytes(3).toString('hex')}/`;
  const log = pino({ level: 'silent' });
  const events: string[] = [];
  const make = async (id: string) => {
    const store = new EtcdStore({ endpoints: etcd!.endpoints, prefix });
    await store.open();
    const core = new ApiCore(store, new Admission(store, { defaultTolerationSeconds: 60, serviceCIDR: '10.43.0.0/16' }));
    await bootstrapCluster(core).catch(() => undefined);
    const elector = new LeaderElector({
      client: new LocalClient(core), identity: id, leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200, log,
      onStartedLeading: () => { events.push(`${id}+`); }, onStoppedLeading: () => { events.push(`${id}-`); },
    });
    return { store, elector };
  };
  const a = await make('a');
  const b = await make('b');
  a.elector.start();
  await waitFor('a leads', () => a.elector.isLeader, 10_000, 50);
  b.elector.start();
  await new Promise((r) => setTimeout(r, 2000));
  t.true(a.elector.isLeader && !b.elector.isLeader, 'exactly one leader');
  // Cut the leader off its datastore.
  const cut = Date.now();
  await a.store.close();
  await waitFor('a stops', () => !a.elector.isLeader, 5_000, 20);
  const stoppedMs = Date.now() - cut;
  t.true(stoppedMs <= 1000 + 300, `stopped within the renew deadline (${stoppedMs} ms)`);
  await waitFor('b leads', () => b.elector.isLeader, 10_000, 50);
  const tookOverMs = Date.now() - cut;
  t.log(`cut off -> stopped in ${stoppedMs} ms, other leader in ${tookOverMs} ms`);
  t.true(tookOverMs >= 1000, 'not before the lease could have run out');
  t.deepEqual(events, ['a+', 'a-', 'b+']);
  await a.elector.stop();
  await b.elector.stop();
  await b.store.close();
});

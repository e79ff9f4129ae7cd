// Node MQTT passwords shared through the datastore, with two controllers' API cores and
// data dirs on one real etcd: a password issued by one is accepted by the other's copy;
// a name issued twice is refused on the second publish; deleting the node releases the
// name on both; on start, hashes of live nodes are offered and those of deleted nodes dropped.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { EtcdStore } from '../../controller/store/etcd/etcd-store.js';
import { ApiCore } from '../../controller/apiserver/api-core.js';
import { Admission } from '../../controller/apiserver/admission/admission.js';
import { LocalClient } from '../../controller/apiserver/local-client.js';
import { R } from '../../controller/apiserver/client.js';
import { bootstrapCluster } from '../../controller/apiserver/bootstrap.js';
import { NodePasswords } from '../../controller/broker/node-passwords.js';
import { SharedNodePasswords } from '../../controller/cluster/shared-node-passwords.js';
import { startEtcdCluster, etcdAvailable, type EtcdCluster } from '../helpers/etcd.js';
import { removeDir, waitFor } from '../helpers/processes.js';

let etcd: EtcdCluster | undefined;
const dirs: string[] = [];
test.after.always(async () => { await etcd?.stop(); for (const d of dirs) removeDir(d); });

test('controllers share node passwords through the datastore', async (t) => {
  t.timeout(120_000);
  if (!etcdAvailable() && process.env.CI !== 'true') return t.pass('etcd-server is not installed');
  etcd = await startEtcdCluster(1);
  const prefix = `/np-${randomBytes(3).toString('hex')}/`;
  const log = pino({ level: 'silent' });
  const stores: EtcdStore[] = [];
  const loops: SharedNodePasswords[] = [];
  t.teardown(async () => { for (const l of loops) l.stop(); for (const s of stores) await s.close(); });
  const make = async () => {
    const store = new EtcdStore({ endpoints: etcd!.endpoints, prefix });
    await store.open();
    stores.push(store);
    const core = new ApiCore(store, new Admission(store, { defaultTolerationSeconds: 60, serviceCIDR: '10.43.0.0/16' }));
    await bootstrapCluster(core).catch(() => undefined);
    const dir = mkdtempSync(join(tmpdir(), 'pikube-np-'));
    dirs.push(dir);
    return { client: new LocalClient(core), dir, passwords: new NodePasswords(dir) };
  };
  const a = await make();
  const b = await make();
  // A live node that joined before sharing, and one deleted while the controller was away.
  await a.client.create(R.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'old-node' } });
  const oldPw = a.passwords.issue('old-node')!;
  a.passwords.issue('gone-node');
  const sa = new SharedNodePasswords(a.client, a.dir, log);
  const sb = new SharedNodePasswords(b.client, b.dir, log);
  loops.push(sa, sb);
  await sa.start();
  await sb.start();
  t.false(a.passwords.has('gone-node'), 'a deleted node\'s hash is dropped');
  await waitFor('old-node on b', () => b.passwords.verify('old-node', oldPw) === true, 10_000, 50);

  // Issued and published by a: b's broker accepts it, and only it.
  const pw = a.passwords.issue('pi-02')!;
  await sa.publish('pi-02');
  await waitFor('pi-02 on b', () => b.passwords.has('pi-02'), 10_000, 50);
  t.true(b.passwords.verify('pi-02', pw));
  t.false(b.passwords.verify('pi-02', `${pw}x`));

  // The same name issued by b after a did, before b saw it: b's publish is refused.
  a.passwords.issue('pi-03');
  await sa.publish('pi-03');
  const bDir = new NodePasswords(b.dir);
  bDir.remove('pi-03');
  b.passwords.issue('pi-03');
  await t.throwsAsync(() => sb.publish('pi-03'), { message: /already joined through another controller/ });

  // Deleting the node releases its name everywhere.
  await a.client.create(R.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'pi-02' } });
  // b serves reads from its watch cache: delete once the node reached it.
  await waitFor('pi-02 node seen by b', () => b.client.get(R.nodes, undefined, 'pi-02') !== undefined, 10_000, 50);
  await b.client.delete(R.nodes, undefined, 'pi-02');
  await waitFor('pi-02 released on both', () => !a.passwords.has('pi-02') && !b.passwords.has('pi-02'), 10_000, 50);
  t.is(a.client.get(R.secrets, 'kube-system', 'pi-02.node-password.pikube'), undefined);
});

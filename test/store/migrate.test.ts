// `pikube store migrate --to etcd` on a store of 1,000 objects: every object arrives with
// the same content, in the same resourceVersion order, every new resourceVersion above
// the old store's; the cluster's secrets go along.
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { LocalStore } from '../../controller/store/local-store.js';
import { EtcdStore } from '../../controller/store/etcd/etcd-store.js';
import { encodeObject } from '../../controller/store/etcd/keys.js';
import type { KubeObject } from '../../protocol/kube/types.js';
import { CLI, removeDir } from '../helpers/processes.js';
import { startEtcdCluster, etcdAvailable, type EtcdCluster } from '../helpers/etcd.js';

let etcd: EtcdCluster | undefined;
test.after.always(async () => { await etcd?.stop(); });

test('1,000 objects move to etcd with their content and rising resourceVersions', async (t) => {
  t.timeout(180_000);
  if (!etcdAvailable() && process.env.CI !== 'true') return t.pass('etcd-server is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'pikube-migrate-'));
  const local = new LocalStore({ dir: join(dir, 'store') });
  await local.open();
  for (let i = 0; i < 1000; i++) {
    const gr = i % 3 === 0 ? 'secrets' : i % 3 === 1 ? 'configmaps' : 'deployments.apps';
    await local.create(gr, `ns${i % 7}`, `o${i}`, { apiVersion: 'v1', kind: 'X', metadata: { name: `o${i}`, namespace: `ns${i % 7}`, labels: { i: String(i) } }, data: { v: 'x'.repeat(i % 50) } } as KubeObject);
  }
  // Updates and deletions spread the revisions out, and reorder objects.
  for (let i = 0; i < 1000; i += 5) {
    const gr = i % 3 === 0 ? 'secrets' : i % 3 === 1 ? 'configmaps' : 'deployments.apps';
    await local.update(gr, `ns${i % 7}`, `o${i}`, { apiVersion: 'v1', kind: 'X', metadata: { name: `o${i}`, namespace: `ns${i % 7}` }, data: { v: 'updated' } } as KubeObject);
  }
  await local.create('secrets', 'ns0', 'extra', { apiVersion: 'v1', kind: 'X', metadata: { name: 'extra', namespace: 'ns0' } } as KubeObject);
  await local.delete('secrets', 'ns0', 'extra');
  const before = ['secrets', 'configmaps', 'deployments.apps'].flatMap((gr) => local.list(gr).map((obj) => ({ gr, obj })));
  const oldRevision = local.revision;
  await local.close();
  t.is(before.length, 1000);

  etcd = await startEtcdCluster(1);
  const r = await execa(process.execPath, [CLI, 'store', 'migrate', '--to', 'etcd', '--data-dir', dir, '--datastore-endpoint', etcd.endpoints.join(',')], { reject: false });
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /migrated 1000 objects/);

  const store = new EtcdStore({ endpoints: etcd.endpoints });
  await store.open();
  try {
    const pairs = before.map(({ gr, obj }) => ({ old: obj, now: store.get(gr, obj.metadata.namespace!, obj.metadata.name!) }));
    t.true(pairs.every((p) => p.now && encodeObject(p.now) === encodeObject(p.old)), 'same content');
    t.true(pairs.every((p) => Number(p.now!.metadata.resourceVersion) > oldRevision), 'every new resourceVersion above the old store\'s');
    const byOld = [...pairs].sort((a, b) => Number(a.old.metadata.resourceVersion) - Number(b.old.metadata.resourceVersion));
    t.true(byOld.every((p, i) => i === 0 || Number(p.now!.metadata.resourceVersion) > Number(byOld[i - 1]!.now!.metadata.resourceVersion)), 'resourceVersion order kept');
    t.is(store.list('secrets').length + store.list('configmaps').length + store.list('deployments.apps').length, 1000);
    t.truthy(await store.client.get(store.keys.bootstrap).string(), 'the cluster secrets went along');
  } finally {
    await store.close();
    removeDir(dir);
  }
});

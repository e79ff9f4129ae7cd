// etcd's snapshot through the Maintenance API: the file is one etcdctl accepts, restores
// into a data dir, and a member started on it serves the objects written before.
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { execa } from 'execa';
import { EtcdStore } from '../../controller/store/etcd/etcd-store.js';
import { saveEtcdSnapshot } from '../../controller/store/etcd/snapshot-save.js';
import type { KubeObject } from '../../protocol/kube/types.js';
import { freePort, removeDir, waitFor } from '../helpers/processes.js';
import { ETCD_BIN, startEtcdCluster, etcdAvailable, type EtcdCluster } from '../helpers/etcd.js';

let etcd: EtcdCluster | undefined;
test.after.always(async () => { await etcd?.stop(); });

test('an etcd snapshot restores with every object', async (t) => {
  t.timeout(120_000);
  if (!etcdAvailable() && process.env.CI !== 'true') return t.pass('etcd-server is not installed');
  etcd = await startEtcdCluster(1);
  const dir = mkdtempSync(join(tmpdir(), 'pikube-snap-'));
  const store = new EtcdStore({ endpoints: etcd.endpoints });
  await store.open();
  for (let i = 0; i < 50; i++) await store.create('configmaps', 'default', `c${i}`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}`, namespace: 'default' }, data: { i: String(i) } } as KubeObject);
  const revision = store.revision;
  const snap = await saveEtcdSnapshot(store.client, join(dir, 'etcd.db'));
  await store.close();
  t.true(snap.bytes > 0);
  const status = await execa('etcdctl', ['snapshot', 'status', snap.path, '-w', 'json'], { env: { ETCDCTL_API: '3' } });
  t.true((JSON.parse(status.stdout) as { revision: number }).revision >= revision);
  await execa('etcdctl', ['snapshot', 'restore', snap.path, '--data-dir', join(dir, 'restored'), '--name', 'r', '--initial-cluster', 'r=http://127.0.0.1:1', '--initial-advertise-peer-urls', 'http://127.0.0.1:1'], { env: { ETCDCTL_API: '3' } });
  const port = await freePort();
  const peer = await freePort();
  const child = spawn(ETCD_BIN, ['--name', 'r', '--data-dir', join(dir, 'restored'), '--listen-client-urls', `http://127.0.0.1:${port}`, '--advertise-client-urls', `http://127.0.0.1:${port}`,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', 'http://127.0.0.1:1', '--force-new-cluster'], { stdio: 'ignore' });
  try {
    const restored = new EtcdStore({ endpoints: [`http://127.0.0.1:${port}`] });
    await waitFor('restored member', async () => { await restored.open(); return true; }, 30_000, 500);
    t.is(restored.list('configmaps').length, 50);
    t.deepEqual(restored.get('configmaps', 'default', 'c7')?.data, { i: '7' });
    await restored.close();
  } finally {
    child.kill('SIGKILL');
    removeDir(dir);
  }
});

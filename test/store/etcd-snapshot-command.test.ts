// Backups of an etcd-backed cluster are etcd's own snapshot: `pikube store snapshot save`
// through the API of a controller in managed mode, `pikube store snapshot restore` into a
// new data dir with the cluster's shared files, and a controller started there with
// --cluster-init serves exactly what the snapshot held. A damaged file is refused.
import test from 'ava';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { CLI, freePort, removeDir, startController, type ControllerHandle } from '../helpers/processes.js';
import { etcdAvailable } from '../helpers/etcd.js';
import { ApiClient } from '../helpers/api-client.js';

const CM = '/api/v1/namespaces/default/configmaps';
const pikube = (args: string[]) => execa(process.execPath, [CLI, ...args], { reject: false });
const SHARED = ['pki/ca.crt', 'pki/ca.key', 'pki/service-account.key', 'admin-token', 'mqtt-secret', 'mqtt-controller-password', 'join-token'];

function killEtcdOf(c: ControllerHandle): void {
  const pidFile = join(c.dir, 'etcd', 'etcd.pid');
  if (!existsSync(pidFile)) return;
  try { process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL'); } catch { /* gone */ }
}

const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v: name } });

test('etcd snapshot save and restore: the restored cluster holds what the snapshot held', async (t) => {
  t.timeout(240_000);
  if (!etcdAvailable() && process.env.CI !== 'true') return t.pass('etcd-server is not installed');
  const tmp = mkdtempSync(join(tmpdir(), 'pikube-etcd-snap-'));
  const ports = { client: await freePort(), peer: await freePort() };
  const etcdArgs = (p: { client: number; peer: number }) => ['--etcd-name', 'm0', '--etcd-client-listen', `127.0.0.1:${p.client}`, '--etcd-peer-listen', `127.0.0.1:${p.peer}`];
  const ctrl = await startController({ args: ['--cluster-init', ...etcdArgs(ports)], readyTimeoutMs: 120_000 });
  let restored: ControllerHandle | undefined;
  t.teardown(async () => {
    for (const c of [ctrl, restored]) if (c) { await c.kill(); killEtcdOf(c); removeDir(c.dir); }
    removeDir(tmp);
  });
  const api = new ApiClient(ctrl.kubeconfig);
  for (let i = 0; i < 20; i++) t.is((await api.request('POST', CM, { body: cm(`before-${i}`) })).status, 201);

  const file = join(tmp, 'cluster.db');
  const saved = await pikube(['store', 'snapshot', 'save', file, '--data-dir', ctrl.dir]);
  t.is(saved.exitCode, 0, saved.stderr);
  t.regex(saved.stdout, /saved etcd snapshot \(\d+ bytes\)/);
  t.is((await api.request('POST', CM, { body: cm('after') })).status, 201);

  // A flipped byte is refused with one line, and nothing is written.
  const bad = join(tmp, 'bad.db');
  const bytes = readFileSync(file);
  bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
  writeFileSync(bad, bytes);
  const badDir = join(tmp, 'bad-dir');
  for (const f of SHARED) { mkdirSync(dirname(join(badDir, f)), { recursive: true }); copyFileSync(join(ctrl.dir, f), join(badDir, f)); }
  const refused = await pikube(['store', 'snapshot', 'restore', bad, '--data-dir', badDir]);
  t.not(refused.exitCode, 0);
  t.regex(refused.stderr, /damaged/);
  t.false(existsSync(join(badDir, 'etcd', 'data', 'member')));

  // Without the cluster's shared files the restore says what to copy.
  const bare = await pikube(['store', 'snapshot', 'restore', file, '--data-dir', join(tmp, 'bare')]);
  t.not(bare.exitCode, 0);
  t.regex(bare.stderr, /copy pki\//);

  // The Pi is lost: a new data dir with the cluster's shared files, the snapshot restored into it.
  await ctrl.kill();
  killEtcdOf(ctrl);
  const dir = join(tmp, 'restored');
  for (const f of SHARED) { mkdirSync(dirname(join(dir, f)), { recursive: true }); copyFileSync(join(ctrl.dir, f), join(dir, f)); }
  const ports2 = { client: await freePort(), peer: await freePort() };
  const r = await pikube(['store', 'snapshot', 'restore', file, '--data-dir', dir, '--etcd-name', 'm0', '--etcd-peer-url', `https://127.0.0.1:${ports2.peer}`]);
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /restored the etcd snapshot/);
  restored = await startController({ dir, args: ['--cluster-init', ...etcdArgs(ports2)], readyTimeoutMs: 120_000 });
  t.is(restored.token, ctrl.token, 'the same admin credential');
  const api2 = new ApiClient(restored.kubeconfig);
  for (let i = 0; i < 20; i++) t.is((await api2.request('GET', `${CM}/before-${i}`)).body?.data?.v, `before-${i}`);
  t.is((await api2.request('GET', `${CM}/after`)).status, 404, 'written after the snapshot: not in it');
  // And it takes writes.
  t.is((await api2.request('POST', CM, { body: cm('new') })).status, 201);
});

// The store's operator side with real processes: `pikube store snapshot save` while 20
// clients write, restored into a new data directory, serves exactly the snapshot's
// revision; a controller on a full tmpfs says so on /readyz, in /metrics, on the status
// page and once in its log, and recovers without a restart.
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { CLI, removeDir, startController, waitFor, type ControllerHandle } from '../helpers/processes.js';
import { mountTmpfs } from '../helpers/tmpfs.js';
import { ApiClient } from '../helpers/api-client.js';

const CM = '/api/v1/namespaces/default/configmaps';
const pikube = (args: string[]) => execa(process.execPath, [CLI, ...args], { reject: false });

interface Op { name: string; rv: number; data?: Record<string, string> }

test('snapshot save while 20 clients write; restore serves exactly the objects of its revision', async (t) => {
  const ctrl = await startController();
  const tmp = mkdtempSync(join(tmpdir(), 'pikube-snap-'));
  let restored: ControllerHandle | undefined;
  t.teardown(async () => { await ctrl.kill(); await restored?.kill(); removeDir(ctrl.dir); removeDir(tmp); });
  const api = new ApiClient(ctrl.kubeconfig, { maxSockets: 20 });
  const ops: Op[] = [];
  let stop = false;
  const writer = async (w: number) => {
    for (let i = 0; !stop; i++) {
      const name = `w${w}-${i % 5}`;
      const data = { w: String(w), i: String(i) };
      const cur = await api.get(`${CM}/${name}`);
      let r;
      if (cur.status === 404) r = await api.post(CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
      else if (i % 7 === 3) r = await api.delete(`${CM}/${name}`);
      else r = await api.put(`${CM}/${name}`, { ...cur.body, data });
      if (r.status === 200 || r.status === 201) {
        // A deletion answers with the object's last state at the deletion's revision.
        const deleted = cur.status !== 404 && i % 7 === 3;
        ops.push({ name, rv: Number(r.body.metadata.resourceVersion), ...(deleted ? {} : { data }) });
      }
    }
  };
  const writers = Array.from({ length: 20 }, (_, w) => writer(w));
  await waitFor('writes under way', () => ops.length > 100, 60_000, 50);
  const file = join(tmp, 'snap.db');
  const saved = await pikube(['store', 'snapshot', 'save', file, '--data-dir', ctrl.dir]);
  const opsAtSave = ops.length;
  await waitFor('more writes after the save', () => ops.length > opsAtSave + 50, 60_000, 50);
  stop = true;
  await Promise.all(writers);
  api.close();
  t.is(saved.exitCode, 0, saved.stderr);
  const revision = Number(/saved revision (\d+)/.exec(saved.stdout)![1]);
  t.true(ops.some((o) => o.rv > revision), 'writes went on after the snapshot');

  // What the objects were at `revision`: the last acknowledged write of each with rv ≤ it.
  const expected = new Map<string, Op>();
  for (const o of [...ops].sort((a, b) => a.rv - b.rv)) if (o.rv <= revision) expected.set(o.name, o);
  for (const [k, o] of expected) if (!o.data) expected.delete(k);

  const restoreDir = join(tmp, 'restored');
  const r = await pikube(['store', 'snapshot', 'restore', file, '--data-dir', restoreDir]);
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, new RegExp(`restored revision ${revision} `));
  const again = await pikube(['store', 'snapshot', 'restore', file, '--data-dir', restoreDir]);
  t.not(again.exitCode, 0, 'restore refuses a data directory that has a store');
  restored = await startController({ dir: restoreDir });
  const rapi = new ApiClient(restored.kubeconfig);
  const list = await rapi.get(CM);
  const got = new Map<string, { rv: number; data: Record<string, string> }>();
  for (const o of list.body.items) if (/^w\d+-\d$/.test(o.metadata.name)) got.set(o.metadata.name, { rv: Number(o.metadata.resourceVersion), data: o.data });
  t.deepEqual([...got.keys()].sort(), [...expected.keys()].sort());
  for (const [k, o] of expected) t.deepEqual(got.get(k), { rv: o.rv, data: o.data }, k);
  const created = await rapi.post(CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after-restore' } });
  t.true(Number(created.body.metadata.resourceVersion) > revision, 'revisions go on above the snapshot');
  rapi.close();
});

test('a full disk shows on /readyz, /metrics, the status page and once in the log; writes resume when space returns', async (t) => {
  const fs = await mountTmpfs(24 * 1024 * 1024);
  let ctrl: ControllerHandle | undefined;
  t.teardown(async () => { await ctrl?.kill(); await fs.unmount(); });
  ctrl = await startController({ dir: join(fs.dir, 'ctrl'), args: ['--snapshot-interval', '0'] });
  const api = new ApiClient(ctrl.kubeconfig);
  const curl = async (path: string, extra: string[] = []) => (await execa('curl', ['-sk', '--max-time', '3', '-H', `Authorization: Bearer ${ctrl!.token}`, ...extra, `${ctrl!.apiUrl}${path}`], { reject: false })).stdout;
  fs.fill(64 * 1024);
  const failures: { status: number; body: { reason?: string; message?: string } }[] = [];
  for (let i = 0; i < 30 && failures.length < 3; i++) {
    const r = await api.post(CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `big-${i}` }, data: { pad: 'x'.repeat(40_000) } });
    if (r.status !== 201) failures.push(r);
    if (r.status !== 201) t.is((await api.get(`${CM}/big-${i}`)).status, 404, 'a failed create is not visible');
  }
  t.true(failures.length >= 3, 'creates failed on the full disk');
  t.is(failures[0]!.status, 500);
  t.is(failures[0]!.body.reason, 'InternalError');
  t.regex(failures[0]!.body.message!, /ENOSPC/);
  const readyz = await execa('curl', ['-sk', '-w', '\n%{http_code}', `${ctrl.apiUrl}/readyz`], { reject: false });
  t.regex(readyz.stdout, /disk is full[\s\S]*\n503$/);
  t.regex(await curl('/metrics'), /^pikube_store_failed_writes_total [1-9]/m);
  t.regex(await curl('/metrics'), /^pikube_store_write_failing 1$/m);
  const page = await curl('/ui/stream', ['-N', '--max-time', '2']);
  const first = JSON.parse(/data: (.*)/.exec(page)![1]!);
  t.regex(first.alerts.join(' '), /disk is full/i);
  const log = () => readFileSync(ctrl!.logPath, 'utf8').split('\n').filter((l) => l.includes('store cannot write'));
  t.is(log().length, 1, 'one error line for the episode');

  fs.unfill();
  const ok = await api.post(CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after-space' }, data: { a: 'b' } });
  t.is(ok.status, 201);
  await waitFor('readyz ok', async () => (await execa('curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', `${ctrl!.apiUrl}/readyz`], { reject: false })).stdout === '200', 10_000);
  t.regex(await curl('/metrics'), /^pikube_store_write_failing 0$/m);
  api.close();
  await ctrl.stop();
  ctrl = await ctrl.restart();
  const again = new ApiClient(ctrl.kubeconfig);
  t.is((await again.get(`${CM}/after-space`)).status, 200);
  for (let i = 0; i < 30; i++) {
    const r = await again.get(`${CM}/big-${i}`);
    if (r.status === 200) t.is(r.body.data.pad.length, 40_000);
  }
  again.close();
});

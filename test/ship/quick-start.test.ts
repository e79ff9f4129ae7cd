// The README's quick start from a fresh clone: `npm start` brings up a cluster
// (controller, embedded broker, local agent) and the kubectl line it prints shows a
// Ready node. Ports and data directory are given so the test never touches the defaults.
// The clone borrows this checkout's node_modules: `npm ci` in a fresh clone is what CI
// itself runs first, and a second install here would load the disk while other tests
// measure fsync-bound writes.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, existsSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { freePort, removeDir, waitFor } from '../helpers/processes.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

test('npm start in a fresh clone prints a kubectl line that shows a Ready node', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'pikube-clone-'));
  t.teardown(() => removeDir(work));
  const clone = join(work, 'pikube');
  await execa('git', ['clone', '--quiet', ROOT, clone]);
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
  const apiPort = await freePort();
  const mqttPort = await freePort();
  const dataDir = join(work, 'data');
  const up = spawn('npm', ['start', '--', '--data-dir', dataDir, '--api-listen', `127.0.0.1:${apiPort}`, '--mqtt-listen', `127.0.0.1:${mqttPort}`, '--mqtt-tls-listen', '127.0.0.1:0', '--runtime', 'simulated'], {
    cwd: clone, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  t.teardown(() => { try { process.kill(-up.pid!, 'SIGKILL'); } catch { /* gone */ } });
  let out = '';
  up.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  up.stderr.on('data', () => {});
  const line = await waitFor('the kubectl line', () => out.match(/^\s*(kubectl --kubeconfig \S+ get nodes)\s*$/m)?.[1], 180_000, 200);
  const [cmd, ...args] = line.split(/\s+/);
  t.true(existsSync(args[1]!), 'the printed kubeconfig exists');
  const home = mkdtempSync(join(tmpdir(), 'pikube-khome-'));
  t.teardown(() => removeDir(home));
  const nodes = await waitFor('a Ready node', async () => {
    const r = await execa(cmd!, args, { env: { HOME: home }, reject: false });
    return /\sReady\s/.test(r.stdout) && r.stdout;
  }, 30_000, 300);
  t.regex(nodes, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION/m);
});

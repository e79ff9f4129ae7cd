// Libraries a feature needs are loaded with the feature: a controller on its embedded store
// never loads the etcd client (gRPC and protobuf cost it about 15 MB of memory).
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeDir, startController } from '../helpers/processes.js';

const PROBE = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'loaded-packages.js');

test('a controller on the embedded store does not load the etcd client', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pikube-lazy-'));
  const file = join(dir, 'loaded.json');
  const ctrl = await startController({ dir: join(dir, 'controller'), env: { NODE_OPTIONS: `--import=${PROBE}`, LOADED_PACKAGES_FILE: file } });
  try {
    t.is(await ctrl.stop(), 0);
    const loaded = JSON.parse(readFileSync(file, 'utf8')) as string[];
    t.true(loaded.includes('aedes'), `the probe sees CommonJS packages: ${loaded.join(', ')}`);
    t.false(loaded.includes('etcd3'), 'etcd3 loaded');
    t.false(loaded.includes('@grpc/grpc-js'), '@grpc/grpc-js loaded');
  } finally {
    await ctrl.kill();
    removeDir(dir);
  }
});

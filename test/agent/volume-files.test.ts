// ConfigMap, Secret and projected volumes as files: written when their content changes,
// left alone (one stat) when a pass would write the same files, and repaired when someone
// removed or added a file in the directory since.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareVolumes, type WrittenVolumes } from '../../agent/pods/volumes.js';
import { desired, pod } from './harness.js';

const dataDir = mkdtempSync(join(tmpdir(), 'pikube-volfiles-'));
test.after.always(() => rmSync(dataDir, { recursive: true, force: true }));

test('same content: not rewritten; a removed or added file: repaired; new content: written', async (t) => {
  const p = pod({
    volumes: [{ name: 'cfg', configMap: { name: 'settings' } }],
    containers: [{ name: 'c', image: 'img:1', volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg' }] }],
  });
  const written: WrittenVolumes = new Map();
  const dp = (data: Record<string, string>) => desired(p, { configMaps: { settings: data } });
  const dir = (await prepareVolumes(dataDir, dp({ mode: 'a', level: '1' }), { written })).get('cfg')!.path;
  t.is(readFileSync(join(dir, 'mode'), 'utf8'), 'a');
  const inode = statSync(join(dir, 'mode')).ino;

  await prepareVolumes(dataDir, dp({ mode: 'a', level: '1' }), { written });
  t.is(statSync(join(dir, 'mode')).ino, inode, 'the same files are not written again');

  unlinkSync(join(dir, 'level'));
  writeFileSync(join(dir, 'stray'), 'x');
  await prepareVolumes(dataDir, dp({ mode: 'a', level: '1' }), { written });
  t.is(readFileSync(join(dir, 'level'), 'utf8'), '1', 'a removed file comes back');
  t.throws(() => statSync(join(dir, 'stray')), undefined, 'a file the volume does not hold goes');

  await prepareVolumes(dataDir, dp({ mode: 'b', level: '1' }), { written });
  t.is(readFileSync(join(dir, 'mode'), 'utf8'), 'b');
});

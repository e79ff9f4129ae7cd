// Local-path volume directories on the node: made when a pod first mounts the claim,
// removed when the volume is reclaimed, and never made again afterwards.
import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClaimMountError, mountClaim, removeLocalVolume } from '../../agent/pods/claim-mounts.js';

const root = mkdtempSync(join(tmpdir(), 'pikube-claims-'));
test.after.always(() => rmSync(root, { recursive: true, force: true }));

test('a missing local-path directory is made; once reclaimed, a late pass of its pod does not bring it back', async (t) => {
  const storage = join(root, 'storage');
  mkdirSync(storage, { recursive: true });
  const dir = join(storage, 'pvc-1_default_data-db-1');
  const cv = { volumeName: 'pvc-1', path: dir, create: true };
  t.is(await mountClaim('data-db-1', cv, join(root, 'mnt')), dir);
  t.true(existsSync(dir));
  writeFileSync(join(dir, 'first'), 'db-1');
  await removeLocalVolume(storage, dir);
  t.false(existsSync(dir));
  const err = await t.throwsAsync(mountClaim('data-db-1', cv, join(root, 'mnt')), { instanceOf: ClaimMountError });
  t.regex(err!.message, /was reclaimed/);
  t.false(existsSync(dir));
  // another claim's directory is made as before
  const other = join(storage, 'pvc-2_default_data-db-1');
  t.is(await mountClaim('data-db-1', { volumeName: 'pvc-2', path: other, create: true }, join(root, 'mnt')), other);
  t.true(existsSync(other));
});

test('removal refuses anything that is not a volume directory of the storage directory', async (t) => {
  const storage = join(root, 'storage2');
  mkdirSync(join(storage, 'a', 'b'), { recursive: true });
  await t.throwsAsync(removeLocalVolume(storage, join(storage, 'a', 'b')), { instanceOf: ClaimMountError, message: /is not a volume directory/ });
  await t.throwsAsync(removeLocalVolume(storage, join(storage, '..', 'elsewhere')), { instanceOf: ClaimMountError });
  t.true(existsSync(join(storage, 'a', 'b')));
});

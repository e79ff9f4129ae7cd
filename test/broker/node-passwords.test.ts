// The node-password file read by several holders at once: the controller's broker, its
// sharing loop and `pikube node reset` each keep their own copy and re-read the file when
// another one wrote it.
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodePasswords } from '../../controller/broker/node-passwords.js';
import { removeDir } from '../helpers/processes.js';

test('a write by another holder is seen at once, even within one tick of the file clock', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pikube-np-'));
  t.teardown(() => removeDir(dir));
  const a = new NodePasswords(dir);
  const b = new NodePasswords(dir);
  // Writes a few microseconds apart: file times move only every few milliseconds.
  for (let i = 0; i < 200; i++) {
    t.truthy(a.issue(`a-${i}`));
    const pw = b.issue(`b-${i}`)!;
    t.true(a.verify(`b-${i}`, pw), `a sees b's b-${i}`);
    t.true(a.remove(`b-${i}`));
    t.false(b.has(`b-${i}`), `b sees a's removal of b-${i}`);
  }
  t.is(new NodePasswords(dir).names().length, 200);
});

import test from 'ava';
import { stat, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BrokerCredentials, createJoinToken, deriveNodePassword, ensureJoinToken, isValidJoinToken, listJoinTokens,
  loadClusterSecret, safeEqual,
} from '../../controller/broker/credentials.js';
import { tempDir } from './helpers.js';

test('secrets are created once, private, and stable', async (t) => {
  const dir = await tempDir();
  const creds = await BrokerCredentials.load(dir);
  for (const f of ['mqtt-secret', 'mqtt-controller-password', 'join-token']) {
    t.is((await stat(join(dir, f))).mode & 0o777, 0o600, f);
  }
  const again = await BrokerCredentials.load(dir);
  t.is(again.controllerPassword, creds.controllerPassword);
  // Node passwords are random per join, stored only hashed, and a name is issued once.
  const p1 = creds.provisionNode('pi-1');
  const p2 = creds.provisionNode('pi-2');
  t.not(p1, p2);
  t.not(p1, deriveNodePassword(await loadClusterSecret(dir), 'pi-1'));
  t.throws(() => creds.provisionNode('pi-1'), { message: /already joined/ });
  const stored = await readFile(join(dir, 'node-passwords.json'), 'utf8');
  t.false(stored.includes(p1));
  t.is((await stat(join(dir, 'node-passwords.json'))).mode & 0o777, 0o600);
  t.deepEqual(await again.authenticate('pi-1', p1, 'pikube-agent-pi-1'), { role: 'node', node: 'pi-1' });
  // Deleting the node frees the name.
  t.true(again.nodePasswords.remove('pi-1'));
  t.is(await creds.authenticate('pi-1', p1, 'pikube-agent-pi-1'), undefined);
  t.throws(() => creds.provisionNode('pikube-controller'));
  t.throws(() => creds.provisionNode('Bad'));
});

test('a damaged secret file is an error, not a silent new secret', async (t) => {
  const dir = await tempDir();
  await writeFile(join(dir, 'mqtt-secret'), 'short\n');
  await t.throwsAsync(loadClusterSecret(dir), { message: /malformed/ });
  t.is(await readFile(join(dir, 'mqtt-secret'), 'utf8'), 'short\n');
});

test('join tokens look like kubeadm tokens; TTL tokens expire', async (t) => {
  const dir = await tempDir();
  const primary = await ensureJoinToken(dir);
  t.regex(primary, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  t.is(await ensureJoinToken(dir), primary);
  t.true(await isValidJoinToken(dir, primary));
  t.false(await isValidJoinToken(dir, primary.slice(0, -1) + (primary.endsWith('a') ? 'b' : 'a')));
  t.false(await isValidJoinToken(dir, 'not a token'));

  const { token, expires } = await createJoinToken(dir, 60);
  t.regex(token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  t.true(await isValidJoinToken(dir, token));
  t.false(await isValidJoinToken(dir, token, Date.parse(expires) + 1), 'expired');
  t.is((await stat(join(dir, 'join-tokens.json'))).mode & 0o777, 0o600);
  // Stored hashed, never in plain text.
  t.false((await readFile(join(dir, 'join-tokens.json'), 'utf8')).includes(token.split('.')[1]!));
  t.is((await listJoinTokens(dir)).length, 1);
  t.is((await listJoinTokens(dir, Date.parse(expires) + 1)).length, 0);
  await t.throwsAsync(createJoinToken(dir, 0), { message: /positive/ });
  await t.throwsAsync(createJoinToken(dir, Number.NaN), { message: /positive/ });
});

test('a corrupt token list is reported clearly', async (t) => {
  const dir = await tempDir();
  await ensureJoinToken(dir);
  await writeFile(join(dir, 'join-tokens.json'), '{oops');
  await t.throwsAsync(isValidJoinToken(dir, 'aaaaaa.aaaaaaaaaaaaaaaa'), { message: /join-tokens.json is not valid JSON/ });
});

test('authenticate tells controller, nodes and joiners apart', async (t) => {
  const dir = await tempDir();
  const creds = await BrokerCredentials.load(dir);
  const token = await ensureJoinToken(dir);
  t.deepEqual(await creds.authenticate('pikube-controller', creds.controllerPassword, 'any'), { role: 'controller' });
  const p1 = creds.provisionNode('pi-1');
  t.deepEqual(await creds.authenticate('pi-1', p1, 'pikube-agent-pi-1'), { role: 'node', node: 'pi-1' });
  t.deepEqual(await creds.authenticate('pi-1', p1, 'any'), { role: 'node', node: 'pi-1' }, 'credentials are right; the broker checks the client id');
  t.deepEqual(await creds.authenticate('pikube-join', token, 'join-pi-9'), { role: 'joiner', node: 'pi-9' });
  t.is(await creds.authenticate('pikube-join', token, 'pi-9'), undefined);
  t.is(await creds.authenticate('pikube-join', token, 'join-pikube-controller'), undefined);
  t.is(await creds.authenticate('pi-1', creds.provisionNode('pi-2'), 'x'), undefined);
  t.is(await creds.authenticate(undefined, undefined, 'x'), undefined);
  t.is(await creds.authenticate('pi-1', undefined, 'x'), undefined);
  t.is(await creds.authenticate('Pi+1', 'x', 'x'), undefined);
});

test('safeEqual compares strings of any lengths', (t) => {
  t.true(safeEqual('abc', 'abc'));
  t.false(safeEqual('abc', 'abd'));
  t.false(safeEqual('abc', 'abcd'));
  t.false(safeEqual('', 'a'));
});

// A K10<ca-hash>::<token> pins the cluster's CA for controllers too: a controller joining
// with it checks the API server's certificate against the CA its chain presents before it
// asks anything (a wrong hash asks nothing), and a controller on a shared datastore takes
// the cluster's secrets only when their CA is the one the token names, writing nothing
// otherwise. Real controller, real etcd.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caCertHash } from '../../protocol/join-token.js';
import { CaMismatchError, pinnedCaFromChain, presentedChain } from '../../protocol/pinned-ca.js';
import { requestJoin } from '../../controller/cluster/join-route.js';
import { syncClusterSecrets } from '../../controller/cluster/shared-secrets.js';
import { EtcdStore } from '../../controller/store/etcd/etcd-store.js';
import { startEtcdCluster, etcdAvailable, type EtcdCluster } from '../helpers/etcd.js';
import { removeDir, startController, type ControllerHandle } from '../helpers/processes.js';

let ctrl: ControllerHandle | undefined;
let etcd: EtcdCluster | undefined;
const dirs: string[] = [];
test.after.always(async () => {
  await ctrl?.kill();
  if (ctrl) removeDir(ctrl.dir);
  await etcd?.stop();
  for (const d of dirs) removeDir(d);
});

const WRONG = 'ab'.repeat(32);

test('joining with a CA hash: the API server\'s chain is checked first, and a wrong hash asks nothing', async (t) => {
  ctrl = await startController();
  const caPem = readFileSync(join(ctrl.dir, 'pki', 'ca.crt'), 'utf8');
  const u = new URL(ctrl.apiUrl);
  const chain = await presentedChain(u.hostname, Number(u.port), 5000);
  t.is(caCertHash(pinnedCaFromChain(chain, caCertHash(caPem), 'the controller')), caCertHash(caPem), 'the CA the token names is found in the chain');
  const err = await t.throwsAsync(requestJoin(ctrl.apiUrl, 'abcdef.0123456789abcdef', 'newcomer', 'https://127.0.0.1:2380', { caHash: WRONG, patienceMs: 0 }));
  t.true(err instanceof CaMismatchError, String(err));
  t.regex(err!.message, /does not match the join token's sha256:abababab/);
  t.false(ctrl.log().includes('newcomer'), 'the controller was asked nothing');
});

test('a shared datastore: secrets are taken only when their CA is the one the token names', async (t) => {
  t.timeout(120_000);
  if (!etcdAvailable() && process.env.CI !== 'true') return t.pass('etcd-server is not installed');
  etcd = await startEtcdCluster(1);
  const prefix = `/pin-${randomBytes(3).toString('hex')}/`;
  const open = async () => { const s = new EtcdStore({ endpoints: etcd!.endpoints, prefix }); await s.open(); return s; };
  const dir = (name: string) => { const d = mkdtempSync(join(tmpdir(), `pikube-pin-${name}-`)); dirs.push(d); return d; };

  const first = dir('first');
  const s1 = await open();
  t.is(await syncClusterSecrets(s1, first, undefined), 'created');
  const token = readFileSync(join(first, 'join-token'), 'utf8').trim();
  const hash = caCertHash(readFileSync(join(first, 'pki', 'ca.crt'), 'utf8'));

  const wrong = dir('wrong');
  const s2 = await open();
  const err = await t.throwsAsync(syncClusterSecrets(s2, wrong, token, undefined, WRONG));
  t.true(err instanceof CaMismatchError, String(err));
  t.regex(err!.message, /the datastore's cluster has CA sha256:[0-9a-f]{16}…, but the token names sha256:abababab/);
  t.false(existsSync(join(wrong, 'pki', 'ca.crt')), 'nothing of the other cluster was written');

  const right = dir('right');
  const s3 = await open();
  t.is(await syncClusterSecrets(s3, right, token, undefined, hash), 'joined');
  t.is(readFileSync(join(right, 'pki', 'ca.crt'), 'utf8'), readFileSync(join(first, 'pki', 'ca.crt'), 'utf8'));
  for (const s of [s1, s2, s3]) await s.close();
});

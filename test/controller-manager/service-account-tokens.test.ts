import test from 'ava';
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenSigner, type ServiceAccountLookup } from '../../controller/controller-manager/service-account-tokens.js';

const dir = mkdtempSync(join(tmpdir(), 'pikube-tokens-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const accounts = new Map<string, string>([['apps/builder', 'uid-1']]);
const lookup: ServiceAccountLookup = (ns, name) => (accounts.has(`${ns}/${name}`) ? { uid: accounts.get(`${ns}/${name}`) } : undefined);
const subject = { namespace: 'apps', serviceAccountName: 'builder', uid: 'uid-1' };

test('the key file is created once, 0600, and reused by a second signer', (t) => {
  const keyPath = join(dir, 'keys', 'sa.key');
  const a = new TokenSigner(keyPath, { lookup });
  const token = a.sign(subject);
  t.is(statSync(keyPath).mode & 0o777, 0o600);
  const pem = readFileSync(keyPath, 'utf8');
  t.regex(pem, /BEGIN PRIVATE KEY/);
  const b = new TokenSigner(keyPath, { lookup });
  t.truthy(b.verify(token));
  t.is(readFileSync(keyPath, 'utf8'), pem);
});

test('sign produces upstream-like claims and verify returns the service account user', (t) => {
  const signer = new TokenSigner(join(dir, 'claims.key'), { lookup });
  const token = signer.sign({ ...subject, pod: { name: 'web-1', uid: 'pod-uid' } }, 600);
  const [h, p] = token.split('.');
  const header = JSON.parse(Buffer.from(h!, 'base64url').toString());
  const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
  t.is(header.alg, 'ES256');
  t.is(claims.iss, 'https://kubernetes.default.svc.cluster.local');
  t.is(claims.sub, 'system:serviceaccount:apps:builder');
  t.is(claims.exp - claims.iat, 600);
  t.deepEqual(claims['kubernetes.io'], { namespace: 'apps', pod: { name: 'web-1', uid: 'pod-uid' }, serviceaccount: { name: 'builder', uid: 'uid-1' } });
  t.deepEqual(signer.verify(token), {
    username: 'system:serviceaccount:apps:builder', uid: 'uid-1',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:apps', 'system:authenticated'],
    namespace: 'apps', pod: { name: 'web-1', uid: 'pod-uid' },
  });
  t.is(signer.publicJwk().kty, 'EC');
});

test('tampered, foreign, expired and orphaned tokens are rejected', (t) => {
  let now = Date.now();
  const signer = new TokenSigner(join(dir, 'reject.key'), { lookup, now: () => now });
  const token = signer.sign(subject, 120);
  t.truthy(signer.verify(token));

  // Tampered payload: claim another account, keep the signature.
  const [h, p, s] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  claims.sub = 'system:serviceaccount:kube-system:admin';
  claims['kubernetes.io'].namespace = 'kube-system';
  t.is(signer.verify(`${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`), undefined);
  // Tampered signature.
  const flipped = Buffer.from(s, 'base64url');
  flipped[0] = flipped[0]! ^ 0xff;
  t.is(signer.verify(`${h}.${p}.${flipped.toString('base64url')}`), undefined);
  // alg none and garbage.
  t.is(signer.verify(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`), undefined);
  t.is(signer.verify('not-a-token'), undefined);
  // Signed by another key.
  const other = new TokenSigner(join(dir, 'other.key'), { lookup });
  t.is(signer.verify(other.sign(subject)), undefined);
  // The account was deleted and recreated: new uid, old tokens die.
  accounts.set('apps/builder', 'uid-2');
  t.is(signer.verify(token), undefined);
  accounts.set('apps/builder', 'uid-1');
  t.truthy(signer.verify(token));
  // Expired (past the leeway).
  now += 10 * 60_000;
  t.is(signer.verify(token), undefined);
  // Bad input to sign changes nothing and says why.
  t.throws(() => signer.sign({ ...subject, uid: '' }), { message: /uid/ });
  t.throws(() => signer.sign(subject, -1), { message: /lifetime/ });
});

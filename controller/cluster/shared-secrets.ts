// The cluster's secrets kept in the datastore, as k3s keeps its bootstrap data: the first
// controller on an empty datastore makes the CA, the admin token, the MQTT secrets, the
// join token and the service-account key, and stores them sealed under a key derived
// from the server token; every later controller gives that token (`--token`) and takes
// the same files. Each controller still issues its own API server certificate.
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EtcdStore } from '../store/etcd/etcd-store.js';
import { ensurePki } from '../apiserver/certs.js';
import { BrokerCredentials, JOIN_TOKEN_FILE, isWellFormedJoinToken, writePrivateFile } from '../broker/credentials.js';
import { TokenSigner } from '../controller-manager/index.js';
import { assertTokenCa } from '../../protocol/pinned-ca.js';

/** Data-dir files every controller of a cluster must share. */
export const SHARED_FILES = ['pki/ca.crt', 'pki/ca.key', 'admin-token', 'mqtt-secret', 'mqtt-controller-password', JOIN_TOKEN_FILE, 'pki/service-account.key'] as const;

interface Sealed { v: 1; salt: string; iv: string; tag: string; data: string }

function keyFor(token: string, salt: Buffer): Buffer {
  return scryptSync(token, salt, 32, { N: 16384, r: 8, p: 1 });
}

export function seal(files: Record<string, string>, token: string): string {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', keyFor(token, salt), iv);
  const data = Buffer.concat([c.update(JSON.stringify(files), 'utf8'), c.final()]);
  return JSON.stringify({ v: 1, salt: salt.toString('base64'), iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), data: data.toString('base64') } satisfies Sealed);
}

export function unseal(text: string, token: string): Record<string, string> {
  const s = JSON.parse(text) as Sealed;
  const d = createDecipheriv('aes-256-gcm', keyFor(token, Buffer.from(s.salt, 'base64')), Buffer.from(s.iv, 'base64'));
  d.setAuthTag(Buffer.from(s.tag, 'base64'));
  try {
    return JSON.parse(Buffer.concat([d.update(Buffer.from(s.data, 'base64')), d.final()]).toString('utf8')) as Record<string, string>;
  } catch {
    throw new Error('the token does not open the cluster secrets in the datastore: give the first controller\'s <data-dir>/join-token with --token');
  }
}

function localToken(dataDir: string): string | undefined {
  const p = join(dataDir, JOIN_TOKEN_FILE);
  return existsSync(p) ? readFileSync(p, 'utf8').trim() : undefined;
}

export async function writeShared(dataDir: string, files: Record<string, string>): Promise<void> {
  const caPath = join(dataDir, 'pki', 'ca.crt');
  const caChanged = !existsSync(caPath) || readFileSync(caPath, 'utf8') !== files['pki/ca.crt'];
  for (const name of SHARED_FILES) {
    const content = files[name];
    if (content === undefined) continue;
    mkdirSync(dirname(join(dataDir, name)), { recursive: true, mode: 0o700 });
    await writePrivateFile(join(dataDir, name), content);
  }
  // A server certificate from another CA is useless: have it issued again.
  if (caChanged) for (const f of ['apiserver.crt', 'apiserver.key']) rmSync(join(dataDir, 'pki', f), { force: true });
}

/**
 * Makes the data dir hold the cluster's shared secrets: taken from the datastore when it
 * has them (the token must open them), else made here and offered to the datastore; if
 * another controller's offer won the race, theirs are taken.
 */
export async function syncClusterSecrets(store: EtcdStore, dataDir: string, token: string | undefined, log?: { info: (o: object, m: string) => void }, caHash?: string): Promise<'created' | 'joined'> {
  if (token !== undefined && !isWellFormedJoinToken(token)) throw new Error('--token must look like abcdef.0123456789abcdef (the first controller\'s <data-dir>/join-token)');
  // A K10… token names the cluster's CA: another cluster's secrets are refused before they are written here.
  const check = (caPem: string, what: string) => { if (caHash) assertTokenCa(caPem, caHash, what); };
  return syncSecrets(store, dataDir, token, check, log);
}

async function syncSecrets(store: EtcdStore, dataDir: string, token: string | undefined, check: (caPem: string, what: string) => void, log?: { info: (o: object, m: string) => void }): Promise<'created' | 'joined'> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = store.keys.bootstrap;
  const existing = await store.client.get(key).string();
  if (existing !== null) {
    const t = token ?? localToken(dataDir);
    if (!t) throw new Error('this datastore already holds a cluster: start with --token TOKEN (the first controller\'s <data-dir>/join-token)');
    const files = unseal(existing, t);
    check(files['pki/ca.crt'] ?? '', 'the datastore\'s cluster');
    await writeShared(dataDir, files);
    log?.info({}, 'took the cluster secrets from the datastore');
    return 'joined';
  }
  // First controller: the given token (or one made now) becomes the cluster's token.
  if (token && !existsSync(join(dataDir, JOIN_TOKEN_FILE))) await writePrivateFile(join(dataDir, JOIN_TOKEN_FILE), token + '\n');
  await ensurePki(dataDir);
  await BrokerCredentials.load(dataDir);
  new TokenSigner(join(dataDir, 'pki', 'service-account.key')).publicJwk();
  const files: Record<string, string> = {};
  for (const name of SHARED_FILES) files[name] = readFileSync(join(dataDir, name), 'utf8');
  check(files['pki/ca.crt']!, 'this controller\'s data directory');
  const t = files[JOIN_TOKEN_FILE]!.trim();
  const res = await store.client.if(key, 'Create', '==', 0).then(store.client.put(key).value(seal(files, t))).commit();
  if (!res.succeeded) return syncSecrets(store, dataDir, token ?? t, check, log);
  log?.info({}, 'stored the cluster secrets in the datastore');
  return 'created';
}

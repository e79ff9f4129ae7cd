// Users with client certificates (like `kubeadm kubeconfig user`): the certificate's
// CN is the user name and each O a group; the cluster CA signs it. Issued serials are
// recorded per user in <data-dir>/pki/users.json; revoking a user moves them to the
// revoked set, which the API server re-reads when the file changes (no restart).
import { randomBytes, webcrypto } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { UserInfo } from '../apiserver/http/server.js';
import { ALG, importKey, loadX509, pem } from '../apiserver/certs.js';

type PeerCert = PeerCertificate;

export interface UserRecord {
  groups: string[];
  serials: string[];
  expires?: string;
  /** Salted hash of the user's MQTT password (`pikube user add --mqtt`). */
  mqttPassword?: string;
  /** The same password as mosquitto's `$7$` (PBKDF2-SHA512) hash, for `pikube mosquitto-config`. */
  mosquittoPassword?: string;
}
export interface UsersFile { users: Record<string, UserRecord>; revoked: string[] }

export const usersPath = (dataDir: string) => join(dataDir, 'pki', 'users.json');

export function readUsers(dataDir: string): UsersFile {
  const p = usersPath(dataDir);
  if (!existsSync(p)) return { users: {}, revoked: [] };
  const f = JSON.parse(readFileSync(p, 'utf8')) as Partial<UsersFile>;
  return { users: f.users ?? {}, revoked: f.revoked ?? [] };
}

/** Reads, changes and writes users.json in one step. */
export function updateUsers(dataDir: string, change: (f: UsersFile) => void): void {
  const f = readUsers(dataDir);
  change(f);
  writeUsers(dataDir, f);
}

function writeUsers(dataDir: string, f: UsersFile): void {
  const p = usersPath(dataDir);
  writeFileSync(`${p}.tmp`, JSON.stringify(f, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${p}.tmp`, p);
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,252}$/;

export async function issueUserCertificate(dataDir: string, name: string, groups: string[], ttlSeconds: number): Promise<{ cert: string; key: string; expires: Date }> {
  if (!NAME.test(name)) throw new Error(`invalid user name "${name}"`);
  for (const g of groups) if (!NAME.test(g)) throw new Error(`invalid group name "${g}"`);
  const x509 = await loadX509();
  const caCertPem = readFileSync(join(dataDir, 'pki', 'ca.crt'), 'utf8');
  const caKeyPem = readFileSync(join(dataDir, 'pki', 'ca.key'), 'utf8');
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const caCert = new x509.X509Certificate(caCertPem);
  const now = Date.now();
  const expires = new Date(now + ttlSeconds * 1000);
  const serial = randomBytes(12).toString('hex');
  const escapeDn = (v: string) => v.replace(/([,+"\\<>;=])/g, '\\$1');
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: [`CN=${escapeDn(name)}`, ...groups.map((g) => `O=${escapeDn(g)}`)].join(', '),
    issuer: caCert.subject,
    notBefore: new Date(now - 300_000),
    notAfter: expires,
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: await importKey(caKeyPem),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    ],
  });
  const f = readUsers(dataDir);
  const rec = f.users[name] ?? { groups, serials: [] };
  rec.groups = groups;
  rec.serials.push(normalizeSerial(cert.serialNumber));
  rec.expires = expires.toISOString();
  f.users[name] = rec;
  writeUsers(dataDir, f);
  return { cert: cert.toString('pem') + '\n', key: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), expires };
}

/** Revokes every certificate issued to the user; false when there was none. */
export function revokeUser(dataDir: string, name: string): boolean {
  const f = readUsers(dataDir);
  const rec = f.users[name];
  if (!rec) return false;
  f.revoked = [...new Set([...f.revoked, ...rec.serials])];
  delete f.users[name];
  writeUsers(dataDir, f);
  return true;
}

function normalizeSerial(s: string): string {
  return s.replace(/^0+/, '').toLowerCase();
}

/**
 * The user a verified client certificate names, unless its serial was revoked. The
 * revocation list is re-read when users.json changes, checked at most once a second.
 */
export function certificateAuthenticator(dataDir: string): (cert: PeerCert) => UserInfo | undefined {
  let revoked = new Set<string>();
  let mtime = -1;
  let checkedAt = 0;
  const refresh = () => {
    const now = Date.now();
    if (now - checkedAt < 1000) return;
    checkedAt = now;
    let m = 0;
    try { m = statSync(usersPath(dataDir)).mtimeMs; } catch { m = 0; }
    if (m === mtime) return;
    mtime = m;
    revoked = new Set(readUsers(dataDir).revoked);
  };
  return (cert) => {
    refresh();
    if (revoked.has(normalizeSerial(cert.serialNumber ?? ''))) return undefined;
    const cn = cert.subject?.CN;
    const name = Array.isArray(cn) ? cn[0] : cn;
    if (!name) return undefined;
    const o = cert.subject?.O;
    const groups = (o === undefined ? [] : Array.isArray(o) ? o : [o]);
    return { username: name, groups: [...groups, 'system:authenticated'] };
  };
}

export function userKubeconfig(server: string, caCert: string, name: string, cert: string, key: string, clusterName = 'pikube'): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return [
    'apiVersion: v1', 'kind: Config', 'clusters:', `- name: ${clusterName}`, '  cluster:', `    server: "${server}"`,
    `    certificate-authority-data: ${b64(caCert)}`, 'users:', `- name: ${JSON.stringify(name)}`, '  user:',
    `    client-certificate-data: ${b64(cert)}`, `    client-key-data: ${b64(key)}`, 'contexts:', `- name: ${JSON.stringify(`${name}@${clusterName}`)}`,
    '  context:', `    cluster: ${clusterName}`, `    user: ${JSON.stringify(name)}`, '    namespace: default', `current-context: ${JSON.stringify(`${name}@${clusterName}`)}`, '',
  ].join('\n');
}

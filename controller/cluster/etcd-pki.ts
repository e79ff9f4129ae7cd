// Certificates for a managed etcd member, from the cluster CA: one key pair per member,
// good as server (clients and peers connect to it) and as client (it connects to peers,
// and the controller uses it towards etcd). Kept in `<data-dir>/etcd/pki`.
import { webcrypto, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface MemberPki { ca: string; cert: string; key: string; caFile: string; certFile: string; keyFile: string }

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** Loads the member's certificate, issuing it when missing or when `hosts` are not all covered. */
export async function ensureMemberPki(dataDir: string, ca: { cert: string; key: string }, hosts: string[]): Promise<MemberPki> {
  const dir = join(dataDir, 'etcd', 'pki');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caFile = join(dir, 'ca.crt');
  const certFile = join(dir, 'member.crt');
  const keyFile = join(dir, 'member.key');
  const names = [...new Set(['127.0.0.1', 'localhost', ...hosts])];
  const stamp = join(dir, 'hosts');
  const same = existsSync(certFile) && existsSync(caFile) && readFileSync(caFile, 'utf8') === ca.cert
    && existsSync(stamp) && readFileSync(stamp, 'utf8') === names.join(',');
  if (!same) {
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
    const caCert = new x509.X509Certificate(ca.cert);
    const caDer = Buffer.from(ca.key.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    const signingKey = await webcrypto.subtle.importKey('pkcs8', caDer, ALG, false, ['sign']);
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomBytes(8).toString('hex'), subject: 'CN=pikube-etcd', issuer: caCert.subject,
      notBefore: new Date(now - 3600_000), notAfter: new Date(now + 5 * 365 * 86400_000),
      signingAlgorithm: ALG, publicKey: keys.publicKey, signingKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension(names.map((value) => (/^[\d.]+$|:/.test(value) ? { type: 'ip' as const, value } : { type: 'dns' as const, value }))),
      ],
    });
    writeFileSync(caFile, ca.cert);
    writeFileSync(certFile, cert.toString('pem') + '\n');
    writeFileSync(keyFile, pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), { mode: 0o600 });
    writeFileSync(stamp, names.join(','));
  }
  return { ca: ca.cert, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), caFile, certFile, keyFile };
}

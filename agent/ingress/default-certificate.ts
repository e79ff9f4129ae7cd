// The certificate the ingress proxy shows a TLS client that sends no SNI name (an address
// typed into a browser) or a name no Ingress has a Secret for: self-signed, made once per
// node and kept under the agent's data directory so it stays the same across restarts,
// as k3s's Traefik does with its "TRAEFIK DEFAULT CERT". The request after the handshake is
// routed by its Host header as usual, so `curl -k https://<node>/ -H 'Host: …'` works.
import { createPrivateKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_CERT_CN = 'PIKUBE DEFAULT CERT';

/** Made anew this long before it expires. */
const RENEW_BEFORE_MS = 30 * 86400_000;
const VALID_MS = 365 * 86400_000;
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface PemPair { cert: string; key: string }

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

async function make(): Promise<PemPair> {
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex'),
    name: `CN=${DEFAULT_CERT_CN}`,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + VALID_MS),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      // A name that can never be asked for: the certificate verifies for no real host.
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: `${randomBytes(8).toString('hex')}.pikube.default` }]),
    ],
  });
  return { cert: cert.toString('pem') + '\n', key: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)) };
}

function usable(pair: PemPair): boolean {
  try {
    const c = new X509Certificate(pair.cert);
    return new Date(c.validTo).getTime() - Date.now() > RENEW_BEFORE_MS && c.checkPrivateKey(createPrivateKey(pair.key));
  } catch {
    return false;
  }
}

/** The node's default certificate from `dir`, made (and written there) when missing, unreadable or near its end. */
export async function defaultCertificate(dir: string | undefined): Promise<PemPair> {
  const certFile = dir && join(dir, 'default.crt');
  const keyFile = dir && join(dir, 'default.key');
  if (certFile && keyFile) {
    try {
      const pair = { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
      if (usable(pair)) return pair;
    } catch {
      // missing or unreadable: made below
    }
  }
  const pair = await make();
  if (dir && certFile && keyFile) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // each written beside and renamed; a crash between the two leaves a key that does not
    // match the certificate, which the next start sees and replaces
    writeFileSync(`${keyFile}.tmp`, pair.key, { mode: 0o600 });
    renameSync(`${keyFile}.tmp`, keyFile);
    writeFileSync(`${certFile}.tmp`, pair.cert);
    renameSync(`${certFile}.tmp`, certFile);
  }
  return pair;
}

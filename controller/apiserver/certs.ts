// The cluster's own CA, the API server's certificate and the admin token, made on first
// start under the data directory. ECDSA P-256 keeps key generation instant on a Pi.
import { webcrypto, randomBytes, X509Certificate } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';

// Loaded only when a certificate has to be made: a restart with the PKI in place skips
// the library's start-up cost (about a tenth of a second on a Pi-class core).
type X509 = typeof import('@peculiar/x509');
let x509Module: Promise<X509> | undefined;
export function loadX509(): Promise<X509> {
  return (x509Module ??= import('@peculiar/x509').then((x509) => {
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    return x509;
  }));
}

export const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface ClusterPki {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminToken: string;
}

export function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function writeSecret(path: string, data: string): void {
  writeFileSync(path, data, { mode: 0o600 });
}

/**
 * Every address of this host, for the certificate's subjectAltNames. IPv6 link-local
 * addresses are left out: no client can use one without a zone, and every pod's veth
 * brings a new one, which would reissue the certificate on each restart.
 */
export function hostAddresses(): string[] {
  const out = new Set<string>(['127.0.0.1']);
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv6' && /^fe[89ab]/i.test(a.address)) continue;
      if (a.family === 'IPv4' || a.family === 'IPv6') out.add(a.address.replace(/%.*$/, ''));
    }
  }
  return [...out];
}

/** An address as X509Certificate.subjectAltName prints it (IPv6 in full, upper case). */
function sanAddress(ip: string): string {
  if (!ip.includes(':')) return ip;
  const [head = '', tail] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => (parseInt(g, 16) || 0).toString(16).toUpperCase()).join(':');
}

async function makeCa(): Promise<{ cert: string; key: string }> {
  const x509 = await loadX509();
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex'),
    name: 'CN=pikube-ca',
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 10 * 365 * 86400_000),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem') + '\n', key: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)) };
}

export async function importKey(keyPem: string): Promise<CryptoKey> {
  const der = Buffer.from(keyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, ALG, false, ['sign']) as Promise<CryptoKey>;
}

export async function issueServerCert(ca: { cert: string; key: string }, names: { dns: string[]; ips: string[] }): Promise<{ cert: string; key: string }> {
  const x509 = await loadX509();
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as CryptoKeyPair;
  const caCert = new x509.X509Certificate(ca.cert);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(8).toString('hex'),
    subject: 'CN=pikube-apiserver',
    issuer: caCert.subject,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 5 * 365 * 86400_000),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: await importKey(ca.key),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.dns.map((value) => ({ type: 'dns' as const, value })),
        ...names.ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    ],
  });
  return { cert: cert.toString('pem') + '\n', key: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)) };
}

/** Loads the PKI from `dir`, creating what is missing; reissues the server certificate when an address was added. */
export async function ensurePki(dir: string, extraNames: string[] = []): Promise<ClusterPki> {
  const pki = join(dir, 'pki');
  mkdirSync(pki, { recursive: true, mode: 0o700 });
  const paths = {
    caCert: join(pki, 'ca.crt'), caKey: join(pki, 'ca.key'),
    serverCert: join(pki, 'apiserver.crt'), serverKey: join(pki, 'apiserver.key'),
    token: join(dir, 'admin-token'),
  };
  let ca: { cert: string; key: string };
  if (existsSync(paths.caCert) && existsSync(paths.caKey)) {
    ca = { cert: readFileSync(paths.caCert, 'utf8'), key: readFileSync(paths.caKey, 'utf8') };
  } else {
    ca = await makeCa();
    writeFileSync(paths.caCert, ca.cert);
    writeSecret(paths.caKey, ca.key);
  }
  // `<host>.local` too: boards reach the controller by its mDNS name (mqtts://pikube-controller.local:8883).
  const mdns = hostname().includes('.') ? [] : [`${hostname()}.local`];
  const dns = ['localhost', hostname(), ...mdns, 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
  const ips = hostAddresses();
  for (const n of extraNames) (/^[\d.]+$|:/.test(n) ? ips : dns).push(n);
  let server: { cert: string; key: string } | undefined;
  if (existsSync(paths.serverCert) && existsSync(paths.serverKey)) {
    const cert = readFileSync(paths.serverCert, 'utf8');
    const parsed = new X509Certificate(cert);
    const san = parsed.subjectAltName ?? '';
    const sanEntries = new Set(san.split(', '));
    const covered = dns.every((d) => san.includes(`DNS:${d}`)) && ips.every((ip) => sanEntries.has(`IP Address:${sanAddress(ip)}`));
    if (covered && new Date(parsed.validTo).getTime() > Date.now() + 30 * 86400_000) server = { cert, key: readFileSync(paths.serverKey, 'utf8') };
  }
  if (!server) {
    server = await issueServerCert(ca, { dns: [...new Set(dns)], ips: [...new Set(ips)] });
    writeFileSync(paths.serverCert, server.cert);
    writeSecret(paths.serverKey, server.key);
  }
  let adminToken: string;
  if (existsSync(paths.token)) adminToken = readFileSync(paths.token, 'utf8').trim();
  else {
    adminToken = randomBytes(24).toString('base64url');
    writeSecret(paths.token, adminToken + '\n');
  }
  return { caCert: ca.cert, caKey: ca.key, serverCert: server.cert, serverKey: server.key, adminToken };
}

export function kubeconfigYaml(server: string, caCert: string, token: string, clusterName = 'pikube'): string {
  const ca = Buffer.from(caCert).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${clusterName}`,
    '  cluster:',
    `    server: "${server}"`,
    `    certificate-authority-data: ${ca}`,
    'users:',
    '- name: admin',
    '  user:',
    `    token: "${token}"`,
    'contexts:',
    `- name: ${clusterName}`,
    '  context:',
    `    cluster: ${clusterName}`,
    '    user: admin',
    '    namespace: default',
    `current-context: ${clusterName}`,
    '',
  ].join('\n');
}

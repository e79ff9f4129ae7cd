// Which CA the agent trusts for mqtts://, and the first-contact check that gets it without
// copying files: as k3s's agent does with a `K10<hash>::` token (pkg/clientaccess), the
// board opens one TLS connection without verification, finds the CA the broker presents in
// its chain, compares its SHA-256 with the token's, checks that the broker's certificate is
// signed by it, and only then keeps the CA (`<data-dir>/mqtt-ca.crt`) and connects for real,
// verifying as usual. Nothing secret is sent on the unverified connection.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import { splitUrls } from '../protocol/mqtt/link.js';
import { caCertHash } from '../protocol/join-token.js';
import { writeFileAtomically } from './checked-json.js';

export const CA_FILE = 'mqtt-ca.crt';

export class CaMismatchError extends Error {
  override readonly name = 'CaMismatchError';
}

/** The CA saved at the first join, if any. */
export async function loadSavedCa(dataDir: string): Promise<string | undefined> {
  try {
    const pem = await readFile(join(dataDir, CA_FILE), 'utf8');
    new X509Certificate(pem); // a damaged file is as good as none
    return pem;
  } catch {
    return undefined;
  }
}

export async function saveCa(dataDir: string, pem: string): Promise<void> {
  await writeFileAtomically(join(dataDir, CA_FILE), pem.endsWith('\n') ? pem : `${pem}\n`, 0o644);
}

/** Whether an MQTT URL is plaintext to somewhere other than this host's loopback. */
export function isPlaintextOffHost(url: string): boolean {
  const u = new URL(url);
  if (u.protocol !== 'mqtt:' && u.protocol !== 'ws:') return false;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return !(host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.')));
}

function shortHash(hex: string): string {
  return `sha256:${hex.slice(0, 16)}…`;
}

/** The certificates the broker sent, leaf first (Node links each to its issuer). */
function chainOf(leaf: PeerCertificate & { issuerCertificate?: PeerCertificate }): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  let cur: (PeerCertificate & { issuerCertificate?: PeerCertificate }) | undefined = leaf;
  while (cur?.raw && !seen.has(cur.fingerprint256)) {
    seen.add(cur.fingerprint256);
    out.push(new X509Certificate(cur.raw));
    cur = cur.issuerCertificate as typeof cur;
  }
  return out;
}

async function presentedChain(url: string, timeoutMs: number): Promise<X509Certificate[]> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port) || 8883;
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, rejectUnauthorized: false, ...(isIP(host) ? {} : { servername: host }) });
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no TLS answer within ${timeoutMs} ms`)); }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const chain = chainOf(socket.getPeerCertificate(true));
      socket.end();
      resolve(chain);
    });
    socket.once('error', (err) => { clearTimeout(timer); reject(err); });
  });
}

/**
 * The CA (PEM) the broker at one of `mqttUrl`'s mqtts:// addresses presents, checked against
 * the token's hash. Throws CaMismatchError when the broker is not the token's cluster.
 */
export async function fetchPinnedCa(mqttUrl: string, caHash: string, timeoutMs = 10_000): Promise<string> {
  const urls = splitUrls(mqttUrl).filter((u) => u.startsWith('mqtts://'));
  let lastError: Error | undefined;
  for (const url of urls) {
    let chain: X509Certificate[];
    try {
      chain = await presentedChain(url, timeoutMs);
    } catch (err) {
      lastError = err as Error;
      continue;
    }
    const leaf = chain[0];
    const ca = chain.find((c) => caCertHash(c.raw) === caHash);
    if (!leaf || !ca) {
      const root = chain[chain.length - 1];
      throw new CaMismatchError(`the broker at ${url} presented CA ${root ? shortHash(caCertHash(root.raw)) : '(none)'}, which does not match the join token's ${shortHash(caHash)}: refusing to join (wrong address, another cluster, or someone in between)`);
    }
    if (leaf !== ca && !(leaf.checkIssued(ca) && leaf.verify(ca.publicKey))) {
      throw new CaMismatchError(`the broker at ${url} presented a certificate not signed by the join token's CA ${shortHash(caHash)}: refusing to join`);
    }
    return ca.toString();
  }
  throw new Error(`cannot reach the broker at ${urls.join(', ') || mqttUrl}: ${lastError?.message ?? 'no mqtts:// URL to check the CA on'}`);
}

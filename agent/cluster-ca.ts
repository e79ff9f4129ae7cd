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
import { splitUrls } from '../protocol/mqtt/link.js';
import { CaMismatchError, pinnedCaFromChain, presentedChain } from '../protocol/pinned-ca.js';
import { writeFileAtomically } from './checked-json.js';

export const CA_FILE = 'mqtt-ca.crt';

export { CaMismatchError };

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
      const u = new URL(url);
      chain = await presentedChain(u.hostname, Number(u.port) || 8883, timeoutMs);
    } catch (err) {
      lastError = err as Error;
      continue;
    }
    return pinnedCaFromChain(chain, caHash, `the broker at ${url}`);
  }
  throw new Error(`cannot reach the broker at ${urls.join(', ') || mqttUrl}: ${lastError?.message ?? 'no mqtts:// URL to check the CA on'}`);
}

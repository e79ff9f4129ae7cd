// First contact with a server whose CA we know only by hash (a `K10<hash>::` token, as
// k3s's pkg/clientaccess does): one TLS connection without verification, the CA looked up
// in the chain the server presents by its SHA-256, the server's certificate checked to be
// signed by it. Nothing secret goes over that connection; the caller then connects for
// real, verifying against the CA found. Used by agents (the broker) and by controllers
// joining a cluster (the API server).
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { connect, type PeerCertificate } from 'node:tls';
import { caCertHash } from './join-token.js';

export class CaMismatchError extends Error {
  override readonly name = 'CaMismatchError';
}

export function shortHash(hex: string): string {
  return `sha256:${hex.slice(0, 16)}…`;
}

/** The certificates a server sent, leaf first (Node links each to its issuer). */
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

/** The chain the TLS server at host:port presents, unverified. */
export function presentedChain(host: string, port: number, timeoutMs: number): Promise<X509Certificate[]> {
  const bare = host.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: bare, port, rejectUnauthorized: false, ...(isIP(bare) ? {} : { servername: bare }) });
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
 * The CA (PEM) in `chain` whose hash is `caHash`, once the leaf is checked to be signed by
 * it. Throws CaMismatchError naming `what` (e.g. "the broker at mqtts://…") otherwise.
 */
export function pinnedCaFromChain(chain: X509Certificate[], caHash: string, what: string): string {
  const leaf = chain[0];
  const ca = chain.find((c) => caCertHash(c.raw) === caHash);
  if (!leaf || !ca) {
    const root = chain[chain.length - 1];
    throw new CaMismatchError(`${what} presented CA ${root ? shortHash(caCertHash(root.raw)) : '(none)'}, which does not match the join token's ${shortHash(caHash)}: refusing to join (wrong address, another cluster, or someone in between)`);
  }
  if (leaf !== ca && !(leaf.checkIssued(ca) && leaf.verify(ca.publicKey))) {
    throw new CaMismatchError(`${what} presented a certificate not signed by the join token's CA ${shortHash(caHash)}: refusing to join`);
  }
  return ca.toString();
}

/** Throws CaMismatchError unless `caPem` is the CA the token names. */
export function assertTokenCa(caPem: string, caHash: string, what: string): void {
  const got = caCertHash(caPem);
  if (got !== caHash) throw new CaMismatchError(`${what} has CA ${shortHash(got)}, but the token names ${shortHash(caHash)}: the token belongs to another cluster`);
}

// The join token's two forms. The secure one, `K10<ca-hash>::<id>.<secret>` (the shape of
// k3s's pkg/clientaccess token), names the cluster CA by the SHA-256 of its DER encoding
// (the certificate's fingerprint, as `openssl x509 -fingerprint -sha256` prints it), so a
// new board can check the broker it reached before it sends the secret; kubeadm's
// `--discovery-token-ca-cert-hash` serves the same purpose. The short form is the bare
// `<id>.<secret>` that pikube tokens were before.
import { createHash, X509Certificate } from 'node:crypto';

export const SECURE_TOKEN_PREFIX = 'K10';

export interface ParsedJoinToken {
  /** Lower-case hex SHA-256 of the cluster CA's DER, when the token carries it. */
  caHash?: string;
  /** What the controller checks: `<id>.<secret>`. */
  credentials: string;
}

export class JoinTokenFormatError extends Error {
  override readonly name = 'JoinTokenFormatError';
}

/** SHA-256 (hex) of a certificate's DER encoding; takes PEM or DER. */
export function caCertHash(cert: string | Buffer): string {
  const der = typeof cert === 'string' || cert.subarray(0, 10).toString('latin1').startsWith('-----')
    ? new X509Certificate(cert).raw
    : cert;
  return createHash('sha256').update(der).digest('hex');
}

/** The secure form of a token for the cluster whose CA is `caPem`. */
export function formatSecureJoinToken(caPem: string, credentials: string): string {
  return `${SECURE_TOKEN_PREFIX}${caCertHash(caPem)}::${credentials}`;
}

/** Splits a token into its CA hash (if any) and credentials; throws on a malformed secure token. */
export function parseJoinToken(token: string): ParsedJoinToken {
  const text = token.trim();
  if (!text.startsWith(SECURE_TOKEN_PREFIX)) return { credentials: text };
  const sep = text.indexOf('::');
  const hash = sep < 0 ? '' : text.slice(SECURE_TOKEN_PREFIX.length, sep).toLowerCase();
  if (sep < 0 || !/^[0-9a-f]{64}$/.test(hash)) {
    throw new JoinTokenFormatError(`join token starts with ${SECURE_TOKEN_PREFIX} but is not ${SECURE_TOKEN_PREFIX}<64 hex digits>::<token>`);
  }
  const credentials = text.slice(sep + 2);
  if (!credentials) throw new JoinTokenFormatError('join token has a CA hash but nothing after "::"');
  return { caHash: hash, credentials };
}

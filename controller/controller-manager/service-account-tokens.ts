// Service account tokens: ES256 JWTs with upstream's claims, signed with a key kept in
// one 0600 file (created on first use), verified against signature, time and the
// ServiceAccount still existing with the same uid.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign as signData, verify as verifyData, type KeyObject } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ClusterClient } from '../apiserver/client.js';
import { R } from '../apiserver/client.js';

export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;
/** Clock difference tolerated between the signer and the checker. */
const LEEWAY_SECONDS = 60;
/** Tokens whose signature check is remembered; the set starts afresh when full. */
const VERIFIED_SIGNATURES_MAX = 10_000;

export interface TokenSubject {
  namespace: string;
  serviceAccountName: string;
  /** The ServiceAccount's uid. */
  uid: string;
  /** The pod the token is bound to, if any. */
  pod?: { name: string; uid: string };
  node?: { name: string; uid?: string };
  audiences?: string[];
}

export interface ServiceAccountUser {
  username: string;
  uid: string;
  groups: string[];
  /** The pod (and its node) a bound token names: the token dies with the pod. */
  pod?: { name: string; uid: string };
  node?: { name: string; uid?: string };
  namespace: string;
}

/** Answers the uid of a ServiceAccount, or undefined if it does not exist. */
export type ServiceAccountLookup = (namespace: string, name: string) => { uid?: string } | undefined;

export interface TokenSignerOptions {
  issuer?: string;
  /** Audiences a token must name one of (default: the issuer, like upstream's api-audiences). */
  audiences?: string[];
  lookup?: ServiceAccountLookup;
  now?: () => number;
}

interface Claims {
  iss: string; sub: string; aud: string[]; exp: number; iat: number; nbf: number; jti: string;
  'kubernetes.io': {
    namespace: string;
    serviceaccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
    node?: { name: string; uid?: string };
  };
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

export function serviceAccountLookup(client: ClusterClient): ServiceAccountLookup {
  return (namespace, name) => {
    const sa = client.get(R.serviceaccounts, namespace, name);
    return sa ? { uid: sa.metadata.uid } : undefined;
  };
}

export class TokenSigner {
  private privateKey?: KeyObject;
  private publicKey?: KeyObject;
  private keyId?: string;
  private lookup?: ServiceAccountLookup;
  private readonly verifiedSignatures = new Map<string, Claims>();
  readonly issuer: string;
  private readonly audiences: string[];
  private readonly now: () => number;

  constructor(private readonly keyPath: string, opts: TokenSignerOptions = {}) {
    this.issuer = opts.issuer ?? SERVICE_ACCOUNT_ISSUER;
    this.audiences = opts.audiences ?? [this.issuer];
    this.lookup = opts.lookup;
    this.now = opts.now ?? Date.now;
  }

  get hasLookup(): boolean {
    return this.lookup !== undefined;
  }

  /** Sets how verify() finds ServiceAccounts (the API server gives its client). */
  setLookup(lookup: ServiceAccountLookup): void {
    this.lookup = lookup;
  }

  sign(subject: TokenSubject, ttlSeconds = DEFAULT_TOKEN_TTL_SECONDS): string {
    if (!subject.namespace || !subject.serviceAccountName || !subject.uid) {
      throw new Error('a token needs namespace, serviceAccountName and uid');
    }
    if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) throw new Error(`invalid token lifetime ${ttlSeconds}`);
    this.loadKey();
    const iat = Math.floor(this.now() / 1000);
    const claims: Claims = {
      aud: subject.audiences ?? this.audiences,
      exp: iat + Math.floor(ttlSeconds),
      iat, nbf: iat,
      iss: this.issuer,
      jti: randomUUID(),
      'kubernetes.io': {
        namespace: subject.namespace,
        ...(subject.node ? { node: subject.node } : {}),
        ...(subject.pod ? { pod: subject.pod } : {}),
        serviceaccount: { name: subject.serviceAccountName, uid: subject.uid },
      },
      sub: `system:serviceaccount:${subject.namespace}:${subject.serviceAccountName}`,
    };
    const header = { alg: 'ES256', kid: this.keyId };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = signData('sha256', Buffer.from(signingInput), { key: this.privateKey!, dsaEncoding: 'ieee-p1363' });
    return `${signingInput}.${b64url(signature)}`;
  }

  /** The user a token stands for, or undefined if it is not one of ours or no longer valid. */
  verify(token: string, lookup: ServiceAccountLookup | undefined = this.lookup): ServiceAccountUser | undefined {
    const claims = this.signedClaims(token);
    if (!claims) return undefined;
    if (claims.iss !== this.issuer) return undefined;
    const nowS = Math.floor(this.now() / 1000);
    if (typeof claims.exp !== 'number' || claims.exp + LEEWAY_SECONDS <= nowS) return undefined;
    if (typeof claims.nbf === 'number' && claims.nbf - LEEWAY_SECONDS > nowS) return undefined;
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.some((a) => this.audiences.includes(a))) return undefined;
    const k8s = claims['kubernetes.io'];
    const ns = k8s?.namespace;
    const name = k8s?.serviceaccount?.name;
    const uid = k8s?.serviceaccount?.uid;
    if (!ns || !name || !uid || claims.sub !== `system:serviceaccount:${ns}:${name}`) return undefined;
    // A token outlives nothing: a deleted (or deleted and recreated) account ends it.
    if (!lookup) return undefined;
    const sa = lookup(ns, name);
    if (!sa || sa.uid !== uid) return undefined;
    return {
      username: claims.sub,
      uid,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
      namespace: ns,
      ...(k8s.pod?.name && k8s.pod.uid ? { pod: { name: k8s.pod.name, uid: k8s.pod.uid } } : {}),
      ...(k8s.node?.name ? { node: k8s.node } : {}),
    };
  }

  /**
   * The claims of a token whose signature is ours. The signature check (an ECDSA verify,
   * the costliest step of a request by a service account) is remembered per token, as
   * upstream's cached token authenticator does; everything that can change (expiry, the
   * account and the pod still existing) is checked on every request by verify().
   */
  private signedClaims(token: string): Claims | undefined {
    if (typeof token !== 'string') return undefined;
    const known = this.verifiedSignatures.get(token);
    if (known) return known;
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [h, p, s] = parts as [string, string, string];
    let header: { alg?: string; kid?: string };
    let claims: Claims;
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (header?.alg !== 'ES256' || !claims || typeof claims !== 'object') return undefined;
    this.loadKey();
    if (header.kid !== undefined && header.kid !== this.keyId) return undefined;
    const ok = verifyData('sha256', Buffer.from(`${h}.${p}`), { key: this.publicKey!, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
    if (!ok) return undefined;
    if (this.verifiedSignatures.size >= VERIFIED_SIGNATURES_MAX) this.verifiedSignatures.clear();
    this.verifiedSignatures.set(token, claims);
    return claims;
  }

  /** The public key as a JWK (for an OIDC discovery document). */
  publicJwk(): Record<string, unknown> {
    this.loadKey();
    return { ...this.publicKey!.export({ format: 'jwk' }), kid: this.keyId, use: 'sig', alg: 'ES256' };
  }

  private loadKey(): void {
    if (this.privateKey) return;
    let pem: string;
    try {
      pem = readFileSync(this.keyPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      pem = this.createKeyFile();
    }
    this.privateKey = createPrivateKey(pem);
    if (this.privateKey.asymmetricKeyType !== 'ec') throw new Error(`${this.keyPath}: not an EC private key`);
    this.publicKey = createPublicKey(this.privateKey);
    const der = this.publicKey.export({ format: 'der', type: 'spki' });
    this.keyId = createHash('sha256').update(der).digest('base64url');
  }

  /** Writes a new P-256 key with mode 0600; if another process got there first, uses theirs. */
  private createKeyFile(): string {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    mkdirSync(dirname(this.keyPath), { recursive: true, mode: 0o700 });
    const tmp = `${this.keyPath}.${randomUUID()}.tmp`;
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, pem);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      // link() refuses to replace: if another process created the key meanwhile, use theirs.
      linkSync(tmp, this.keyPath);
      return pem;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return readFileSync(this.keyPath, 'utf8');
    } finally {
      unlinkSync(tmp);
    }
  }
}

// Who may talk to the broker. Node passwords are random per join and kept only hashed
// (node-passwords.ts); nodes that joined when passwords were HMAC-derived have that
// password's hash adopted once at start-up. Joining is gated by kubeadm-style tokens.
// Each identity owns its client ids. Every comparison is constant-time.
import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, rename, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { isValidNodeName } from '../../protocol/mqtt/topics.js';
import { NodePasswords } from './node-passwords.js';
import { MqttUserDirectory } from '../auth/mqtt-users.js';
import { SECURE_TOKEN_PREFIX } from '../../protocol/join-token.js';

export const CONTROLLER_USERNAME = 'pikube-controller';
export const JOIN_USERNAME = 'pikube-join';
/** A joining client's id is `join-<node>`. */
export const JOIN_CLIENT_PREFIX = 'join-';
/** A node's client id is `pikube-agent-<node>`; the controller's start with `pikube-controller`. */
export const AGENT_CLIENT_PREFIX = 'pikube-agent-';
export const CONTROLLER_CLIENT_PREFIX = 'pikube-controller';

/** Whether an identity may use a client id: nobody may take another's, or the controller's. */
export function ownsClientId(identity: BrokerIdentity, clientId: string): boolean {
  switch (identity.role) {
    case 'controller': return true;
    case 'joiner': return clientId === JOIN_CLIENT_PREFIX + identity.node;
    // `pikube-agent-<node>`, or with a `:<suffix>` (never part of a node name) for extra links.
    case 'node': return clientId === AGENT_CLIENT_PREFIX + identity.node || clientId.startsWith(`${AGENT_CLIENT_PREFIX}${identity.node}:`);
    // An MQTT API user (a home-lab automation) may use any id but the cluster's own.
    case 'user': return ![AGENT_CLIENT_PREFIX, CONTROLLER_CLIENT_PREFIX, JOIN_CLIENT_PREFIX].some((p) => clientId.startsWith(p));
  }
}

export const SECRET_FILE = 'mqtt-secret';
export const CONTROLLER_PASSWORD_FILE = 'mqtt-controller-password';
export const JOIN_TOKEN_FILE = 'join-token';
export const JOIN_TOKENS_FILE = 'join-tokens.json';

const TOKEN_PATTERN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;
const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Names a node may not take, because the broker gives them other powers. */
export function isReservedUsername(name: string): boolean {
  return name === CONTROLLER_USERNAME || name === JOIN_USERNAME;
}

/** A node name that may join: a DNS-1123 subdomain that is not one of our own usernames. */
export function isJoinableNodeName(name: string): boolean {
  return isValidNodeName(name) && !isReservedUsername(name);
}

/** Constant-time string equality (hashing first makes lengths equal and hides them). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes a private file atomically (temp + rename), mode 0600. */
export async function writePrivateFile(path: string, content: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, content, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/** Reads a one-line secret file, creating it with `make()` on first use. */
async function loadOrCreate(dataDir: string, name: string, make: () => string, check: (v: string) => boolean): Promise<string> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, name);
  const existing = await readOptional(path);
  if (existing !== undefined) {
    const value = existing.trim();
    if (!check(value)) throw new Error(`${path} is malformed; remove it to have a new one generated`);
    return value;
  }
  const value = make();
  await writePrivateFile(path, value + '\n');
  return value;
}

/** The cluster secret under which node passwords are derived (`<data-dir>/mqtt-secret`). */
export function loadClusterSecret(dataDir: string): Promise<string> {
  return loadOrCreate(dataDir, SECRET_FILE, () => randomBytes(32).toString('hex'), (v) => /^[0-9a-f]{64}$/.test(v));
}

/** The controller's own MQTT password (`<data-dir>/mqtt-controller-password`). */
export function loadControllerPassword(dataDir: string): Promise<string> {
  return loadOrCreate(dataDir, CONTROLLER_PASSWORD_FILE, () => randomBytes(24).toString('base64url'), (v) => v.length >= 16);
}

/** The node's MQTT password: stateless, the same every time for the same secret. */
export function deriveNodePassword(secret: string, node: string): string {
  return createHmac('sha256', secret).update(`pikube-node:${node}`).digest('base64url');
}

export function generateJoinToken(): string {
  const pick = (n: number) => Array.from({ length: n }, () => TOKEN_ALPHABET[randomInt(TOKEN_ALPHABET.length)]).join('');
  return `${pick(6)}.${pick(16)}`;
}

export function isWellFormedJoinToken(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}

/** The long-lived join token (`<data-dir>/join-token`), created on first start. */
export function ensureJoinToken(dataDir: string): Promise<string> {
  return loadOrCreate(dataDir, JOIN_TOKEN_FILE, generateJoinToken, isWellFormedJoinToken);
}

/** A token with a TTL, stored hashed: the plain token is shown once, at creation. */
export interface StoredJoinToken { id: string; sha256: string; expires: string; created: string }

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

async function readTokenFile(dataDir: string): Promise<StoredJoinToken[]> {
  const path = join(dataDir, JOIN_TOKENS_FILE);
  const text = await readOptional(path);
  if (text === undefined) return [];
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not valid JSON`);
  }
  const tokens = (data as { tokens?: unknown }).tokens;
  if (!Array.isArray(tokens)) throw new Error(`${path}: expected {"tokens": [...]}`);
  return tokens.filter((t): t is StoredJoinToken =>
    typeof t === 'object' && t !== null && typeof t.id === 'string' && typeof t.sha256 === 'string'
    && typeof t.expires === 'string' && !Number.isNaN(Date.parse(t.expires)));
}

/** Lists unexpired extra tokens (without their secrets). */
export async function listJoinTokens(dataDir: string, now = Date.now()): Promise<StoredJoinToken[]> {
  return (await readTokenFile(dataDir)).filter((t) => Date.parse(t.expires) > now);
}

/** Creates a join token valid for ttlSeconds; expired tokens are pruned on the way. */
export async function createJoinToken(dataDir: string, ttlSeconds: number): Promise<{ token: string; expires: string }> {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) throw new Error(`token TTL must be a positive number of seconds, got ${ttlSeconds}`);
  await mkdir(dataDir, { recursive: true });
  const now = Date.now();
  const token = generateJoinToken();
  const expires = new Date(now + ttlSeconds * 1000).toISOString();
  const tokens = await listJoinTokens(dataDir, now);
  tokens.push({ id: token.slice(0, 6), sha256: hashToken(token), expires, created: new Date(now).toISOString() });
  await writePrivateFile(join(dataDir, JOIN_TOKENS_FILE), JSON.stringify({ tokens }, null, 2) + '\n');
  return { token, expires };
}

/** True for the long-lived token or an unexpired extra one. Reads the data dir each time, so new tokens work at once. */
export async function isValidJoinToken(dataDir: string, given: string, now = Date.now()): Promise<boolean> {
  if (typeof given !== 'string') return false;
  // Agents send the part after `K10<hash>::`; the whole secure form is accepted too.
  const token = given.startsWith(SECURE_TOKEN_PREFIX) ? given.slice(given.indexOf('::') + 2) : given;
  if (!isWellFormedJoinToken(token)) return false;
  const primary = (await readOptional(join(dataDir, JOIN_TOKEN_FILE)))?.trim();
  let ok = primary !== undefined && safeEqual(primary, token);
  const hash = hashToken(token);
  for (const t of await listJoinTokens(dataDir, now)) {
    // No early exit: every stored token is compared.
    if (safeEqual(t.sha256, hash)) ok = true;
  }
  return ok;
}

/** What an authenticated MQTT client is allowed to be. */
export type BrokerIdentity =
  | { role: 'controller' }
  | { role: 'node'; node: string }
  | { role: 'joiner'; node: string }
  | { role: 'user'; user: string };

/**
 * The credentials the embedded broker checks. Secrets are loaded once; join tokens are
 * read from the data dir on every joiner connect so that freshly created tokens work.
 */
export class BrokerCredentials {
  readonly nodePasswords: NodePasswords;

  readonly users: MqttUserDirectory;

  private constructor(readonly dataDir: string, private readonly controllerPw: string) {
    this.nodePasswords = new NodePasswords(dataDir);
    this.users = new MqttUserDirectory(dataDir);
  }

  /** Loads (or creates on first start) the cluster secret, the controller password and the join token. */
  static async load(dataDir: string): Promise<BrokerCredentials> {
    await loadClusterSecret(dataDir);
    const controllerPw = await loadControllerPassword(dataDir);
    await ensureJoinToken(dataDir);
    return new BrokerCredentials(dataDir, controllerPw);
  }

  get controllerPassword(): string {
    return this.controllerPw;
  }

  /** Gives a node that has not joined a random password (stored hashed), as a join would. */
  provisionNode(node: string): string {
    if (!isJoinableNodeName(node)) throw new Error(`invalid node name: ${JSON.stringify(node)}`);
    const password = this.nodePasswords.issue(node);
    if (!password) throw new Error(`node ${node} already joined`);
    return password;
  }

  /** Who this is, or undefined when the credentials are wrong. */
  async authenticate(username: string | undefined, password: string | undefined, clientId: string): Promise<BrokerIdentity | undefined> {
    if (!username || password === undefined) return undefined;
    if (username === CONTROLLER_USERNAME) {
      return safeEqual(password, this.controllerPw) ? { role: 'controller' } : undefined;
    }
    if (username === JOIN_USERNAME) {
      const node = clientId.startsWith(JOIN_CLIENT_PREFIX) ? clientId.slice(JOIN_CLIENT_PREFIX.length) : '';
      if (!isJoinableNodeName(node)) return undefined;
      return (await isValidJoinToken(this.dataDir, password)) ? { role: 'joiner', node } : undefined;
    }
    // A joined node keeps its name; any other name may be an MQTT API user.
    if (isJoinableNodeName(username) && this.nodePasswords.has(username)) {
      return this.nodePasswords.verify(username, password) ? { role: 'node', node: username } : undefined;
    }
    return this.users.verify(username, password) ? { role: 'user', user: username } : undefined;
  }
}

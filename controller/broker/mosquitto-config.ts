// Running pikube against an external Mosquitto 2.x: the config, the password file (in
// mosquitto's own PBKDF2-SHA512 `$7$` format, written here with node:crypto) and the ACL
// rendered from acl.ts. The password and ACL files and the pid file live in
// `<data-dir>/mosquitto/`, so a join can add a node and make mosquitto reload with only
// the data dir in hand.
import { pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Topics } from '../../protocol/mqtt/topics.js';
import { renderMosquittoAcl } from './acl.js';
import {
  CONTROLLER_USERNAME, JOIN_USERNAME, deriveNodePassword, ensureJoinToken, isJoinableNodeName,
  loadClusterSecret, loadControllerPassword, writePrivateFile,
} from './credentials.js';
import { HOMEASSISTANT_USERNAME } from '../homeassistant/homeassistant-topics.js';
import { parseHostPort } from './embedded-broker.js';
import { previousApiUsers, syncMosquittoApiUsers } from './mosquitto-users.js';
import { mosquittoTlsListener } from './mosquitto-tls.js';

/** Folder (inside the data dir) of the files mosquitto reads. */
export const MOSQUITTO_DIR = 'mosquitto';
export const MOSQUITTO_FILES = { conf: 'mosquitto.conf', passwd: 'passwd', acl: 'acl', pid: 'mosquitto.pid' } as const;

/** mosquitto_passwd's defaults for `$7$` (PBKDF2-SHA512). */
const PBKDF2_ITERATIONS = 101;
const SALT_BYTES = 12;
const HASH_BYTES = 64;

/** One password-file line, `user:$7$<iterations>$<salt b64>$<hash b64>`. */
export function mosquittoPasswordLine(username: string, password: string, opts: { iterations?: number; salt?: Buffer } = {}): string {
  if (!isMosquittoUsername(username)) throw new Error(`invalid mosquitto username: ${JSON.stringify(username)}`);
  return `${username}:${mosquittoPasswordHash(password, opts)}`;
}

/** A name mosquitto's password and ACL files can hold (no `:`, no blanks). */
export function isMosquittoUsername(username: string): boolean {
  return username.length > 0 && !/[:\s]/.test(username);
}

/** The `$7$<iterations>$<salt b64>$<hash b64>` part of a password-file line. */
export function mosquittoPasswordHash(password: string, opts: { iterations?: number; salt?: Buffer } = {}): string {
  const iterations = opts.iterations ?? PBKDF2_ITERATIONS;
  const salt = opts.salt ?? randomBytes(SALT_BYTES);
  const hash = pbkdf2Sync(password, salt, iterations, HASH_BYTES, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Checks a password against one `$7$` line (the inverse of mosquittoPasswordLine). */
export function verifyMosquittoPassword(line: string, password: string): boolean {
  const m = /^[^:]+:\$7\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(line.trim());
  if (!m) return false;
  const expected = Buffer.from(m[3]!, 'base64');
  const actual = pbkdf2Sync(password, Buffer.from(m[2]!, 'base64'), Number(m[1]), expected.length, 'sha512');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export interface MosquittoConfigOptions {
  dataDir: string;
  /** `HOST:PORT` of mosquitto's listener. Default 127.0.0.1:1883. */
  listen?: string;
  /** Where mosquitto.conf goes. Default `<data-dir>/mosquitto`. */
  outDir?: string;
  /** User mosquitto runs as after starting as root. Default: the data dir's owner. */
  runAs?: string;
  /** Nodes to put in the password file now (more are added as they join). */
  nodes?: string[];
  baseTopic?: string;
  /** Add the `home_assistant` user (password in `<data-dir>/mqtt-homeassistant-password`). */
  homeassistant?: boolean;
  /** `HOST:PORT` of a TLS listener for agents (mosquitto-tls.ts); none when absent. */
  tlsListen?: string;
}

export const HOMEASSISTANT_PASSWORD_FILE = 'mqtt-homeassistant-password';

/** Home Assistant's MQTT password, made on first use. */
export async function loadHomeAssistantPassword(dataDir: string): Promise<string> {
  const path = join(resolve(dataDir), HOMEASSISTANT_PASSWORD_FILE);
  try {
    const value = (await readFile(path, 'utf8')).trim();
    if (value.length >= 16) return value;
    throw new Error(`${path} is malformed; remove it to have a new one generated`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const value = randomBytes(24).toString('base64url');
  await writePrivateFile(path, value + '\n');
  return value;
}

export interface MosquittoFiles { conf: string; passwd: string; acl: string; pid: string }

export function mosquittoPaths(dataDir: string, outDir?: string): MosquittoFiles {
  const dir = join(resolve(dataDir), MOSQUITTO_DIR);
  return {
    conf: join(outDir ? resolve(outDir) : dir, MOSQUITTO_FILES.conf),
    passwd: join(dir, MOSQUITTO_FILES.passwd),
    acl: join(dir, MOSQUITTO_FILES.acl),
    pid: join(dir, MOSQUITTO_FILES.pid),
  };
}

/**
 * Mosquitto started as root drops to another user before it writes its pid file, and
 * re-reads the password file as that user on SIGHUP; the controller must also be allowed
 * to signal it. Running it as the data dir's owner satisfies all three.
 */
export async function dataDirOwner(dataDir: string): Promise<string | undefined> {
  const { uid } = await stat(dataDir);
  try {
    const line = (await readFile('/etc/passwd', 'utf8')).split('\n').find((l) => l.split(':')[2] === String(uid));
    return line?.split(':')[0] || undefined;
  } catch {
    return undefined;
  }
}

async function writePrivate(path: string, content: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, content, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

function renderConf(files: MosquittoFiles, listen: string, user: string | undefined): string {
  const { host, port } = parseHostPort(listen);
  return [
    '# Mosquitto configuration for a pikube cluster (generated by `pikube mosquitto-config`).',
    '# Start: mosquitto -c ' + files.conf,
    '# Reload users (done by pikube when a node joins): kill -HUP $(cat ' + files.pid + ')',
    ...(user ? [`user ${user}`] : []),
    'per_listener_settings false',
    `listener ${port} ${host}`,
    'protocol mqtt',
    'allow_anonymous false',
    `password_file ${files.passwd}`,
    `acl_file ${files.acl}`,
    `pid_file ${files.pid}`,
    // Desired state is re-published by the controller; nothing on the SD card.
    'persistence false',
    'max_packet_size 9437184',
    '',
  ].join('\n');
}

/** Nodes that joined keep their (random, hashed) password line; listed new ones get a derived one. */
async function passwordLines(dataDir: string, nodes: readonly string[], existing: Map<string, string>): Promise<Map<string, string>> {
  const secret = await loadClusterSecret(dataDir);
  const lines = new Map<string, string>();
  lines.set(CONTROLLER_USERNAME, mosquittoPasswordLine(CONTROLLER_USERNAME, await loadControllerPassword(dataDir)));
  // Mosquitto holds one password per user: joiners authenticate with the data dir's
  // long-lived join token (TTL tokens only work against the embedded broker).
  lines.set(JOIN_USERNAME, mosquittoPasswordLine(JOIN_USERNAME, await ensureJoinToken(dataDir)));
  for (const node of nodes) lines.set(node, existing.get(node) ?? mosquittoPasswordLine(node, deriveNodePassword(secret, node)));
  return lines;
}

function checkNodes(nodes: readonly string[]): void {
  for (const n of nodes) if (!isJoinableNodeName(n)) throw new Error(`invalid node name: ${JSON.stringify(n)} (must be a DNS-1123 subdomain)`);
}

/** Writes mosquitto.conf, the password file and the ACL; returns their paths. */
export async function writeMosquittoConfig(opts: MosquittoConfigOptions): Promise<MosquittoFiles> {
  const nodes = opts.nodes ?? [];
  checkNodes(nodes);
  const listen = opts.listen ?? '127.0.0.1:1883';
  parseHostPort(listen);
  const topics = new Topics(opts.baseTopic);
  const files = mosquittoPaths(opts.dataDir, opts.outDir);
  const dir = join(resolve(opts.dataDir), MOSQUITTO_DIR);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const user = opts.runAs ?? await dataDirOwner(opts.dataDir);
  if (user !== undefined && !/^[a-z_][a-z0-9_-]*\$?$/i.test(user)) throw new Error(`invalid user name: ${JSON.stringify(user)}`);
  if (opts.outDir) await mkdir(resolve(opts.outDir), { recursive: true });

  // Keep nodes that already joined (the MQTT API users are written after them).
  const existing = await readPasswordFile(files.passwd);
  for (const name of await previousApiUsers(opts.dataDir)) existing.delete(name);
  const lines = await passwordLines(opts.dataDir, [...new Set([...existing.keys(), ...nodes])].filter(isJoinableNodeName), existing);
  // Home Assistant's user stays once added.
  if (opts.homeassistant || existing.has(HOMEASSISTANT_USERNAME)) {
    lines.set(HOMEASSISTANT_USERNAME, mosquittoPasswordLine(HOMEASSISTANT_USERNAME, await loadHomeAssistantPassword(opts.dataDir)));
  }
  await writePrivate(files.passwd, [...lines.values()].join('\n') + '\n');
  await writePrivate(files.acl, renderMosquittoAcl(topics));
  const tls = opts.tlsListen ? await mosquittoTlsListener(opts.dataDir, opts.tlsListen) : '';
  await writeFile(files.conf, renderConf(files, listen, user) + tls, { mode: 0o644 });
  await syncMosquittoApiUsers(opts.dataDir, topics);
  return files;
}

export async function readPasswordFile(path: string): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return map;
    throw err;
  }
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) map.set(line.slice(0, i), line.trim());
  }
  return map;
}

// Joins and user changes each rewrite the password file: one read-modify-write at a time.
let chain: Promise<unknown> = Promise.resolve();

/** Runs a change to mosquitto's files after every earlier one in this process. */
export function serializedMosquittoChange<T>(run: () => Promise<T>): Promise<T> {
  const result = chain.then(run, run);
  chain = result.catch(() => undefined);
  return result;
}

/**
 * Adds (or refreshes) a node in the password file and makes a running mosquitto reload
 * it (SIGHUP to the pid in the pid file). Resolves after a short pause so that the new
 * credentials work by the time the caller hands them out.
 */
export function addNodeToMosquitto(dataDir: string, node: string, password: string): Promise<void> {
  const run = async () => {
    checkNodes([node]);
    const files = mosquittoPaths(dataDir);
    const lines = await readPasswordFile(files.passwd);
    if (lines.size === 0) throw new Error(`${files.passwd} is missing; run \`pikube mosquitto-config --data-dir ${dataDir}\` first`);
    const current = lines.get(node);
    if (current && verifyMosquittoPassword(current, password)) return;
    lines.set(node, mosquittoPasswordLine(node, password));
    await writePrivate(files.passwd, [...lines.values()].join('\n') + '\n');
    await reloadMosquitto(files.pid);
  };
  return serializedMosquittoChange(run);
}

/** SIGHUP to the pid in the pid file; mosquitto re-reads its password and ACL files. */
export async function reloadMosquitto(pidFile: string): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).trim());
  } catch {
    throw new Error(`cannot read ${pidFile}: is mosquitto running with this configuration?`);
  }
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`${pidFile} does not hold a process id`);
  process.kill(pid, 'SIGHUP');
  await new Promise((r) => setTimeout(r, 300));
}

// MQTT API users (`pikube user add NAME --mqtt`) on an external Mosquitto: their `$7$`
// password lines and their ACL blocks, kept in step with users.json. The controller runs
// the sync every second and makes mosquitto reload (SIGHUP) when something changed;
// mosquitto then re-checks every connected client, so a revoked or expired user is
// disconnected and refused from then on.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Topics } from '../../protocol/mqtt/topics.js';
import { readUsers } from '../auth/user-certificates.js';
import type { ControlLoop } from '../client/control-loop.js';
import { HOMEASSISTANT_USERNAME } from '../homeassistant/homeassistant-topics.js';
import { renderMosquittoAcl } from './acl.js';
import { isReservedUsername, writePrivateFile } from './credentials.js';
import {
  MOSQUITTO_DIR, isMosquittoUsername, mosquittoPaths, readPasswordFile, reloadMosquitto, serializedMosquittoChange,
} from './mosquitto-config.js';
import { NodePasswords } from './node-passwords.js';

/** Names of the users last written to the password file, one a line (so a revoked one can be taken out). */
export const API_USERS_FILE = 'api-users';

/**
 * Every level directly under `<base>/v1/` the cluster uses, besides `api`. A user's ACL
 * block denies each of them (see renderApiUserAcl).
 */
export const CLUSTER_LEVELS = ['nodes', 'cluster', 'join', 'homeassistant'] as const;

export interface MosquittoApiUsers {
  /** Name and `$7$` hash of each user mosquitto should let in. */
  users: { name: string; hash: string }[];
  /** MQTT users whose record has no `$7$` hash (made before it was stored): left out. */
  unhashed: string[];
}

/** The MQTT API users of users.json that mosquitto can check: unexpired, with a `$7$` hash. */
export function mosquittoApiUsers(dataDir: string, now = Date.now()): MosquittoApiUsers {
  const out: MosquittoApiUsers = { users: [], unhashed: [] };
  const joined = new NodePasswords(dataDir);
  for (const [name, rec] of Object.entries(readUsers(dataDir).users).sort(([a], [b]) => a.localeCompare(b))) {
    if (!rec.mqttPassword) continue;
    if (rec.expires && Date.parse(rec.expires) <= now) continue;
    // The cluster's own usernames, and joined nodes, keep theirs (as on the embedded broker).
    if (isReservedUsername(name) || name === HOMEASSISTANT_USERNAME || joined.has(name) || !isMosquittoUsername(name)) continue;
    if (rec.mosquittoPassword?.startsWith('$7$')) out.users.push({ name, hash: rec.mosquittoPassword });
    else out.unhashed.push(name);
  }
  return out;
}

/**
 * The acl_file blocks for MQTT API users: as on the embedded broker, each may read and
 * write the home lab's topics, and under the cluster's base topic only publish its own
 * requests and read its own answers. Mosquitto checks a user's `deny` lines before its
 * grants, and a grant of `#` covers everything, so the cluster's topics are denied by name:
 * the levels the cluster uses, the base's own short topics, and every other user's request
 * and response topics. (Own topics are open both ways; that lets a user only talk to itself.)
 */
export function renderApiUserAcl(topics: Topics, users: readonly string[]): string {
  const { base, root } = topics;
  const lines = ['# MQTT API users (pikube user add NAME --mqtt).'];
  for (const user of users) {
    lines.push(
      '',
      `user ${user}`,
      `topic write ${root}/api/request/${user}`,
      `topic read ${root}/api/response/${user}/#`,
      `topic deny ${base}`,
      `topic deny ${base}/+`,
      `topic deny ${root}/+`,
      `topic deny ${root}/api/+`,
      ...CLUSTER_LEVELS.map((l) => `topic deny ${root}/${l}/#`),
      ...users.filter((other) => other !== user).flatMap((other) => [`topic deny ${root}/api/request/${other}`, `topic deny ${root}/api/response/${other}/#`]),
      'topic readwrite #',
    );
  }
  return lines.join('\n') + '\n';
}

/**
 * The users the last sync wrote (empty before the first), less any that has since joined
 * as a node: that line is the node's now.
 */
export async function previousApiUsers(dataDir: string): Promise<string[]> {
  try {
    const joined = new NodePasswords(dataDir);
    return (await readFile(join(resolve(dataDir), MOSQUITTO_DIR, API_USERS_FILE), 'utf8')).split('\n').filter((n) => n && !joined.has(n));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function readOptional(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

export interface ApiUserSyncResult { changed: boolean; users: string[]; added: string[]; removed: string[]; unhashed: string[] }

/**
 * Rewrites the password file's user lines and the ACL from users.json; the other lines
 * (controller, joiners, nodes, Home Assistant) stay. Writes nothing when both files are
 * current. Does not signal mosquitto.
 */
export async function syncMosquittoApiUsers(dataDir: string, topics: Topics): Promise<ApiUserSyncResult> {
  const files = mosquittoPaths(dataDir);
  const lines = await readPasswordFile(files.passwd);
  if (lines.size === 0) throw new Error(`${files.passwd} is missing; run \`pikube mosquitto-config --data-dir ${dataDir}\` first`);
  const before = await previousApiUsers(dataDir);
  const { users, unhashed } = mosquittoApiUsers(dataDir);
  const names = users.map((u) => u.name);
  for (const name of before) lines.delete(name);
  for (const u of users) lines.set(u.name, `${u.name}:${u.hash}`);
  const passwd = [...lines.values()].join('\n') + '\n';
  const acl = renderMosquittoAcl(topics) + '\n' + renderApiUserAcl(topics, names);
  const changed = passwd !== await readOptional(files.passwd) || acl !== await readOptional(files.acl);
  if (changed) {
    await writePrivateFile(files.passwd, passwd);
    await writePrivateFile(files.acl, acl);
  }
  if (changed || before.join('\n') !== names.join('\n')) {
    await writePrivateFile(join(resolve(dataDir), MOSQUITTO_DIR, API_USERS_FILE), names.map((n) => `${n}\n`).join(''));
  }
  return { changed, users: names, added: names.filter((n) => !before.includes(n)), removed: before.filter((n) => !names.includes(n)), unhashed };
}

interface SyncLog { info(o: object, m: string): void; warn(o: object, m: string): void }

/**
 * Keeps mosquitto's users current while the controller runs against it: users added,
 * revoked or expired are in mosquitto's files, and mosquitto reloaded, within a second
 * or so. Started at once; the first sync is done when this resolves.
 */
export async function startMosquittoApiUserSync(opts: { dataDir: string; topics: Topics; log: SyncLog; intervalMs?: number }): Promise<ControlLoop> {
  const warned = new Set<string>();
  const once = () => serializedMosquittoChange(async () => {
    const r = await syncMosquittoApiUsers(opts.dataDir, opts.topics);
    for (const name of r.unhashed) {
      if (warned.has(name)) continue;
      warned.add(name);
      opts.log.warn({ user: name }, `MQTT user ${name} has no mosquitto password yet: give it a new one with pikube user add ${name} --mqtt`);
    }
    if (!r.changed) return;
    await reloadMosquitto(mosquittoPaths(opts.dataDir).pid);
    opts.log.info({ added: r.added, removed: r.removed, users: r.users.length }, 'mosquitto reloaded: MQTT API users changed');
  });
  await once().catch((err: Error) => opts.log.warn({ err: err.message }, 'mosquitto user sync failed'));
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    once().catch((err: Error) => opts.log.warn({ err: err.message }, 'mosquitto user sync failed')).finally(() => { running = false; });
  }, opts.intervalMs ?? 1000);
  timer.unref();
  return { name: 'mosquitto-api-users', start() {}, stop: () => clearInterval(timer) };
}

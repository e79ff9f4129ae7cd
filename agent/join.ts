// How an agent gets its MQTT credentials: once, by joining with a token; afterwards from
// `<dataDir>/credentials.json` (0600), so a reboot needs neither the token nor the controller.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MqttLink } from '../protocol/mqtt/link.js';
import { Topics, isValidNodeName } from '../protocol/mqtt/topics.js';
import { PayloadError, parseJoinResponse } from '../protocol/mqtt/validate.js';
import type { JoinRequest } from '../protocol/mqtt/payloads.js';
import { readCheckedJson, sealJson, writeFileAtomically } from './checked-json.js';

export const CREDENTIALS_FILE = 'credentials.json';
/** Username and client-id prefix the broker knows joining clients by. */
export const JOIN_USERNAME = 'pikube-join';
export const JOIN_CLIENT_PREFIX = 'join-';

export interface NodeCredentials { username: string; password: string }

export interface ObtainCredentialsOptions {
  mqttUrl: string;
  nodeName: string;
  /** Needed only when there are no saved credentials yet. */
  joinToken?: string;
  dataDir: string;
  baseTopic?: string;
  /** CA (PEM) for mqtts:// */
  ca?: string | Buffer;
  /** How long to wait for the controller's answer. Default 30 s. */
  timeoutMs?: number;
}

export class JoinError extends Error {
  override readonly name = 'JoinError';
}

/** Saved credentials for this node, or undefined when absent or not for this node. */
export async function loadSavedCredentials(dataDir: string, nodeName: string): Promise<NodeCredentials | undefined> {
  let data: Partial<NodeCredentials> | undefined;
  try {
    data = (await readCheckedJson(join(dataDir, CREDENTIALS_FILE))) as Partial<NodeCredentials> | undefined;
  } catch (err) {
    // A damaged file (now set aside) is as good as none: join again.
    if ((err as Error).name === 'DamagedFile') {
      process.emitWarning((err as Error).message, { code: 'PIKUBE_DAMAGED_FILE' });
      return undefined;
    }
    throw err;
  }
  if (data?.username === nodeName && typeof data.password === 'string' && data.password.length > 0) {
    return { username: data.username, password: data.password };
  }
  return undefined;
}

export async function saveCredentials(dataDir: string, creds: NodeCredentials): Promise<void> {
  await writeFileAtomically(join(dataDir, CREDENTIALS_FILE), sealJson({ username: creds.username, password: creds.password }) + '\n', 0o600);
}

/** Drops saved credentials (e.g. after the broker refused them), so the next start joins again. */
export async function forgetCredentials(dataDir: string): Promise<void> {
  await rm(join(dataDir, CREDENTIALS_FILE), { force: true });
}

/** Saved credentials if present; otherwise joins with the token and saves what it gets. */
export async function obtainCredentials(opts: ObtainCredentialsOptions): Promise<NodeCredentials> {
  if (!isValidNodeName(opts.nodeName)) {
    throw new JoinError(`invalid node name ${JSON.stringify(opts.nodeName)}: must be a DNS-1123 subdomain (lower case letters, digits, '-', '.')`);
  }
  const saved = await loadSavedCredentials(opts.dataDir, opts.nodeName);
  if (saved) return saved;
  if (!opts.joinToken) throw new JoinError(`no saved MQTT credentials in ${opts.dataDir} and no join token given`);
  const creds = await requestCredentials({ ...opts, joinToken: opts.joinToken });
  await saveCredentials(opts.dataDir, creds);
  return creds;
}

async function requestCredentials(opts: ObtainCredentialsOptions & { joinToken: string }): Promise<NodeCredentials> {
  const topics = new Topics(opts.baseTopic);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  const link = new MqttLink({
    url: opts.mqttUrl,
    clientId: JOIN_CLIENT_PREFIX + opts.nodeName,
    username: JOIN_USERNAME,
    password: opts.joinToken,
    ca: opts.ca,
    keepaliveSeconds: 30,
  });
  try {
    await link.start({ timeoutMs }).catch((err: Error) => {
      throw new JoinError(err.name === 'MqttRefusedError'
        ? `the broker at ${opts.mqttUrl} refused the join token (${err.message})`
        : `cannot reach the broker at ${opts.mqttUrl}: ${err.message}`);
    });
    const nonce = randomBytes(16).toString('hex');
    const answer = new Promise<NodeCredentials>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new JoinError(`no answer to the join request within ${timeoutMs} ms: is the controller running?`)),
        Math.max(0, deadline - Date.now()),
      );
      link.subscribe(topics.joinResponse(opts.nodeName), (_topic, payload) => {
        let res;
        try {
          res = parseJoinResponse(payload);
        } catch (err) {
          if (err instanceof PayloadError) return; // not for us, or garbage: keep waiting
          throw err;
        }
        if (res.nonce !== nonce) return;
        clearTimeout(timer);
        if (res.ok && res.username && res.password) resolve({ username: res.username, password: res.password });
        else reject(new JoinError(`the controller refused the join: ${res.error ?? 'no reason given'}`));
      }).then(
        () => link.publish(topics.joinRequest(opts.nodeName), { token: opts.joinToken, nonce } satisfies JoinRequest, { qos: 1, retain: false }),
      ).catch((err: Error) => {
        clearTimeout(timer);
        reject(new JoinError(`join request failed: ${err.message}`));
      });
    });
    return await answer;
  } finally {
    await link.end().catch(() => undefined);
  }
}

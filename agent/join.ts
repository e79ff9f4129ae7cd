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
import { JoinTokenFormatError, caCertHash, parseJoinToken } from '../protocol/join-token.js';
import { CaMismatchError, fetchPinnedCa, isPlaintextOffHost, loadSavedCa, saveCa } from './cluster-ca.js';
import { splitUrls } from '../protocol/mqtt/link.js';

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
  /** CA (PEM) for mqtts:// given by the operator; otherwise the saved one or the token's. */
  ca?: string | Buffer;
  /** Allows sending the join token over plaintext MQTT to another host. */
  insecure?: boolean;
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
  let token;
  try {
    token = opts.joinToken ? parseJoinToken(opts.joinToken) : undefined;
  } catch (err) {
    if (err instanceof JoinTokenFormatError) throw new JoinError(err.message);
    throw err;
  }
  const ca = await clusterCa(opts, token?.caHash);
  const saved = await loadSavedCredentials(opts.dataDir, opts.nodeName);
  if (saved) return saved;
  if (!token) throw new JoinError(`no saved MQTT credentials in ${opts.dataDir} and no join token given`);
  const clear = splitUrls(opts.mqttUrl).filter(isPlaintextOffHost);
  if (clear.length > 0 && !opts.insecure) {
    throw new JoinError(`refusing to send the join token in plaintext to ${clear.join(', ')}: use mqtts://HOST:8883 (the controller's TLS listener), or --mqtt-insecure to allow it`);
  }
  const creds = await requestCredentials({ ...opts, joinToken: token.credentials, ...(ca ? { ca } : {}) });
  await saveCredentials(opts.dataDir, creds);
  return creds;
}

/**
 * The CA to verify mqtts:// with: the operator's (checked against the token's hash), the
 * saved one, or, with a `K10<hash>::` token, the one the broker presents if it matches.
 */
async function clusterCa(opts: ObtainCredentialsOptions, caHash: string | undefined): Promise<string | Buffer | undefined> {
  if (opts.ca) {
    if (caHash && caCertHash(opts.ca) !== caHash) throw new JoinError('the CA given with --mqtt-ca is not the one the join token names: refusing to join');
    return opts.ca;
  }
  const saved = await loadSavedCa(opts.dataDir);
  if (saved && (!caHash || caCertHash(saved) === caHash)) return saved;
  if (!caHash || !splitUrls(opts.mqttUrl).some((u) => u.startsWith('mqtts://'))) return saved;
  let pem: string;
  try {
    pem = await fetchPinnedCa(opts.mqttUrl, caHash, opts.timeoutMs ?? 10_000);
  } catch (err) {
    if (err instanceof CaMismatchError) throw new JoinError(err.message);
    throw new JoinError((err as Error).message);
  }
  await saveCa(opts.dataDir, pem);
  return pem;
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
  // A TLS failure shows only as an error event while the link retries: keep it for the message.
  let lastError: Error | undefined;
  link.on('error', (err) => { lastError = err; });
  try {
    await link.start({ timeoutMs }).catch((err: Error) => {
      if (err.name === 'MqttRefusedError') throw new JoinError(`the broker at ${opts.mqttUrl} refused the join token (${err.message})`);
      const why = lastError?.message ?? err.message;
      const hint = /certificate/i.test(why) && !opts.ca ? ' (use the K10… join token `pikube token create` prints, which names the cluster CA, or give --mqtt-ca FILE)' : '';
      throw new JoinError(`cannot reach the broker at ${opts.mqttUrl}: ${why}${hint}`);
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

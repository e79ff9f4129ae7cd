// Joining a controller to a managed etcd cluster (`pikube controller --join
// https://FIRST:6443 --token TOKEN`): the newcomer proves it knows the token (an HMAC,
// the token itself never crosses the wire), the controller it asks adds it as an etcd
// member and answers with the cluster's secrets and the member list, sealed with the
// token — so a joiner that could not check the server's certificate yet still knows the
// answer came from the cluster. Follows k3s's server join (pkg/cluster/managed.go).
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SelfAuthenticatingRoute } from '../apiserver/http/server.js';
import { JOIN_TOKEN_FILE, safeEqual } from '../broker/credentials.js';
import { assertTokenCa, pinnedCaFromChain, presentedChain } from '../../protocol/pinned-ca.js';
import { SHARED_FILES, seal, unseal } from './shared-secrets.js';
import type { ManagedEtcd } from './managed-etcd.js';

export const JOIN_PATH = '/pikube/v1/cluster/join';

interface JoinRequestBody { name: string; peerUrl: string; nonce: string; proof: string }
export interface JoinAnswer { files: Record<string, string>; initialCluster: string; clientUrls: string[] }

const proofOf = (token: string, b: Omit<JoinRequestBody, 'proof'>) => createHmac('sha256', token).update(`${b.name}|${b.peerUrl}|${b.nonce}`).digest('hex');

function send(res: ServerResponse, code: number, body: object): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 64 * 1024) throw new Error('request too large');
  }
  return text;
}

export function joinRoute(dataDir: string, etcd: ManagedEtcd): SelfAuthenticatingRoute {
  return (req, res, url) => {
    if (url.pathname !== JOIN_PATH || req.method !== 'POST') return false;
    void (async () => {
      let body: JoinRequestBody;
      try {
        body = JSON.parse(await readBody(req)) as JoinRequestBody;
      } catch {
        return send(res, 400, { error: 'expected a JSON body' });
      }
      if (typeof body?.name !== 'string' || !/^[a-z0-9][-a-z0-9.]{0,62}$/.test(body.name) || typeof body.peerUrl !== 'string'
        || !/^https:\/\/[^/]+:\d+$/.test(body.peerUrl) || typeof body.nonce !== 'string' || typeof body.proof !== 'string') {
        return send(res, 400, { error: 'name (a DNS label), peerUrl (https://HOST:PORT), nonce and proof are required' });
      }
      const token = readFileSync(join(dataDir, JOIN_TOKEN_FILE), 'utf8').trim();
      if (!safeEqual(proofOf(token, body), body.proof)) return send(res, 401, { error: 'the token does not match this cluster' });
      try {
        const members = await etcd.addMember(body.name, body.peerUrl);
        const files: Record<string, string> = {};
        for (const f of SHARED_FILES) files[f] = readFileSync(join(dataDir, f), 'utf8');
        send(res, 200, { sealed: seal({ answer: JSON.stringify({ files, ...members } satisfies JoinAnswer) }, token) });
      } catch (err) {
        send(res, 503, { error: `could not add the etcd member: ${(err as Error).message}` });
      }
    })();
    return true;
  };
}

/**
 * Asks the controller at `server` (https://HOST:PORT) to add us; resolves with the sealed
 * answer opened. etcd refuses a member while an earlier one has not started yet ("unhealthy
 * cluster": the next add could cost quorum), so a 503 is asked again for a while: Pis that
 * join together get in one after the other.
 *
 * With `caHash` (a K10… token) the server's certificate is checked first, against the CA
 * its chain presents under that hash, before anything is asked of it: a wrong address or
 * another cluster never gets an etcd member added for us.
 */
export async function requestJoin(server: string, token: string, name: string, peerUrl: string, opts: { caHash?: string; patienceMs?: number } = {}): Promise<JoinAnswer> {
  const end = Date.now() + (opts.patienceMs ?? 60_000);
  let ca: string | undefined;
  if (opts.caHash) {
    const u = new URL(server);
    ca = pinnedCaFromChain(await presentedChain(u.hostname, Number(u.port) || 443, 10_000), opts.caHash, `the controller at ${server}`);
  }
  for (;;) {
    try {
      const answer = await requestJoinOnce(server, token, name, peerUrl, ca);
      if (opts.caHash) assertTokenCa(answer.files['pki/ca.crt'] ?? '', opts.caHash, `the cluster at ${server}`);
      return answer;
    } catch (err) {
      if (!(err instanceof JoinUnavailable) || Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

class JoinUnavailable extends Error {}

async function requestJoinOnce(server: string, token: string, name: string, peerUrl: string, ca: string | undefined): Promise<JoinAnswer> {
  const nonce = randomBytes(16).toString('hex');
  const payload = JSON.stringify({ name, peerUrl, nonce, proof: proofOf(token, { name, peerUrl, nonce }) });
  const u = new URL(JOIN_PATH, server);
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    // Without a CA hash the server's certificate cannot be checked before we hold the CA:
    // the sealed answer is what proves it is the cluster's.
    const tls = ca ? { ca, rejectUnauthorized: true } : { rejectUnauthorized: false };
    const req = request(u, { method: 'POST', ...tls, headers: { 'content-type': 'application/json' }, timeout: 30_000 }, (res) => {
      let t = '';
      res.on('data', (c) => (t += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: t }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end(payload);
  });
  let body: { sealed?: string; error?: string };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`${server} did not answer the join (${status})`);
  }
  if (status === 503) throw new JoinUnavailable(`${server} refused the join: ${body.error ?? status}`);
  if (status !== 200 || !body.sealed) throw new Error(`${server} refused the join: ${body.error ?? status}`);
  return JSON.parse(unseal(body.sealed, token).answer!) as JoinAnswer;
}

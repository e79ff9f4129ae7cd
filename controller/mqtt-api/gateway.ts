// The Kubernetes API over MQTT: requests on `<base>/v1/api/request/<user>`, answers on
// `<base>/v1/api/response/<user>/<id>`. The broker lets only <user> publish on its request
// topic and read its response topics, so the topic names the caller; the gateway then
// replays the request against the HTTPS API as that user, and the answer carries the same
// code and Status an HTTP client would get.
import { Agent, request, type RequestOptions } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { ApiRequest, ApiResponse } from '../../protocol/mqtt/payloads.js';
import type { MessageLink } from '../../protocol/mqtt/link.js';
import type { Topics } from '../../protocol/mqtt/topics.js';
import { apiRequestIdOf, parseApiRequest, PayloadError } from '../../protocol/mqtt/validate.js';
import { httpCallFor, type HttpCall } from './http-call.js';
import { RateLimiter } from './rate-limit.js';
import type { TokenUser, UserTokens } from './user-tokens.js';

export interface GatewayLimits {
  /** Requests per second per user, and the burst above it. */
  perSecond: number;
  burst: number;
  /** Open watches per user. */
  watches: number;
}

export const DEFAULT_GATEWAY_LIMITS: GatewayLimits = { perSecond: 20, burst: 40, watches: 8 };

export interface MqttApiGatewayOptions {
  link: Pick<MessageLink, 'subscribe' | 'publish'>;
  topics: Topics;
  /** The controller's own HTTPS API, e.g. https://127.0.0.1:6443, and its CA. */
  apiUrl: string;
  ca: string;
  /** Who an MQTT user is (name and groups); undefined when the name is no MQTT user. */
  identify: (user: string) => TokenUser | undefined;
  /** Mints the in-process tokens the requests carry. */
  tokens: UserTokens;
  limits?: GatewayLimits;
  log: { info: (o: object, m: string) => void; warn: (o: object, m: string) => void };
}

const status = (code: number, reason: string, message: string, details?: object) =>
  ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code, ...(details ? { details } : {}) });

export class MqttApiGateway {
  private readonly agent: Agent;
  private readonly limiter: RateLimiter;
  private readonly limits: GatewayLimits;
  /** Open watches by user, then request id. */
  private readonly watches = new Map<string, Map<string, () => void>>();
  private unsubscribe?: () => Promise<void>;
  /** Requests answered, by outcome, for metrics. */
  readonly counts = { answered: 0, refused: 0 };

  constructor(private readonly opts: MqttApiGatewayOptions) {
    this.agent = new Agent({ keepAlive: true, maxSockets: 16, ca: opts.ca });
    this.limits = opts.limits ?? DEFAULT_GATEWAY_LIMITS;
    this.limiter = new RateLimiter(this.limits.perSecond, this.limits.burst);
  }

  async start(): Promise<void> {
    this.unsubscribe = await this.opts.link.subscribe(this.opts.topics.allApiRequests(), (topic, buf, info) => {
      const parsed = this.opts.topics.parse(topic);
      if (parsed?.kind !== 'api-request') return;
      // A stored request is replayed on every (re)subscription, and who stored it is not
      // known then (perhaps before the user existed): never carried out, and cleared.
      if (info?.retain) {
        if (buf.length === 0) return;
        this.opts.log.warn({ user: parsed.user }, 'dropped a retained MQTT API request (requests must not be retained)');
        void this.opts.link.publish(topic, '', { retain: true, qos: 1 }).catch(() => false);
        return;
      }
      void this.handle(parsed.user, buf).catch((err) => this.opts.log.warn({ user: parsed.user, err: String(err) }, 'MQTT API request failed'));
    });
  }

  async stop(): Promise<void> {
    for (const byId of this.watches.values()) for (const cancel of byId.values()) cancel();
    this.watches.clear();
    await this.unsubscribe?.().catch(() => undefined);
    this.agent.destroy();
  }

  /** Users with open watches. */
  usersWithWatches(): string[] {
    return [...this.watches.keys()];
  }

  /** Ends every open watch of a user (revoked or expired); returns how many. */
  cancelWatches(user: string): number {
    const open = this.watches.get(user);
    if (!open) return 0;
    const cancels = [...open.values()];
    for (const cancel of cancels) cancel();
    this.watches.delete(user);
    return cancels.length;
  }

  private answer(user: string, answer: ApiResponse): Promise<boolean> {
    if (answer.code >= 400) this.counts.refused++;
    else this.counts.answered++;
    return this.opts.link.publish(this.opts.topics.apiResponse(user, answer.id), answer, { qos: 1 }).catch(() => false);
  }

  private async handle(user: string, buf: Buffer): Promise<void> {
    let req: ApiRequest;
    try {
      req = parseApiRequest(buf);
    } catch (err) {
      const id = apiRequestIdOf(buf);
      const message = err instanceof PayloadError ? err.message : String(err);
      this.opts.log.warn({ user, err: message }, 'dropped a malformed MQTT API request');
      if (id) await this.answer(user, { id, code: 400, status: status(400, 'BadRequest', message) });
      return;
    }
    if (!this.limiter.take(user)) {
      await this.answer(user, { id: req.id, code: 429, status: status(429, 'TooManyRequests', `too many requests from ${user}: at most ${this.limits.perSecond} a second`, { retryAfterSeconds: 1 }) });
      return;
    }
    const identity = this.opts.identify(user);
    if (!identity) {
      await this.answer(user, { id: req.id, code: 401, status: status(401, 'Unauthorized', `${user} is not an MQTT API user`) });
      return;
    }
    const token = this.opts.tokens.tokenFor(identity);
    if (req.verb === 'cancel') {
      const cancel = this.watches.get(user)?.get(req.id);
      cancel?.();
      await this.answer(user, { id: req.id, code: cancel ? 200 : 404, ...(cancel ? { done: true } : { status: status(404, 'NotFound', `no open watch with id ${req.id}`) }) });
      return;
    }
    const call = httpCallFor(req);
    if (call.stream) return this.watch(user, req.id, call, token);
    await this.answer(user, await this.call(req.id, call, token));
  }

  /**
   * Runs one request (not a watch) as `user` and gives the answer the HTTP API gave: what
   * Home Assistant's buttons and numbers use, under the identity given to them.
   */
  async execute(identity: TokenUser, req: ApiRequest): Promise<ApiResponse> {
    return this.call(req.id, httpCallFor(req), this.opts.tokens.tokenFor(identity));
  }

  private async call(id: string, call: HttpCall, token: string): Promise<ApiResponse> {
    const res = await this.send(call, token);
    const body = await readBody(res);
    let parsed: unknown = body;
    try { parsed = JSON.parse(body); } catch { /* not JSON: keep the text */ }
    const code = res.statusCode ?? 500;
    return code < 400 ? { id, code, object: parsed } : { id, code, status: parsed };
  }

  private send(call: HttpCall, token: string): Promise<IncomingMessage> {
    const url = new URL(call.path, this.opts.apiUrl);
    const body = call.body !== undefined ? Buffer.from(call.body) : undefined;
    const options: RequestOptions = {
      host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: call.method, agent: this.agent,
      headers: {
        Accept: 'application/json', Authorization: `Bearer ${token}`, 'User-Agent': 'pikube-mqtt-api',
        ...(body ? { 'Content-Type': call.contentType!, 'Content-Length': body.length } : {}),
      },
    };
    return new Promise((resolve, reject) => {
      const req = request(options, resolve);
      req.on('error', reject);
      req.end(body);
    });
  }

  private async watch(user: string, id: string, call: HttpCall, token: string): Promise<void> {
    const open = this.watches.get(user) ?? new Map<string, () => void>();
    if (open.has(id) || open.size >= this.limits.watches) {
      const message = open.has(id) ? `a watch with id ${id} is already open` : `at most ${this.limits.watches} open watches per user`;
      await this.answer(user, { id, code: open.has(id) ? 409 : 429, status: status(open.has(id) ? 409 : 429, open.has(id) ? 'AlreadyExists' : 'TooManyRequests', message) });
      return;
    }
    const res = await this.send(call, token);
    if (res.statusCode !== 200) {
      const body = await readBody(res);
      let parsed: unknown = body;
      try { parsed = JSON.parse(body); } catch { /* keep text */ }
      await this.answer(user, { id, code: res.statusCode ?? 500, status: parsed });
      return;
    }
    this.watches.set(user, open);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      open.delete(id);
      if (open.size === 0 && this.watches.get(user) === open) this.watches.delete(user);
      res.destroy();
    };
    open.set(id, end);
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (!line) continue;
        try {
          const event = JSON.parse(line) as { type: string; object: unknown };
          void this.answer(user, { id, code: 200, event });
        } catch {
          this.opts.log.warn({ user, id }, 'unreadable watch event dropped');
        }
      }
    });
    res.on('end', () => { if (!ended) { end(); void this.answer(user, { id, code: 200, done: true }); } });
    res.on('error', () => end());
  }
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

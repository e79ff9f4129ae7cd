// The HTTPS front of the API server: authentication, the non-resource endpoints
// (health, version, discovery, OpenAPI) and dispatch to resource routes.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { ApiCore } from '../api-core.js';
import { ApiError, notFound, unauthorized } from '../errors.js';
import { servedResources } from '../resources.js';
import { openapiV3Document, openapiV3Index, type ServedKind } from '../openapi.js';
import { openapiV2 } from '../openapi-v2.js';
import { aggregatedDiscovery, AGGREGATED_CONTENT_TYPE, apiGroup, apiGroupList, apiResourceList, apiVersions } from './discovery.js';
import { parseResourcePath, serveResource, type PodStreams, type TokenIssuer } from './resource-routes.js';
import { sendError, sendJson } from './respond.js';

export interface UserInfo { username: string; uid?: string; groups: string[]; extra?: Record<string, string[]> }

export type Authenticator = (token: string) => UserInfo | undefined;

/** Extra endpoints (metrics, the status page) mounted by the controller. */
export type ExtraRoute = (req: IncomingMessage, res: ServerResponse, url: URL, user: UserInfo) => boolean | Promise<boolean>;

/**
 * A route that checks credentials itself, before the server asks for a bearer token (the
 * status page also takes a cookie, so that a phone browser can open it).
 */
export type SelfAuthenticatingRoute = (req: IncomingMessage, res: ServerResponse, url: URL, authenticate: Authenticator) => boolean | Promise<boolean>;

export interface ApiServerOptions {
  core: ApiCore;
  /** `ca` set: clients may also sign in with a certificate that CA issued. */
  tls: { cert: string; key: string; ca?: string };
  authenticate: Authenticator;
  /** Who a verified client certificate stands for (undefined: refused, e.g. revoked). */
  authenticateCertificate?: (cert: PeerCertificate) => UserInfo | undefined;
  /** Impersonation and authorization after authentication; throws a Status to refuse. */
  gate?: (req: IncomingMessage, res: ServerResponse | undefined, user: UserInfo, url: URL) => UserInfo;
  streams?: PodStreams;
  tokens?: TokenIssuer;
  /** Handles WebSocket upgrades for exec; given an authenticated request. */
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => void;
  extraRoutes?: ExtraRoute[];
  selfAuthenticatingRoutes?: SelfAuthenticatingRoute[];
  version: { major: string; minor: string; gitVersion: string };
  ready: () => boolean;
  /** Why the server cannot take writes (e.g. the store's disk is full); /readyz fails with it. */
  notReady?: () => string | undefined;
  log: { info: (o: object, m: string) => void; warn: (o: object, m: string) => void; debug?: (o: object, m: string) => void };
  onRequest?: (verb: string, resource: string, code: number, seconds: number) => void;
  onWatchCount?: (delta: number) => void;
}

const ANONYMOUS = new Set(['/healthz', '/livez', '/readyz', '/version']);

export class ApiServer {
  readonly server: Server;
  address = '';

  constructor(private readonly opts: ApiServerOptions) {
    this.server = createServer({
      cert: opts.tls.cert, key: opts.tls.key, keepAlive: true, requestTimeout: 0,
      ...(opts.tls.ca ? { ca: opts.tls.ca, requestCert: true, rejectUnauthorized: false } : {}),
    }, (req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = 30_000;
    this.server.on('upgrade', (req, socket, head) => this.handleUpgrade(req, socket, head));
    this.server.on('clientError', (_err, socket) => socket.destroy());
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const a = this.server.address();
        const actual = typeof a === 'object' && a ? a.port : port;
        this.address = `${host}:${actual}`;
        resolve({ host, port: actual });
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** What OpenAPI documents: every served resource, custom ones with their schema. */
  private get kinds(): ServedKind[] {
    return servedResources().map((r) => ({
      group: r.group, version: r.version, kind: r.kind, resource: r.resource, namespaced: r.namespaced, subresources: r.subresources,
      ...(r.custom ? { schema: r.custom.openapiSchema } : {}),
    }));
  }

  private authenticate(req: IncomingMessage): UserInfo | undefined {
    const h = req.headers.authorization;
    if (h && h.startsWith('Bearer ')) return this.opts.authenticate(h.slice(7).trim());
    const socket = req.socket as TLSSocket;
    if (!this.opts.authenticateCertificate || !socket.authorized) return undefined;
    const cert = socket.getPeerCertificate();
    return cert && cert.subject ? this.opts.authenticateCertificate(cert) : undefined;
  }

  private handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const user = this.authenticate(req);
    if (!user) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n' + JSON.stringify(unauthorized().status()));
      return;
    }
    try {
      this.opts.gate?.(req, undefined, user, url);
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', (err as Error).message);
      socket.end(`HTTP/1.1 ${e.code} ${e.reason}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n` + JSON.stringify(e.status()));
      return;
    }
    if (!this.opts.upgrade || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      // SPDY is not spoken: a clean 400 makes kubectl stop instead of hanging.
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n' + JSON.stringify(new ApiError(400, 'BadRequest', 'only WebSocket upgrades are supported').status()));
      return;
    }
    this.opts.upgrade(req, socket, head, url);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'https://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    let resourceLabel = path.split('/').slice(0, 4).join('/');
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.opts.onRequest?.(req.method ?? 'GET', resourceLabel, res.statusCode, seconds);
    });
    try {
      if (ANONYMOUS.has(path)) return this.serveAnonymous(res, path, url);
      for (const route of this.opts.selfAuthenticatingRoutes ?? []) if (await route(req, res, url, this.opts.authenticate)) return;
      const caller = this.authenticate(req);
      if (!caller) throw unauthorized();
      const user = this.opts.gate ? this.opts.gate(req, res, caller, url) : caller;
      for (const route of this.opts.extraRoutes ?? []) if (await route(req, res, url, user)) return;
      if (path === '/api' || path === '/apis') return this.serveDiscovery(req, res, path === '/api');
      if (path === '/api/v1') return sendJson(res, 200, apiResourceList('', 'v1'));
      let m = path.match(/^\/apis\/([^/]+)$/);
      if (m) {
        const g = apiGroup(m[1]!);
        if (!g) throw notFound('groups', m[1]!);
        return sendJson(res, 200, g);
      }
      m = path.match(/^\/apis\/([^/]+)\/([^/]+)$/);
      if (m) {
        const list = apiResourceList(m[1]!, m[2]!);
        if (!list) throw notFound('groupversions', `${m[1]}/${m[2]}`);
        return sendJson(res, 200, list);
      }
      if (path === '/openapi/v2') {
        const doc = openapiV2(this.kinds, req.headers.accept);
        res.writeHead(200, { 'Content-Type': doc.contentType, ETag: doc.etag, 'Content-Length': doc.body.length });
        res.end(doc.body);
        return;
      }
      if (path === '/openapi/v3') return sendJson(res, 200, openapiV3Index(this.kinds));
      if (path.startsWith('/openapi/v3/')) {
        const doc = openapiV3Document(this.kinds, path.slice('/openapi/v3/'.length));
        if (!doc) throw notFound('openapi', path);
        res.setHeader('Cache-Control', 'public, immutable');
        return sendJson(res, 200, doc);
      }
      const rr = parseResourcePath(path, url.searchParams);
      if (rr) {
        resourceLabel = `${rr.group || 'core'}/${rr.resource}${rr.subresource ? '/' + rr.subresource : ''}`;
        return await serveResource({ core: this.opts.core, streams: this.opts.streams, tokens: this.opts.tokens, onWatchCount: this.opts.onWatchCount, user }, req, res, rr);
      }
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    } catch (err) {
      sendError(res, mapError(err));
    }
  }

  private serveAnonymous(res: ServerResponse, path: string, url: URL): void {
    if (path === '/version') {
      return sendJson(res, 200, {
        major: this.opts.version.major, minor: this.opts.version.minor, gitVersion: this.opts.version.gitVersion,
        gitCommit: '', gitTreeState: 'clean', buildDate: '', goVersion: `node ${process.version}`, compiler: 'tsc',
        platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
      });
    }
    const reason = path === '/readyz' ? this.opts.notReady?.() : undefined;
    const ok = path !== '/readyz' || (this.opts.ready() && !reason);
    const verbose = url.searchParams.has('verbose');
    const body = verbose
      ? `[${ok ? '+' : '-'}]store ${ok ? 'ok' : `failed: ${reason ?? 'starting'}`}\n${path.slice(1)} ${ok ? 'check passed' : 'check failed'}\n`
      : ok ? 'ok' : reason ? `not ready: ${reason}` : 'not ready';
    res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(body);
  }

  private serveDiscovery(req: IncomingMessage, res: ServerResponse, legacy: boolean): void {
    const accept = req.headers.accept ?? '';
    if (accept.includes('as=APIGroupDiscoveryList') && accept.includes('v=v2')) {
      return sendJson(res, 200, aggregatedDiscovery(legacy), AGGREGATED_CONTENT_TYPE);
    }
    const host = req.headers.host ?? this.address;
    return sendJson(res, 200, legacy ? apiVersions(host) : apiGroupList());
  }
}

function mapError(err: unknown): unknown {
  if (err instanceof ApiError) return err;
  const name = (err as Error)?.name;
  if (name === 'UnsupportedPatchType') return new ApiError(415, 'UnsupportedMediaType', (err as Error).message);
  if (name === 'PatchError') return new ApiError(422, 'Invalid', (err as Error).message);
  return err;
}

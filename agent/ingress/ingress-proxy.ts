// The node's built-in ingress proxy: plain HTTP and TLS (certificates by SNI) on the
// node's own ports (a client without SNI, or with a name no Secret covers, gets the
// node's self-signed default certificate), each request routed by host and path to a ready endpoint of the
// Ingress's backend Service, and relayed as it streams (chunked bodies, server-sent
// events, WebSockets and any other Upgrade pass through untouched). The backend sees
// X-Forwarded-For/-Host/-Port/-Proto and X-Real-IP set by the proxy (a client's own
// X-Forwarded-* are not trusted, as Traefik and ingress-nginx do by default).
// Routes are replaced whole when a new publication arrives; a request in flight keeps
// the route it started with.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { createSecureContext } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { IngressPayload } from '../../protocol/mqtt/ingress-payload.js';
import type { ServiceRoutingPayload } from '../../protocol/mqtt/payloads.js';
import { BackendResolver } from './backends.js';
import { errorPage, rawErrorResponse } from './error-pages.js';
import { normalizeHost, RouteTable, type RouteMatch } from './route-table.js';
import { TlsContexts } from './tls-contexts.js';
import { defaultCertificate } from './default-certificate.js';
import { HOP_BY_HOP, loadUpstreamClient, UpstreamPools } from './upstream.js';

const acceptsHtml = (req: IncomingMessage) => (req.headers.accept ?? '').includes('text/html');

export interface IngressProxyOptions {
  nodeName: string;
  /** Listen address (default every IPv4 address of the node). */
  address?: string;
  httpPort: number;
  httpsPort: number;
  log: { info: (o: object, m: string) => void; warn: (o: object, m: string) => void; debug?: (o: object, m: string) => void };
  /** Called when the proxy starts or stops listening. */
  onListening?: (listening: boolean) => void;
  /** Retry period for a port that cannot be bound yet (default 5 s). */
  rebindMs?: number;
  /** Where the node's default certificate is kept (made anew on each start without it). */
  certDir?: string;
  /** Called for every request and upgrade the proxy receives (the agent's optimiser switch counts them). */
  onRequest?: () => void;
}

/** Forwarding headers a client sent are not trusted: the proxy sets its own. */
const FORWARDING = new Set(['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-proto', 'x-real-ip', 'forwarded']);

function clientIp(socket: net.Socket): string {
  const a = socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** The flat raw header list for the backend; `keepUpgrade` for the Upgrade handshake, which needs Connection/Upgrade. */
function backendHeaders(req: IncomingMessage, secure: boolean, keepUpgrade: boolean): string[] {
  const connection = req.headers.connection;
  const connectionTokens = connection ? new Set(connection.toLowerCase().split(',').map((t) => t.trim())) : undefined;
  const out: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (FORWARDING.has(lower)) continue;
    if (keepUpgrade && (lower === 'connection' || lower === 'upgrade')) { out.push(name, raw[i + 1]!); continue; }
    if (HOP_BY_HOP.has(lower) || connectionTokens?.has(lower)) continue;
    out.push(name, raw[i + 1]!);
  }
  const ip = clientIp(req.socket);
  out.push('X-Forwarded-For', ip, 'X-Real-IP', ip);
  const host = req.headers.host;
  if (host) out.push('X-Forwarded-Host', host);
  out.push('X-Forwarded-Port', String(req.socket.localPort ?? ''), 'X-Forwarded-Proto', secure ? 'https' : 'http');
  return out;
}

export class IngressProxy {
  private table = new RouteTable(undefined);
  private readonly backends = new BackendResolver();
  private readonly tls = new TlsContexts();
  private generation = -1;
  private httpServer?: http.Server;
  private httpsServer?: https.Server;
  private rebind?: NodeJS.Timeout;
  private stopped = false;
  /** Keep-alive connections to the pods, reused across requests. */
  private readonly upstream = new UpstreamPools();
  listening = false;

  constructor(private readonly opts: IngressProxyOptions) {}

  /** Binds both ports; a port that is taken is retried in the background, never fatal. */
  async start(): Promise<void> {
    this.stopped = false;
    const serverOpts = { keepAliveTimeout: 65_000, headersTimeout: 60_000, requestTimeout: 0, noDelay: true };
    this.httpServer ??= http.createServer(serverOpts, (req, res) => this.handle(req, res, false));
    if (!this.httpsServer) {
      // Clients without SNI, and names no Ingress has a certificate for, get the node's default one.
      const fallback = await defaultCertificate(this.opts.certDir);
      const fallbackCtx = createSecureContext(fallback);
      this.httpsServer = https.createServer({
        ...serverOpts, ...fallback,
        SNICallback: (name, cb) => cb(null, this.tls.lookup(name) ?? fallbackCtx),
      }, (req, res) => this.handle(req, res, true));
    }
    this.httpServer.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head, false));
    this.httpsServer.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head, true));
    this.httpsServer.on('tlsClientError', (err) => this.opts.log.debug?.({ err: err.message }, 'TLS handshake refused'));
    await this.bind();
  }

  private async bind(): Promise<void> {
    const address = this.opts.address ?? '0.0.0.0';
    const listen = (server: net.Server, port: number) => new Promise<boolean>((resolve) => {
      if (server.listening) return resolve(true);
      const onError = (err: NodeJS.ErrnoException) => {
        this.opts.log.warn({ port, address, err: err.code ?? err.message }, 'ingress port not available yet; will retry');
        resolve(false);
      };
      server.once('error', onError);
      server.listen(port, address, () => { server.off('error', onError); resolve(true); });
    });
    const [httpOk, httpsOk] = await Promise.all([listen(this.httpServer!, this.opts.httpPort), listen(this.httpsServer!, this.opts.httpsPort)]);
    const now = httpOk;
    if (now !== this.listening) {
      this.listening = now;
      if (now) this.opts.log.info({ http: this.opts.httpPort, https: this.opts.httpsPort, address }, 'ingress proxy listening');
      this.opts.onListening?.(now);
    }
    if ((!httpOk || !httpsOk) && !this.stopped) {
      this.rebind = setTimeout(() => void this.bind(), this.opts.rebindMs ?? 5000);
      this.rebind.unref();
    }
  }

  /** Ports actually bound (they differ from the options when 0 was asked for). */
  ports(): { http?: number; https?: number } {
    const port = (s?: net.Server) => { const a = s?.address(); return a && typeof a === 'object' ? a.port : undefined; };
    return { http: port(this.httpServer), https: port(this.httpsServer) };
  }

  setRoutes(payload: IngressPayload | undefined): void {
    if (payload && payload.generation < this.generation) return;
    this.generation = payload?.generation ?? -1;
    const bad = this.tls.set(payload?.certificates ?? []);
    for (const b of bad) this.opts.log.warn({ secret: b.secret, err: b.error }, 'TLS certificate not usable');
    this.table = new RouteTable(payload);
    if (this.table.size > 0) void loadUpstreamClient().catch((err: Error) => this.opts.log.warn({ err: err.message }, 'cannot load the upstream HTTP client'));
    this.opts.log.debug?.({ generation: this.generation, ingresses: this.table.size, certificates: this.tls.size }, 'ingress routes updated');
  }

  setServices(payload: ServiceRoutingPayload): void {
    this.backends.setServices(payload);
    this.upstream.retain(this.backends.endpoints());
  }

  private route(req: IncomingMessage): { match: RouteMatch; target?: { ip: string; port: number }; problem?: string[] } {
    const match = this.table.match(req.headers.host, req.url ?? '/');
    if (match.kind === 'miss') {
      return { match, problem: [`No Ingress rule routes ${match.host || '(no host)'}${match.path}.`, `Why: ${match.reason}.`] };
    }
    const r = this.backends.resolve(match.entry.backend);
    if (!r.ok) return { match, problem: [`${match.entry.describe} matched this request,`, `but ${r.reason}.`] };
    return { match, target: { ip: r.ip, port: r.port } };
  }

  private handle(req: IncomingMessage, res: ServerResponse, secure: boolean): void {
    this.opts.onRequest?.();
    if (!secure && this.table.redirects) {
      const host = normalizeHost(req.headers.host);
      if (host && this.table.redirectFor(host)) {
        const port = this.opts.httpsPort === 443 ? '' : `:${this.opts.httpsPort}`;
        res.writeHead(308, { location: `https://${host}${port}${req.url ?? '/'}`, 'content-length': 0 });
        res.end();
        return;
      }
    }
    const { match, target, problem } = this.route(req);
    if (!target) {
      errorPage(res, match.kind === 'miss' ? 404 : 503, problem!, acceptsHtml(req), this.opts.nodeName);
      req.resume();
      return;
    }
    this.upstream.forward(req, res, target, backendHeaders(req, secure, false), (err) => {
      const describe = match.kind === 'route' ? match.entry.describe : 'the rule';
      errorPage(res, 502, [`${describe} sent this request to ${target.ip}:${target.port},`, `which failed: ${(err as NodeJS.ErrnoException).code ?? err.message}.`], acceptsHtml(req), this.opts.nodeName);
      req.resume();
    });
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, secure: boolean): void {
    this.opts.onRequest?.();
    socket.on('error', () => undefined);
    const { target, problem, match } = this.route(req);
    if (!target) {
      socket.end(rawErrorResponse(match.kind === 'miss' ? 404 : 503, problem!, this.opts.nodeName));
      return;
    }
    const up = net.connect(target.port, target.ip);
    let connected = false;
    up.setNoDelay(true);
    up.on('connect', () => {
      connected = true;
      const headers = backendHeaders(req, secure, true);
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < headers.length; i += 2) lines.push(`${headers[i]}: ${headers[i + 1]}`);
      up.write(lines.join('\r\n') + '\r\n\r\n');
      if (head.length) up.write(head);
      socket.pipe(up);
      up.pipe(socket);
    });
    up.on('error', (err) => {
      if (!connected) socket.end(rawErrorResponse(502, [`Connecting to ${target.ip}:${target.port} failed: ${(err as NodeJS.ErrnoException).code ?? err.message}.`], this.opts.nodeName));
      else socket.destroy();
    });
    up.on('close', () => socket.destroy());
    socket.on('close', () => up.destroy());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.rebind) clearTimeout(this.rebind);
    const close = (s?: net.Server) => new Promise<void>((r) => {
      if (!s?.listening) return r();
      s.close(() => r());
      (s as http.Server).closeAllConnections?.();
    });
    await Promise.all([close(this.httpServer), close(this.httpsServer)]);
    await this.upstream.close();
    if (this.listening) {
      this.listening = false;
      this.opts.onListening?.(false);
    }
  }
}

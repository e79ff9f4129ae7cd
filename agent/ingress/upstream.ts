// Requests from the ingress proxy to the pods: one keep-alive connection pool per endpoint
// (undici, whose client spends less CPU per request than node:http's), the response
// relayed as it arrives with back-pressure both ways. Headers are passed in their raw
// form so the client sees names, order and duplicates as the backend sent them.
// Pools of endpoints that left every Service are closed when the Service routing changes.
// undici is loaded on first use (about 9 MB of an agent's memory): a node whose proxy
// routes no Ingress never pays for it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher, Pool } from 'undici';

let undici: typeof import('undici') | undefined;
let loading: Promise<typeof import('undici')> | undefined;

/** Loads the HTTP client; the proxy calls it as soon as it has a route, so requests rarely wait for it. */
export function loadUpstreamClient(): Promise<unknown> {
  loading ??= import('undici').then((m) => (undici = m));
  return loading;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1): the proxy's own on each side, never relayed. */
export const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect']);

/** Methods a proxy may send again when a reused connection turned out closed (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Errors that mean the pooled connection was closed by the backend before it answered. */
const STALE = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

export interface Endpoint { ip: string; port: number }

const endpointKey = (e: Endpoint) => (e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`);

/** The backend's response headers for the client, and whether they give the body's length. */
function responseHeaders(raw: Buffer[]): { headers: string[]; sized: boolean } {
  const out: string[] = [];
  let tokens: Set<string> | undefined;
  let sized = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    const lower = name.toLowerCase();
    if (lower === 'connection') tokens = new Set(raw[i + 1]!.toString('latin1').toLowerCase().split(',').map((t) => t.trim()));
    if (HOP_BY_HOP.has(lower)) continue;
    if (lower === 'content-length') sized = true;
    out.push(name, raw[i + 1]!.toString('latin1'));
  }
  if (!tokens) return { headers: out, sized };
  // Headers the backend's Connection header named are hop-by-hop too.
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2) if (!tokens.has(out[i]!.toLowerCase())) kept.push(out[i]!, out[i + 1]!);
  return { headers: kept, sized };
}

export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();

  /**
   * Sends `req` to `target` with `headers` (flat name/value list) and relays the answer to
   * `res`. `onFailure` is called when no response could be started (connection refused,
   * reset before any header); once the status line went out a failure cuts the response.
   */
  forward(req: IncomingMessage, res: ServerResponse, target: Endpoint, headers: string[], onFailure: (err: Error) => void): void {
    const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
    const options: Dispatcher.DispatchOptions = { method: req.method ?? 'GET', path: req.url ?? '/', headers, body: hasBody ? req : null };
    const retriable = !hasBody && IDEMPOTENT.has(options.method);
    if (!undici) {
      loadUpstreamClient().then(() => this.dispatch(target, options, req, res, retriable, onFailure), onFailure);
      return;
    }
    this.dispatch(target, options, req, res, retriable, onFailure);
  }

  private dispatch(target: Endpoint, options: Dispatcher.DispatchOptions, req: IncomingMessage, res: ServerResponse, retriable: boolean, onFailure: (err: Error) => void): void {
    let started = false;
    let resume: (() => void) | undefined;
    let abort: ((err?: Error) => void) | undefined;
    const onDrain = () => resume?.();
    const onClose = () => { if (!res.writableFinished) abort?.(); };
    this.pool(target).dispatch(options, {
      onConnect: (a) => {
        abort = a;
        // called again if the pool sends the request once more on another connection
        res.off('close', onClose);
        if (res.destroyed) a();
        else res.once('close', onClose);
      },
      onHeaders: (status, raw, r, statusText) => {
        if (status < 200) return true; // informational answers are the proxy's own hop
        started = true;
        resume = r;
        const { headers, sized } = responseHeaders(raw);
        res.writeHead(status, statusText, headers);
        // Streams of unknown length (server-sent events, long polls) must see the headers
        // before the first byte of body; a sized body carries them in its first write.
        if (!sized) res.flushHeaders();
        return true;
      },
      onData: (chunk) => {
        if (res.write(chunk)) return true;
        res.once('drain', onDrain);
        return false;
      },
      onComplete: (trailers) => {
        res.off('close', onClose);
        if (trailers?.length) {
          const t: [string, string][] = [];
          for (let i = 0; i < trailers.length; i += 2) t.push([String(trailers[i]), String(trailers[i + 1])]);
          res.addTrailers(t);
        }
        res.end();
      },
      onError: (err) => {
        res.off('close', onClose);
        if (started) { res.destroy(); return; }
        if (res.destroyed) return;
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (retriable && STALE.has(code)) { this.dispatch(target, options, req, res, false, onFailure); return; }
        onFailure(err);
      },
    });
  }

  private pool(target: Endpoint): Pool {
    const key = endpointKey(target);
    let pool = this.pools.get(key);
    if (!pool) {
      // No time limits of the proxy's own: streams and long polls stay open as long as both ends do.
      pool = new undici!.Pool(`http://${key}`, { connections: null, pipelining: 1, headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 4_000 });
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Closes the pools of endpoints not in `live` (requests in flight finish first). */
  retain(live: Iterable<Endpoint>): void {
    const keep = new Set<string>();
    for (const e of live) keep.add(endpointKey(e));
    for (const [key, pool] of this.pools) {
      if (keep.has(key)) continue;
      this.pools.delete(key);
      void pool.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((p) => p.destroy().catch(() => undefined)));
  }
}

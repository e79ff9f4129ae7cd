// The status page at /ui/: a small document, its script and styles, and /ui/stream, a
// server-sent-events feed of cluster snapshots (one on connect, then one per change,
// coalesced). Served by the API server behind the same token as the API.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticator, SelfAuthenticatingRoute } from '../apiserver/http/server.js';
import type { ClusterView } from './cluster-view.js';
import { bearerToken, cookieToken, tokenCookie } from './ui-auth.js';
import { INDEX_HTML, SIGN_IN_HTML } from './assets/index-html.js';
import { APP_CSS } from './assets/app-css.js';
import { APP_JS } from './assets/app-js.js';

export const UI_PATH = '/ui/';
/** Keeps proxies and phones from closing an idle stream. */
const KEEPALIVE_MS = 25_000;
/** A reader this far behind gets no more snapshots until it catches up. */
const MAX_BUFFERED_BYTES = 1 << 20;

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
} as const;

const PAGE_HEADERS = {
  ...SECURITY_HEADERS,
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
} as const;

function send(res: ServerResponse, code: number, headers: Record<string, string>, body: string, head: boolean): void {
  res.writeHead(code, { ...headers, 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(head ? undefined : body);
}

export function statusPageRoute(view: ClusterView): SelfAuthenticatingRoute {
  return (req, res, url, authenticate) => {
    const path = url.pathname;
    if (path !== '/ui' && !path.startsWith('/ui/')) return false;
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      send(res, 405, { ...SECURITY_HEADERS, Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }, 'method not allowed\n', head);
      return true;
    }
    // The styles are not secret, and the sign-in page uses them.
    if (path === '/ui/app.css') {
      send(res, 200, { ...SECURITY_HEADERS, 'Content-Type': 'text/css; charset=utf-8' }, APP_CSS, head);
      return true;
    }
    const fromQuery = url.searchParams.get('token');
    if (fromQuery !== null) {
      if (!authenticate(fromQuery.trim())) return signIn(res, head);
      // Keep the token out of the address bar and history: cookie, then a clean URL.
      url.searchParams.delete('token');
      const location = (path === '/ui' ? UI_PATH : path) + (url.searchParams.size ? `?${url.searchParams}` : '');
      res.writeHead(303, { ...SECURITY_HEADERS, Location: location, 'Set-Cookie': tokenCookie(fromQuery.trim()) });
      res.end();
      return true;
    }
    if (!isSignedIn(req, authenticate)) return signIn(res, head);
    switch (path) {
      case '/ui':
        res.writeHead(308, { ...SECURITY_HEADERS, Location: UI_PATH });
        res.end();
        return true;
      case '/ui/':
      case '/ui/index.html':
        send(res, 200, PAGE_HEADERS, INDEX_HTML, head);
        return true;
      case '/ui/app.js':
        send(res, 200, { ...SECURITY_HEADERS, 'Content-Type': 'text/javascript; charset=utf-8' }, APP_JS, head);
        return true;
      case '/ui/stream':
        stream(req, res, view);
        return true;
      default:
        send(res, 404, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' }, 'not found\n', head);
        return true;
    }
  };
}

function isSignedIn(req: IncomingMessage, authenticate: Authenticator): boolean {
  const token = bearerToken(req) ?? cookieToken(req);
  return token !== undefined && authenticate(token) !== undefined;
}

function signIn(res: ServerResponse, head: boolean): true {
  send(res, 401, { ...PAGE_HEADERS, 'WWW-Authenticate': 'Bearer realm="pikube"' }, SIGN_IN_HTML, head);
  return true;
}

function stream(req: IncomingMessage, res: ServerResponse, view: ClusterView): void {
  res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  res.socket?.setNoDelay(true);
  view.start();
  const push = () => {
    if (res.writableLength > MAX_BUFFERED_BYTES) return;
    res.write(`event: snapshot\ndata: ${view.snapshotJson()}\n\n`);
  };
  res.write('retry: 3000\n\n');
  push();
  view.on('change', push);
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  const done = () => {
    clearInterval(keepalive);
    view.off('change', push);
  };
  req.on('close', done);
  res.on('close', done);
}

// The status page at /ui/: a small document, its script and styles, and /ui/stream, a
// server-sent-events feed of cluster snapshots (one on connect, then one per change,
// coalesced). Served by the API server: a sign-in form turns a token into a session
// cookie, and each reader sees what their RBAC rights allow.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticator, SelfAuthenticatingRoute, UserInfo } from '../apiserver/http/server.js';
import type { ClusterSnapshot, ClusterView } from './cluster-view.js';
import { bearerToken, CLEAR_SESSION_COOKIE, sessionCookie, UiSessions } from './ui-auth.js';
import { filterSnapshot, mayViewSomething, type UiAuthorize } from './rbac-filter.js';
import { INDEX_HTML, signInHtml } from './assets/index-html.js';
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

/** The sign-in page posts its form to this origin only. */
const SIGN_IN_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

function send(res: ServerResponse, code: number, headers: Record<string, string>, body: string, head: boolean): void {
  res.writeHead(code, { ...headers, 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(head ? undefined : body);
}

export interface StatusPageOptions {
  /** RBAC: what the reader may list (everything when absent). */
  authorize?: UiAuthorize;
  /** Namespaces to try when deciding whether a reader may see anything. */
  namespaces?: () => string[];
}

export function statusPageRoute(view: ClusterView, opts: StatusPageOptions = {}): SelfAuthenticatingRoute {
  const sessions = new UiSessions();
  return async (req, res, url, authenticate) => {
    const path = url.pathname;
    if (path !== '/ui' && !path.startsWith('/ui/')) return false;
    const head = req.method === 'HEAD';
    // The styles are not secret, and the sign-in page uses them.
    if (path === '/ui/app.css' && (req.method === 'GET' || head)) {
      send(res, 200, { ...SECURITY_HEADERS, 'Content-Type': 'text/css; charset=utf-8' }, APP_CSS, head);
      return true;
    }
    if (path === '/ui/login') {
      if (req.method !== 'POST') {
        send(res, 405, { ...SECURITY_HEADERS, Allow: 'POST', 'Content-Type': 'text/plain; charset=utf-8' }, 'method not allowed\n', head);
        return true;
      }
      return login(req, res, authenticate, sessions, opts);
    }
    if (path === '/ui/logout' && req.method === 'POST') {
      sessions.end(req);
      res.writeHead(303, { ...SECURITY_HEADERS, Location: UI_PATH, 'Set-Cookie': CLEAR_SESSION_COOKIE });
      res.end();
      return true;
    }
    if (req.method !== 'GET' && !head) {
      send(res, 405, { ...SECURITY_HEADERS, Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }, 'method not allowed\n', head);
      return true;
    }
    // A token in the URL is never taken: it would stay in history, logs and screenshots.
    const token = bearerToken(req) ?? sessions.token(req);
    const user = token === undefined ? undefined : authenticate(token);
    if (!user || !allowedIn(user, opts)) return signIn(res, head, 401);
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
        stream(req, res, view, opts.authorize ? (json) => JSON.stringify(filterSnapshot(JSON.parse(json) as ClusterSnapshot, opts.authorize!, user)) : (json) => json);
        return true;
      default:
        send(res, 404, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' }, 'not found\n', head);
        return true;
    }
  };
}

function allowedIn(user: UserInfo, opts: StatusPageOptions): boolean {
  return !opts.authorize || mayViewSomething(opts.authorize, user, opts.namespaces?.() ?? ['default']);
}

const MAX_FORM_BYTES = 16 * 1024;

/** The sign-in form's POST: a valid token (allowed to see something) starts a session. */
async function login(req: IncomingMessage, res: ServerResponse, authenticate: Authenticator, sessions: UiSessions, opts: StatusPageOptions): Promise<true> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_FORM_BYTES) { send(res, 413, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' }, 'too large\n', false); return true; }
    chunks.push(c as Buffer);
  }
  const token = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('token')?.trim() ?? '';
  const user = token ? authenticate(token) : undefined;
  if (!user) return signIn(res, false, 401, 'That token was not accepted.');
  if (!allowedIn(user, opts)) return signIn(res, false, 403, 'This user may not view the cluster (grant it the view role).');
  res.writeHead(303, { ...SECURITY_HEADERS, Location: UI_PATH, 'Set-Cookie': sessionCookie(sessions.start(token)) });
  res.end();
  return true;
}

function signIn(res: ServerResponse, head: boolean, code: number, message = ''): true {
  send(res, code, { ...PAGE_HEADERS, 'Content-Security-Policy': SIGN_IN_CSP }, signInHtml(message), head);
  return true;
}

function stream(req: IncomingMessage, res: ServerResponse, view: ClusterView, filter: (json: string) => string): void {
  res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  res.socket?.setNoDelay(true);
  view.start();
  const push = () => {
    if (res.writableLength > MAX_BUFFERED_BYTES) return;
    res.write(`event: snapshot\ndata: ${filter(view.snapshotJson())}\n\n`);
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

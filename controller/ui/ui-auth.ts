// How the status page recognises its reader: the API's bearer token, or a session that
// the sign-in form starts. The form posts the token once; the answer is a random session
// id in an HttpOnly, Secure, SameSite=Strict cookie limited to /ui that lives an hour.
// Tokens never appear in a URL. Each use re-checks the token behind the session, so a
// revoked or expired token ends its sessions at once.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const UI_COOKIE = 'pikube_ui_session';
export const UI_SESSION_SECONDS = 3600;
const MAX_SESSIONS = 1000;

export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice(7).trim() || undefined : undefined;
}

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim() || undefined;
  }
  return undefined;
}

export function sessionCookie(id: string): string {
  return `${UI_COOKIE}=${id}; Path=/ui; Max-Age=${UI_SESSION_SECONDS}; HttpOnly; Secure; SameSite=Strict`;
}

export const CLEAR_SESSION_COOKIE = `${UI_COOKIE}=; Path=/ui; Max-Age=0; HttpOnly; Secure; SameSite=Strict`;

export class UiSessions {
  private readonly sessions = new Map<string, { token: string; expires: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  start(token: string): string {
    this.prune();
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(id, { token, expires: this.now() + UI_SESSION_SECONDS * 1000 });
    return id;
  }

  /** The token behind the request's session cookie, if the session is live. */
  token(req: IncomingMessage): string | undefined {
    const id = cookieValue(req, UI_COOKIE);
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.expires <= this.now()) { this.sessions.delete(id); return undefined; }
    return s.token;
  }

  end(req: IncomingMessage): void {
    const id = cookieValue(req, UI_COOKIE);
    if (id) this.sessions.delete(id);
  }

  private prune(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) if (s.expires <= now) this.sessions.delete(id);
  }
}

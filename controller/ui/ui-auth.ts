// How the status page recognises its reader: the API's bearer token, or the same token in
// a cookie that `/ui/?token=…` sets once, so that a phone browser (which cannot add
// headers) can open the page from a link. The cookie is HttpOnly, Secure, limited to
// /ui and sent on same-site requests and top-level navigations only.
import type { IncomingMessage } from 'node:http';

export const UI_COOKIE = 'pikube_ui_token';
/** A phone should not have to sign in again every day. */
export const UI_COOKIE_MAX_AGE_SECONDS = 30 * 86400;

export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice(7).trim() || undefined : undefined;
}

export function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === UI_COOKIE) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim()) || undefined;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export function tokenCookie(token: string): string {
  return `${UI_COOKIE}=${encodeURIComponent(token)}; Path=/ui; Max-Age=${UI_COOKIE_MAX_AGE_SECONDS}; HttpOnly; Secure; SameSite=Lax`;
}

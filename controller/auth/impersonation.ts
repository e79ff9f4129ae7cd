// Impersonation (upstream apiserver filters/impersonation.go): Impersonate-User,
// Impersonate-Group, Impersonate-Uid and Impersonate-Extra-* turn the request into one
// made by someone else, if the caller may `impersonate` each of those.
import type { IncomingMessage } from 'node:http';
import type { UserInfo } from '../apiserver/http/server.js';
import { ApiError } from '../apiserver/errors.js';
import type { RequestAttributes } from './attributes.js';
import { forbiddenError } from './forbidden.js';

const SA_PREFIX = 'system:serviceaccount:';

function headerValues(req: IncomingMessage, name: string): string[] {
  const v = req.headers[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean);
}

export function impersonate(req: IncomingMessage, caller: UserInfo, authorize: (a: RequestAttributes) => boolean): UserInfo {
  const users = headerValues(req, 'impersonate-user');
  const groups = headerValues(req, 'impersonate-group');
  const uid = headerValues(req, 'impersonate-uid');
  const extraHeaders = Object.keys(req.headers).filter((h) => h.startsWith('impersonate-extra-'));
  if (!users.length && !groups.length && !uid.length && !extraHeaders.length) return caller;
  if (users.length !== 1) throw new ApiError(500, 'InternalError', 'requested impersonation of groups, uid or extra without impersonating a user');
  const username = req.headers['impersonate-user'] as string;
  const check = (resource: string, name: string, apiGroup = '', namespace = '', subresource = ''): void => {
    const a: RequestAttributes = {
      user: caller, verb: 'impersonate', resourceRequest: true, path: '', apiGroup, apiVersion: 'v1',
      resource, subresource, namespace, name,
    };
    if (!authorize(a)) throw forbiddenError(a);
  };
  const out: UserInfo = { username, groups: [] };
  if (username.startsWith(SA_PREFIX)) {
    const [ns = '', name = ''] = username.slice(SA_PREFIX.length).split(':');
    check('serviceaccounts', name, '', ns);
    if (!groups.length) out.groups.push('system:serviceaccounts', `system:serviceaccounts:${ns}`);
  } else {
    check('users', username);
  }
  for (const g of groups) check('groups', g);
  if (uid.length) { check('uids', uid[0]!, 'authentication.k8s.io'); out.uid = uid[0]; }
  const extra: Record<string, string[]> = {};
  for (const h of extraHeaders) {
    const key = decodeURIComponent(h.slice('impersonate-extra-'.length));
    for (const v of headerValues(req, h)) { check('userextras', v, 'authentication.k8s.io', '', key); (extra[key] ??= []).push(v); }
  }
  if (Object.keys(extra).length) out.extra = extra;
  out.groups.push(...groups);
  if (username !== 'system:anonymous' && !out.groups.includes('system:authenticated')) out.groups.push('system:authenticated');
  return out;
}

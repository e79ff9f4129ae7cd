// The one hook in the API server's request path: after authentication, apply
// impersonation, ask the authorizer, log denials and (optionally) audit the request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UserInfo } from '../apiserver/http/server.js';
import { requestAttributes, type RequestAttributes } from './attributes.js';
import type { AuditLog } from './audit-log.js';
import { forbiddenError } from './forbidden.js';
import { impersonate } from './impersonation.js';

export interface Authorizer { authorize(a: RequestAttributes): { allowed: boolean; reason: string } }

export type RequestGate = (req: IncomingMessage, res: ServerResponse | undefined, user: UserInfo, url: URL) => UserInfo;

export interface GateOptions {
  authorizer: Authorizer;
  audit?: AuditLog;
  log: { info: (o: object, m: string) => void };
  onDenied?: (user: UserInfo) => void;
}

export function requestGate(opts: GateOptions): RequestGate {
  const allowed = (a: RequestAttributes) => opts.authorizer.authorize(a).allowed;
  return (req, res, caller, url) => {
    const user = impersonate(req, caller, allowed);
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const a = requestAttributes(user, req.method ?? 'GET', path, url.searchParams, res === undefined);
    const impersonatedBy = user === caller ? undefined : caller.username;
    if (opts.audit && res) res.on('finish', () => opts.audit!.record(a, res.statusCode, impersonatedBy));
    const decision = opts.authorizer.authorize(a);
    if (!decision.allowed) {
      opts.onDenied?.(user);
      opts.log.info({ user: user.username, verb: a.verb, resource: a.resource || undefined, subresource: a.subresource || undefined, namespace: a.namespace || undefined, name: a.name || undefined, path: a.resourceRequest ? undefined : a.path }, 'request forbidden');
      throw forbiddenError(a, decision.reason);
    }
    return user;
  };
}

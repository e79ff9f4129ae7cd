// What a request asks to do, in the terms authorizers speak (upstream's
// authorizer.Attributes, filled like apiserver's RequestInfoFactory does).
import type { UserInfo } from '../apiserver/http/server.js';
import { parseResourcePath } from '../apiserver/http/resource-routes.js';

export interface RequestAttributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  /** Non-resource requests: the URL path. */
  path: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

/** Subresources whose WebSocket (GET) upgrade still needs `create`, as upstream 1.31+ asks. */
const STREAMING_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);

export function requestAttributes(user: UserInfo, method: string, path: string, query: URLSearchParams, upgrade = false): RequestAttributes {
  const base = { user, path, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' };
  const lower = method.toLowerCase();
  const rr = parseResourcePath(path, query);
  if (!rr) return { ...base, resourceRequest: false, verb: lower === 'head' ? 'get' : lower };
  let { resource, name = '', subresource = '', namespace = '' } = rr;
  // /api/v1/namespaces/NS/status|finalize address the namespace itself.
  if (rr.group === '' && rr.namespace !== undefined && rr.name === undefined && (resource === 'status' || resource === 'finalize')) {
    subresource = resource;
    resource = 'namespaces';
    name = rr.namespace;
  }
  // A namespace object lives "in" itself, as upstream's request info says.
  if (rr.group === '' && resource === 'namespaces' && name) namespace = name;
  let verb: string;
  const collection = name === '';
  switch (method.toUpperCase()) {
    case 'GET': case 'HEAD': {
      const watch = query.get('watch');
      verb = watch === 'true' || watch === '1' ? 'watch' : collection ? 'list' : 'get';
      if (upgrade && STREAMING_SUBRESOURCES.has(subresource)) verb = 'create';
      break;
    }
    case 'POST': verb = 'create'; break;
    case 'PUT': verb = 'update'; break;
    case 'PATCH': verb = 'patch'; break;
    case 'DELETE': verb = collection ? 'deletecollection' : 'delete'; break;
    default: verb = lower;
  }
  return { ...base, resourceRequest: true, verb, apiGroup: rr.group, apiVersion: rr.version, resource, subresource, namespace, name };
}

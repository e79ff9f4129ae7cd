// A request that arrived over MQTT, as the HTTP request the same user would have sent
// with kubectl: same path, verb, content type and query. The gateway then sends exactly
// that to the API server, so authentication, RBAC, admission and validation are the ones
// every HTTP client meets. Pure, so the mapping is table-tested.
import type { ApiRequest } from '../../protocol/mqtt/payloads.js';

export interface HttpCall {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path and query. */
  path: string;
  contentType?: string;
  body?: string;
  /** A watch: the answer is a stream of events, one JSON object a line. */
  stream: boolean;
}

const PATCH_CONTENT_TYPES = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

/** Watches end after this unless the server ends them first; a dashboard asks again. */
export const WATCH_TIMEOUT_SECONDS = 1800;

export function resourcePath(r: Pick<ApiRequest, 'group' | 'version' | 'resource' | 'namespace' | 'name' | 'subresource'>): string {
  const enc = encodeURIComponent;
  let p = r.group ? `/apis/${enc(r.group)}/${enc(r.version!)}` : `/api/${enc(r.version!)}`;
  if (r.namespace) p += `/namespaces/${enc(r.namespace)}`;
  p += `/${enc(r.resource!)}`;
  if (r.name) p += `/${enc(r.name)}`;
  if (r.subresource) p += `/${enc(r.subresource)}`;
  return p;
}

/** The scale verb takes `{replicas: N}`, a bare number, or a whole Scale. */
function scaleBody(body: unknown): unknown {
  if (typeof body === 'number') return { spec: { replicas: body } };
  if (body && typeof body === 'object' && 'replicas' in body) return { spec: { replicas: (body as { replicas: unknown }).replicas } };
  return body;
}

export function httpCallFor(req: ApiRequest): HttpCall {
  const query = new URLSearchParams();
  if (req.labelSelector) query.set('labelSelector', req.labelSelector);
  if (req.fieldSelector) query.set('fieldSelector', req.fieldSelector);
  const json = (v: unknown) => JSON.stringify(v);
  const withQuery = (p: string) => (query.size ? `${p}?${query}` : p);
  switch (req.verb) {
    case 'get': return { method: 'GET', path: withQuery(resourcePath(req)), stream: false };
    case 'list': return { method: 'GET', path: withQuery(resourcePath({ ...req, name: undefined })), stream: false };
    case 'watch': {
      if (req.name) query.set('fieldSelector', [req.fieldSelector, `metadata.name=${req.name}`].filter(Boolean).join(','));
      query.set('watch', 'true');
      query.set('allowWatchBookmarks', 'false');
      query.set('timeoutSeconds', String(WATCH_TIMEOUT_SECONDS));
      return { method: 'GET', path: withQuery(resourcePath({ ...req, name: undefined, subresource: undefined })), stream: true };
    }
    case 'create': return { method: 'POST', path: withQuery(resourcePath({ ...req, name: req.subresource ? req.name : undefined })), contentType: 'application/json', body: json(req.body), stream: false };
    case 'update': return { method: 'PUT', path: resourcePath(req), contentType: 'application/json', body: json(req.body), stream: false };
    case 'patch': {
      const type = req.patchType ?? 'merge';
      if (type === 'apply') query.set('fieldManager', req.fieldManager ?? 'pikube-mqtt');
      return { method: 'PATCH', path: withQuery(resourcePath(req)), contentType: PATCH_CONTENT_TYPES[type], body: json(req.body), stream: false };
    }
    case 'scale': return { method: 'PATCH', path: resourcePath({ ...req, subresource: 'scale' }), contentType: PATCH_CONTENT_TYPES.merge, body: json(scaleBody(req.body)), stream: false };
    case 'delete': return { method: 'DELETE', path: withQuery(resourcePath(req)), ...(req.body !== undefined ? { contentType: 'application/json', body: json(req.body) } : {}), stream: false };
    case 'cancel': throw new Error('cancel is handled by the gateway, not sent to the API');
  }
}

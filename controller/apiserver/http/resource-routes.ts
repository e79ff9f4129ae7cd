// REST verbs on resources and their subresources, translated to ApiCore calls.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../../protocol/kube/types.js';
import type { ApiCore, DeleteOpts } from '../api-core.js';
import { ApiError, badRequest, conflict, methodNotAllowed, notFound } from '../errors.js';
import { findResource, findServedResource, type ResourceInfo } from '../resources.js';
import { applyPatch } from '../patch/index.js';
import { applyStrategicMergePatch } from '../patch/strategic-merge.js';
import { applyScale, bindPod, toScale } from '../subresources.js';
import { evictPod } from '../eviction.js';
import { toTable } from '../tables/index.js';
import { unknownFields } from '../validation/index.js';
import { decodeBody, readBody } from './body.js';
import { OBJECT_MEDIA, PATCH_MEDIA, requireMediaType } from './body-limits.js';
import { removeFields } from './field-pruning.js';
import { checkCommonParams, checkLogParams, flag, intParam } from './query-params.js';
import { checkSelectorParams } from './selector-params.js';
import { sendJson, TABLE_CONTENT_TYPE, wantsTable } from './respond.js';
import { serveWatch } from './watch.js';
import type { UserInfo } from './server.js';

export interface ResourceRequest {
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource?: string;
  query: URLSearchParams;
}

/** Serves pods/log and pods/exec; provided by the MQTT bridge. */
export interface PodStreams {
  logs(req: IncomingMessage, res: ServerResponse, pod: KubeObject, query: URLSearchParams): Promise<void>;
  exec(req: IncomingMessage, res: ServerResponse, pod: KubeObject, query: URLSearchParams): Promise<void>;
}

/** Issues service-account tokens (serviceaccounts/token, what `kubectl create token` asks for). */
export type TokenIssuer = (serviceAccount: KubeObject, request: { audiences?: string[]; expirationSeconds?: number; boundPod?: { name: string; uid: string } }) => { token: string; expirationTimestamp: string };

export interface RouteContext {
  core: ApiCore;
  streams?: PodStreams;
  tokens?: TokenIssuer;
  onWatchCount?: (delta: number) => void;
  /** Who is asking: writes that depend on the requester's own rights (RBAC escalation) check it. */
  user?: UserInfo;
}

/** Splits `/api/v1/...` or `/apis/g/v/...` into its parts; undefined when it is not a resource path. */
export function parseResourcePath(path: string, query: URLSearchParams): ResourceRequest | undefined {
  const seg = path.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string, version: string, rest: string[];
  if (seg[0] === 'api' && seg.length >= 3) { group = ''; version = seg[1]!; rest = seg.slice(2); }
  else if (seg[0] === 'apis' && seg.length >= 4) { group = seg[1]!; version = seg[2]!; rest = seg.slice(3); }
  else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  } else if (rest[0] === 'namespaces' && rest.length === 2) {
    return { group, version, resource: 'namespaces', name: rest[1], query };
  }
  if (rest[0] === 'namespaces' && group === '' && rest.length === 3 && namespace === undefined) {
    return { group, version, resource: 'namespaces', name: rest[1], subresource: rest[2], query };
  }
  const [resource, name, subresource, ...extra] = rest;
  if (!resource || extra.length) return undefined;
  return { group, version, namespace, resource, name, subresource, query };
}

export async function serveResource(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, r: ResourceRequest): Promise<void> {
  // /api/v1/namespaces/<ns>/status and /finalize arrive with `namespace` set and resource = status.
  if (r.group === '' && r.namespace !== undefined && r.name === undefined && (r.resource === 'status' || r.resource === 'finalize')) {
    r = { ...r, resource: 'namespaces', name: r.namespace, subresource: r.resource, namespace: undefined };
  }
  const info = findServedResource(r.group, r.version, r.resource);
  if (!info) throw notFound(r.resource, r.name ?? '', r.group);
  if (r.subresource === 'log') checkLogParams(r.query);
  else if (r.subresource !== 'exec') checkCommonParams(r.query);
  checkSelectorParams(r.query, info);
  if (!info.namespaced && r.namespace !== undefined) throw notFound(r.resource, r.name ?? '', r.group);
  if (info.namespaced && r.name === undefined && r.resource === 'bindings') throw notFound(r.resource, '', r.group);
  const method = req.method ?? 'GET';
  const q = r.query;
  const ns = info.namespaced ? r.namespace : undefined;
  const table = wantsTable(req, q);
  const core = ctx.core;
  const dryRun = q.getAll('dryRun').includes('All');

  if (r.subresource) return serveSubresource(ctx, req, res, info, r, table);

  if (r.name === undefined) {
    switch (method) {
      case 'GET': {
        if (flag(q, 'watch')) return serveWatch(core, req, res, { info, namespace: ns, query: q, table }, ctx.onWatchCount);
        const limit = intParam(q, 'limit', 0) || undefined;
        const result = core.list(info, ns, {
          labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined,
          limit, continue: q.get('continue') ?? undefined,
        });
        if (table) {
          return sendJson(res, 200, toTable(info.group, info.resource, result.items, {
            resourceVersion: result.resourceVersion, includeObject: table.includeObject,
            continueToken: result.continue, remainingItemCount: result.remainingItemCount,
          }), TABLE_CONTENT_TYPE);
        }
        return sendJson(res, 200, {
          kind: info.listKind, apiVersion: info.group ? `${info.group}/${info.version}` : info.version,
          metadata: { resourceVersion: result.resourceVersion, ...(result.continue ? { continue: result.continue, remainingItemCount: result.remainingItemCount } : {}) },
          items: result.items,
        });
      }
      case 'POST': {
        const body = await decodeObject(req, info, q, res);
        const created = await core.create(info, ns ?? (info.namespaced ? 'default' : undefined), body, { dryRun, user: ctx.user });
        return sendJson(res, 201, created);
      }
      case 'DELETE': {
        const opts = await deleteOptions(req, q);
        const items = await core.deleteCollection(info, ns, { labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined }, opts);
        return sendJson(res, 200, { kind: info.listKind, apiVersion: info.group ? `${info.group}/${info.version}` : info.version, metadata: { resourceVersion: String(core.store.revision) }, items });
      }
      default: throw methodNotAllowed();
    }
  }

  const name = r.name;
  switch (method) {
    case 'GET': {
      const obj = core.get(info, ns ?? '', name);
      if (table) return sendJson(res, 200, toTable(info.group, info.resource, [obj], { resourceVersion: obj.metadata.resourceVersion ?? '', includeObject: table.includeObject }), TABLE_CONTENT_TYPE);
      return sendJson(res, 200, obj);
    }
    case 'PUT': {
      const body = await decodeObject(req, info, q, res);
      return sendJson(res, 200, await core.update(info, ns, name, body, undefined, { dryRun, user: ctx.user }));
    }
    case 'PATCH': {
      const updated = await patchObject(ctx, req, res, info, ns, name, undefined, q, dryRun);
      return sendJson(res, updated.created ? 201 : 200, updated.object);
    }
    case 'DELETE': {
      const opts = await deleteOptions(req, q);
      const { object } = await core.delete(info, ns, name, { ...opts, dryRun });
      return sendJson(res, 200, object);
    }
    case 'POST':
      if (info.resource === 'bindings') throw methodNotAllowed();
      throw methodNotAllowed();
    default: throw methodNotAllowed();
  }
}

async function serveSubresource(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, info: ResourceInfo, r: ResourceRequest, table: ReturnType<typeof wantsTable>): Promise<void> {
  const core = ctx.core;
  const method = req.method ?? 'GET';
  const ns = info.namespaced ? r.namespace : undefined;
  const name = r.name!;
  const sub = r.subresource!;
  const q = r.query;
  const dryRun = q.getAll('dryRun').includes('All');
  if (!info.subresources.includes(sub)) throw notFound(`${info.resource}/${sub}`, name, info.group);
  switch (sub) {
    case 'status':
    case 'finalize':
      if (method === 'GET') {
        const obj = core.get(info, ns ?? '', name);
        if (table) return sendJson(res, 200, toTable(info.group, info.resource, [obj], { resourceVersion: obj.metadata.resourceVersion ?? '', includeObject: table.includeObject }), TABLE_CONTENT_TYPE);
        return sendJson(res, 200, obj);
      }
      if (method === 'PUT') {
        const body = await decodeObject(req, info, q, res);
        if (sub === 'finalize') return sendJson(res, 200, await core.mutate(info, ns, name, (draft) => { draft.spec = body.spec; return draft; }));
        return sendJson(res, 200, await core.update(info, ns, name, body, 'status', { dryRun, user: ctx.user }));
      }
      if (method === 'PATCH' && sub === 'status') return sendJson(res, 200, (await patchObject(ctx, req, res, info, ns, name, 'status', q, dryRun)).object);
      throw methodNotAllowed();
    case 'scale': {
      if (method === 'GET') return sendJson(res, 200, toScale(info, core.get(info, ns ?? '', name)));
      if (method === 'PUT') {
        const body = decodeBody(await readBody(req), req.headers['content-type']) as KubeObject;
        return sendJson(res, 200, await applyScale(core, info, ns ?? '', name, () => body));
      }
      if (method === 'PATCH') {
        const body = decodeBody(await readBody(req), req.headers['content-type']);
        const ct = req.headers['content-type'] ?? '';
        return sendJson(res, 200, await applyScale(core, info, ns ?? '', name, (scale) => applyPatch(ct.includes('strategic') ? 'application/merge-patch+json' : ct, scale, body, 'autoscaling', 'Scale') as KubeObject));
      }
      throw methodNotAllowed();
    }
    case 'binding': {
      if (method !== 'POST') throw methodNotAllowed();
      const body = decodeBody(await readBody(req), req.headers['content-type']) as { target?: { name?: string } };
      await bindPod(core, ns ?? 'default', name, body?.target?.name ?? '');
      return sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    }
    case 'eviction': {
      if (method !== 'POST') throw methodNotAllowed();
      const body = decodeBody(await readBody(req), req.headers['content-type']) as { deleteOptions?: DeleteOpts };
      await evictPod(core, ns ?? 'default', name, body?.deleteOptions ?? {}, dryRun);
      return sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    }
    case 'token': {
      if (method !== 'POST') throw methodNotAllowed();
      if (!ctx.tokens) throw new ApiError(503, 'ServiceUnavailable', 'token issuing is not available');
      const sa = core.get(info, ns ?? '', name);
      const body = decodeBody(await readBody(req), req.headers['content-type']) as { spec?: { audiences?: string[]; expirationSeconds?: number; boundObjectRef?: { kind?: string; name?: string; uid?: string } } };
      const spec = body?.spec ?? {};
      const expirationSeconds = spec.expirationSeconds ?? 3600;
      if (!Number.isInteger(expirationSeconds) || expirationSeconds < 600) {
        throw new ApiError(422, 'Invalid', `TokenRequest.authentication.k8s.io "${name}" is invalid: spec.expirationSeconds: Invalid value: ${JSON.stringify(spec.expirationSeconds)}: may not specify a duration less than 10 minutes`, {
          name, group: 'authentication.k8s.io', kind: 'TokenRequest', causes: [{ reason: 'FieldValueInvalid', field: 'spec.expirationSeconds', message: 'may not specify a duration less than 10 minutes' }],
        });
      }
      let boundPod: { name: string; uid: string } | undefined;
      const ref = spec.boundObjectRef;
      if (ref?.kind === 'Pod' && ref.name) {
        const pod = core.get(findResource('', 'pods')!, ns ?? '', ref.name);
        if (ref.uid && ref.uid !== pod.metadata.uid) throw conflict('pods', ref.name, '', 'the UID in the bound object reference does not match');
        boundPod = { name: ref.name, uid: pod.metadata.uid! };
      }
      const issued = ctx.tokens(sa, { audiences: spec.audiences, expirationSeconds, boundPod });
      return sendJson(res, 201, {
        kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1',
        metadata: { name, namespace: ns, creationTimestamp: null },
        spec: { audiences: spec.audiences ?? [], expirationSeconds, boundObjectRef: ref ?? null },
        status: issued,
      });
    }
    case 'log':
    case 'exec': {
      const pod = core.get(info, ns ?? '', name);
      if (!ctx.streams) throw new ApiError(503, 'ServiceUnavailable', 'no node connection is available for logs and exec');
      if (sub === 'log') {
        if (method !== 'GET') throw methodNotAllowed();
        return ctx.streams.logs(req, res, pod, q);
      }
      return ctx.streams.exec(req, res, pod, q);
    }
    default:
      throw notFound(`${info.resource}/${sub}`, name, info.group);
  }
}

async function decodeObject(req: IncomingMessage, info: ResourceInfo, q: URLSearchParams, res: ServerResponse): Promise<KubeObject> {
  requireMediaType(req.headers['content-type'], OBJECT_MEDIA);
  const body = decodeBody(await readBody(req), req.headers['content-type']);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the request body must be a JSON object');
  checkFields(info, body, q, res);
  return body as KubeObject;
}

/**
 * Unknown fields, as upstream's decoder treats them: fieldValidation=Strict refuses
 * them; otherwise they are dropped, and Warn (the default) says so in Warning headers.
 */
function checkFields(info: ResourceInfo, obj: unknown, q: URLSearchParams, res?: ServerResponse): void {
  const mode = q.get('fieldValidation') || 'Warn';
  const unknown = info.custom ? info.custom.unknownFields(obj as KubeObject) : unknownFields(info.group, info.version, info.kind, obj);
  if (!unknown.length) return;
  if (mode === 'Strict') {
    throw badRequest(`strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
  }
  removeFields(obj, unknown);
  if (mode === 'Warn' && res && !res.headersSent) {
    const previous = res.getHeader('Warning');
    const earlier = Array.isArray(previous) ? previous : previous !== undefined ? [String(previous)] : [];
    res.setHeader('Warning', [...earlier, ...unknown.map((f) => `299 - "unknown field \\"${f}\\""`)]);
  }
}

async function deleteOptions(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOpts> {
  const opts: DeleteOpts = {};
  const buf = await readBody(req);
  if (buf.length && buf.toString('utf8').trim()) {
    const body = decodeBody(buf, req.headers['content-type']) as Record<string, unknown>;
    if (body && typeof body === 'object') {
      if (typeof body.propagationPolicy === 'string') opts.propagationPolicy = body.propagationPolicy as DeleteOpts['propagationPolicy'];
      if (typeof body.gracePeriodSeconds === 'number') opts.gracePeriodSeconds = body.gracePeriodSeconds;
      if (body.orphanDependents === true) opts.propagationPolicy = 'Orphan';
      if (body.preconditions && typeof body.preconditions === 'object') opts.preconditions = body.preconditions as DeleteOpts['preconditions'];
    }
  }
  if (q.get('propagationPolicy')) opts.propagationPolicy = q.get('propagationPolicy') as DeleteOpts['propagationPolicy'];
  const grace = intParam(q, 'gracePeriodSeconds', 0);
  if (grace !== undefined) opts.gracePeriodSeconds = grace;
  if (flag(q, 'orphanDependents')) opts.propagationPolicy = 'Orphan';
  return opts;
}

async function patchObject(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, info: ResourceInfo, ns: string | undefined, name: string, subresource: 'status' | undefined, q: URLSearchParams, dryRun: boolean): Promise<{ object: KubeObject; created: boolean }> {
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  // Custom resources have no patch strategy (upstream's patch handler lists what they take).
  const accepted = info.custom ? PATCH_MEDIA.filter((m) => !m.includes('strategic')) : PATCH_MEDIA;
  if (!accepted.includes(contentType)) {
    throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
  }
  const body = decodeBody(await readBody(req), contentType);
  const core = ctx.core;
  if (contentType === 'application/apply-patch+yaml') {
    // Server-side apply: create when missing, otherwise merge the applied configuration.
    checkFields(info, body, q, res);
    const existing = core.tryGet(info, ns, name);
    if (!existing) {
      const obj = { ...(body as KubeObject), metadata: { ...((body as KubeObject).metadata ?? {}), name } };
      return { object: await core.create(info, ns, obj, { dryRun, user: ctx.user }), created: true };
    }
    return { object: await core.mutate(info, ns, name, (draft) => applyStrategicMergePatch(draft, body, info.group, info.kind) as KubeObject, subresource, { dryRun, user: ctx.user }), created: false };
  }
  const object = await core.mutate(info, ns, name, (draft) => {
    const patched = applyPatch(contentType, draft, body, info.group, info.kind) as KubeObject;
    if (!subresource) checkFields(info, patched, q, res);
    return patched;
  }, subresource, { dryRun, user: ctx.user });
  return { object, created: false };
}

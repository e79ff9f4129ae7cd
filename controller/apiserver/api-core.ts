// The API's semantics, independent of HTTP: admission (defaults, validation), optimistic
// concurrency, generation, graceful deletion and finalizers, selectors and watches.
// The HTTP handlers and the in-process ClusterClient both go through here.
import { randomUUID, randomBytes } from 'node:crypto';
import type { KubeObject } from '../../protocol/kube/types.js';
import { matcherFor, parseLabelSelector, SelectorError, type LabelMatcher } from '../../protocol/kube/labels.js';
import type { StoreBackend, StoreEvent } from '../store/backend.js';
import { StoreError } from '../store/backend.js';
import { ApiError, alreadyExists, badRequest, conflict, expired, forbidden, invalid, methodNotAllowed, notFound } from './errors.js';
import { parseFieldSelector, type FieldMatcher } from './field-selector.js';
import { apiVersion, type ResourceInfo } from './resources.js';
import { validateObject } from './validation/index.js';
import type { Admission } from './admission/admission.js';
import type { UserInfo } from './http/server.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface ListResult { items: KubeObject[]; resourceVersion: string; continue?: string; remainingItemCount?: number }

export interface ApiWatchEvent { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject }

export interface DeleteOpts {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

/** `user`: who asked, for checks that depend on the requester (absent for the cluster's own writes). */
export interface WriteOpts { dryRun?: boolean; user?: UserInfo }

/** Another write landed between reading an object and writing its new state (409). */
export class ConcurrentChange extends ApiError {
  constructor(message: string, details: ApiError['details']) {
    super(409, 'Conflict', message, details);
  }
}

const PROTECTED_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);
const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(n = 5): string {
  const bytes = randomBytes(n);
  let s = '';
  for (const b of bytes) s += NAME_CHARS[b % NAME_CHARS.length];
  return s;
}

export function clone<T>(v: T): T {
  return structuredClone(v) as T;
}

function sameJSON(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

export class ApiCore {
  constructor(readonly store: StoreBackend, readonly admission: Admission) {}

  // ---- reads ----

  get(info: ResourceInfo, namespace: string, name: string): KubeObject {
    const obj = this.store.get(info.gr, info.namespaced ? namespace : '', name);
    if (!obj) throw notFound(info.resource, name, info.group);
    return asServed(info, obj);
  }

  tryGet(info: ResourceInfo, namespace: string | undefined, name: string): KubeObject | undefined {
    const obj = this.store.get(info.gr, info.namespaced ? namespace ?? '' : '', name);
    return obj && asServed(info, obj);
  }

  list(info: ResourceInfo, namespace: string | undefined, q: ListQuery = {}): ListResult {
    const match = this.matcher(q);
    const all = this.store.list(info.gr, info.namespaced ? namespace : undefined);
    let items = all.filter(match).map((o) => asServed(info, o));
    const resourceVersion = String(this.store.revision);
    if (!q.limit && !q.continue) return { items, resourceVersion };
    items = items.sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    let start = 0;
    if (q.continue) {
      let after: string;
      try {
        after = (JSON.parse(Buffer.from(q.continue, 'base64url').toString('utf8')) as { k: string }).k;
      } catch {
        throw badRequest('invalid continue token');
      }
      start = items.findIndex((o) => keyOf(o) > after);
      if (start < 0) start = items.length;
    }
    const limit = q.limit && q.limit > 0 ? q.limit : items.length;
    const page = items.slice(start, start + limit);
    const remaining = items.length - (start + page.length);
    if (remaining > 0 && page.length > 0) {
      const token = Buffer.from(JSON.stringify({ k: keyOf(page[page.length - 1]!) })).toString('base64url');
      return { items: page, resourceVersion, continue: token, remainingItemCount: remaining };
    }
    return { items: page, resourceVersion };
  }

  /**
   * Watches like upstream: an empty or "0" resourceVersion starts with synthetic ADDED
   * events for what exists; objects entering or leaving the selection appear as ADDED or
   * DELETED.
   */
  watch(info: ResourceInfo, namespace: string | undefined, q: ListQuery & { resourceVersion?: string }, onEvent: (e: ApiWatchEvent) => void): () => void {
    const match = this.matcher(q);
    const ns = info.namespaced ? namespace : undefined;
    if (info.custom) {
      const deliver = onEvent;
      onEvent = (e) => deliver({ ...e, object: asServed(info, e.object) });
    }
    const inScope = (o: KubeObject) => ns === undefined || o.metadata.namespace === ns;
    let from: number;
    if (!q.resourceVersion || q.resourceVersion === '0') {
      from = this.store.revision;
      for (const o of this.store.list(info.gr, ns)) if (match(o)) onEvent({ type: 'ADDED', object: o });
    } else {
      from = Number(q.resourceVersion);
      if (!Number.isInteger(from) || from < 0) throw badRequest(`invalid resourceVersion "${q.resourceVersion}"`);
    }
    try {
      return this.store.watch(info.gr, from, (e: StoreEvent) => {
        if (!inScope(e.object)) return;
        const now = e.type !== 'DELETED' && match(e.object);
        const before = e.previous !== undefined && match(e.previous);
        if (e.type === 'DELETED') { if (before || match(e.object)) onEvent({ type: 'DELETED', object: e.object }); return; }
        if (now && before) onEvent({ type: 'MODIFIED', object: e.object });
        else if (now) onEvent({ type: 'ADDED', object: e.object });
        else if (before) onEvent({ type: 'DELETED', object: e.object });
      });
    } catch (err) {
      if (err instanceof StoreError && err.code === 'Expired') throw expired(err.message);
      throw err;
    }
  }

  private matcher(q: ListQuery): (o: KubeObject) => boolean {
    let labels: LabelMatcher;
    try {
      labels = matcherFor(q.labelSelector ? parseLabelSelector(q.labelSelector) : []);
    } catch (err) {
      if (err instanceof SelectorError) throw badRequest(`unable to parse requirement: ${err.message}`);
      throw err;
    }
    const fields: FieldMatcher = parseFieldSelector(q.fieldSelector);
    return (o) => labels(o.metadata.labels) && fields(o);
  }

  // ---- writes ----

  async create(info: ResourceInfo, namespace: string | undefined, input: KubeObject, opts: WriteOpts = {}): Promise<KubeObject> {
    const obj = this.checkIdentity(info, namespace, input);
    const meta = obj.metadata;
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
    const ns = info.namespaced ? meta.namespace! : '';
    this.admission.defaults(info, obj, undefined);
    if (info.custom?.terminating) throw methodNotAllowed(`create not allowed while custom resource definition is terminating`);
    const causes = [...customCauses(info, obj), ...validateObject(info.group, info.version, info.kind, obj)];
    if (causes.length) throw invalid(info.kind, meta.name ?? '', info.group, causes);
    if (info.namespaced) this.requireNamespace(ns, true);
    if (this.store.get(info.gr, ns, meta.name!)) throw alreadyExists(info.resource, meta.name!, info.group);
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    meta.uid = randomUUID();
    meta.creationTimestamp = rfc3339Seconds();
    if (info.hasGeneration) meta.generation = 1;
    else delete meta.generation;
    this.admission.prepareCreate(info, obj);
    await this.admission.admitCreate(info, obj, opts.user);
    if (opts.dryRun) return obj;
    try {
      return await this.store.create(info.gr, ns, meta.name!, obj);
    } catch (err) {
      throw this.storeError(err, info, meta.name!);
    }
  }

  /** PUT: the whole object (main resource) or only its status. */
  async update(info: ResourceInfo, namespace: string | undefined, name: string, input: KubeObject, subresource?: 'status', opts: WriteOpts = {}): Promise<KubeObject> {
    const obj = this.checkIdentity(info, namespace, input);
    if (obj.metadata.name !== name) throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    const ns = info.namespaced ? obj.metadata.namespace! : '';
    const current = this.get(info, ns, name);
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(info.resource, name, info.group);
    }
    if (obj.metadata.uid && obj.metadata.uid !== current.metadata.uid) {
      throw conflict(info.resource, name, info.group, `Precondition failed: UID in precondition: ${obj.metadata.uid}, UID in object meta: ${current.metadata.uid}`);
    }
    return this.replace(info, current, obj, subresource, opts);
  }

  /** Applies a change computed from the current object (patch, scale, binding...). */
  async mutate(info: ResourceInfo, namespace: string | undefined, name: string, change: (draft: KubeObject) => KubeObject | void, subresource?: 'status' | 'binding', opts: WriteOpts = {}): Promise<KubeObject> {
    // Like upstream's patch handler: a change computed from the current object is computed
    // again when another write landed between our read and our write.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.mutateOnce(info, namespace, name, change, subresource, opts);
      } catch (err) {
        if (!(err instanceof ConcurrentChange) || attempt >= 5) throw err;
      }
    }
  }

  private async mutateOnce(info: ResourceInfo, namespace: string | undefined, name: string, change: (draft: KubeObject) => KubeObject | void, subresource: 'status' | 'binding' | undefined, opts: WriteOpts): Promise<KubeObject> {
    const current = this.get(info, namespace ?? '', name);
    const draft = clone(current) as KubeObject;
    const next = (change(draft) ?? draft) as KubeObject;
    if (!next || typeof next !== 'object' || Array.isArray(next) || typeof next.metadata !== 'object' || next.metadata === null) {
      throw badRequest('the patch produced an object without metadata');
    }
    if (next.metadata.resourceVersion && next.metadata.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(info.resource, name, info.group);
    }
    if (next.metadata.name !== undefined && next.metadata.name !== name) throw badRequest(`metadata.name: Invalid value: "${String(next.metadata.name)}": field is immutable`);
    next.metadata.name = name;
    if (info.namespaced) {
      if (next.metadata.namespace !== undefined && next.metadata.namespace !== current.metadata.namespace) throw badRequest('metadata.namespace: field is immutable');
      next.metadata.namespace = current.metadata.namespace;
    }
    next.apiVersion = current.apiVersion;
    next.kind = current.kind;
    return this.replace(info, current, next, subresource, opts);
  }

  private async replace(info: ResourceInfo, current: KubeObject, obj: KubeObject, subresource: 'status' | 'binding' | undefined, opts: WriteOpts): Promise<KubeObject> {
    const name = current.metadata.name!;
    const ns = current.metadata.namespace ?? '';
    let next: KubeObject;
    if (subresource === 'binding') {
      // Binding sets spec.nodeName and the PodScheduled condition together; the caller
      // has checked the change, and pod spec immutability does not apply to it.
      next = obj;
    } else if (subresource === 'status') {
      // Status writers change status (and, like upstream, nothing else of the spec).
      next = { ...clone(current) as KubeObject, status: obj.status };
      const m = obj.metadata;
      if (m.labels !== undefined) next.metadata.labels = m.labels;
      if (m.annotations !== undefined) next.metadata.annotations = m.annotations;
      const causes = customCauses(info, next);
      if (causes.length) throw invalid(info.kind, name, info.group, causes);
    } else {
      next = obj;
      const meta = next.metadata;
      meta.uid = current.metadata.uid;
      meta.creationTimestamp = current.metadata.creationTimestamp;
      meta.namespace = current.metadata.namespace;
      if (current.metadata.deletionTimestamp) {
        meta.deletionTimestamp = current.metadata.deletionTimestamp;
        if (current.metadata.deletionGracePeriodSeconds !== undefined) meta.deletionGracePeriodSeconds = current.metadata.deletionGracePeriodSeconds;
      } else {
        delete meta.deletionTimestamp;
        delete meta.deletionGracePeriodSeconds;
      }
      if (info.statusSubresource) {
        if (current.status === undefined) delete next.status;
        else next.status = clone(current.status);
      }
      if (info.hasGeneration) {
        const gen = current.metadata.generation ?? 1;
        meta.generation = sameJSON(current.spec, next.spec) ? gen : gen + 1;
      } else if (current.metadata.generation !== undefined) {
        meta.generation = current.metadata.generation;
      }
      this.admission.defaults(info, next, current);
      const causes = [...customCauses(info, next), ...validateObject(info.group, info.version, info.kind, next, current)];
      if (causes.length) throw invalid(info.kind, name, info.group, causes);
    }
    await this.admission.admitUpdate(info, next, current, opts.user);
    delete next.metadata.resourceVersion;
    if (sameJSON(stripRv(next), stripRv(current))) return current; // a no-op writes nothing
    if (opts.dryRun) return next;
    // An object being deleted goes once its last finalizer is gone.
    if (next.metadata.deletionTimestamp && !(next.metadata.finalizers?.length) && !this.admission.blocksRemoval(info, next)) {
      return this.remove(info, ns, name, current);
    }
    try {
      return asServed(info, await this.store.update(info.gr, ns, name, next, Number(current.metadata.resourceVersion)));
    } catch (err) {
      if (err instanceof StoreError && err.code === 'Conflict') {
        const c = conflict(info.resource, name, info.group);
        throw new ConcurrentChange(c.message, c.details);
      }
      throw this.storeError(err, info, name);
    }
  }

  /**
   * DELETE. Returns the object and whether it is gone now (else it was marked for
   * deletion: graceful pod termination, finalizers).
   */
  async delete(info: ResourceInfo, namespace: string | undefined, name: string, opts: DeleteOpts = {}): Promise<{ object: KubeObject; gone: boolean }> {
    // Without preconditions a delete that raced another write is tried again on the newer
    // object, as upstream's registry does for deletions (GuaranteedUpdate).
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.deleteOnce(info, namespace, name, opts);
      } catch (err) {
        const raced = err instanceof ApiError && err.code === 409 && err.reason === 'Conflict';
        if (!raced || opts.preconditions || attempt >= 5) throw err;
      }
    }
  }

  private async deleteOnce(info: ResourceInfo, namespace: string | undefined, name: string, opts: DeleteOpts): Promise<{ object: KubeObject; gone: boolean }> {
    const ns = info.namespaced ? namespace ?? '' : '';
    const current = this.get(info, ns, name);
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== current.metadata.uid) {
      throw conflict(info.resource, name, info.group, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(info.resource, name, info.group, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`);
    }
    if (info.resource === 'namespaces' && !info.group && PROTECTED_NAMESPACES.has(name)) {
      throw forbidden(`namespaces "${name}" is forbidden: this namespace may not be deleted`, { name, kind: 'namespaces' });
    }
    const draft = clone(current) as KubeObject;
    const meta = draft.metadata;
    const finalizers = new Set(meta.finalizers ?? []);
    if (opts.propagationPolicy === 'Foreground') finalizers.add('foregroundDeletion');
    if (opts.propagationPolicy === 'Orphan') finalizers.add('orphan');
    const grace = this.admission.gracePeriod(info, current, opts.gracePeriodSeconds);
    const now = new Date();
    if (grace > 0 || finalizers.size > 0 || this.admission.blocksRemoval(info, draft)) {
      if (!meta.deletionTimestamp) {
        meta.deletionTimestamp = rfc3339Seconds(now.getTime() + grace * 1000);
        meta.deletionGracePeriodSeconds = grace;
      } else if (grace < (meta.deletionGracePeriodSeconds ?? Infinity)) {
        // A shorter grace period may replace a longer one, never the reverse.
        meta.deletionGracePeriodSeconds = grace;
        meta.deletionTimestamp = rfc3339Seconds(now.getTime() + grace * 1000);
      }
      if (finalizers.size) meta.finalizers = [...finalizers];
      this.admission.prepareDelete(info, draft);
      if (grace > 0 || finalizers.size > 0 || this.admission.blocksRemoval(info, draft)) {
        if (opts.dryRun) return { object: draft, gone: false };
        if (sameJSON(stripRv(draft), stripRv(current))) return { object: current, gone: false };
        delete meta.resourceVersion;
        try {
          const stored = await this.store.update(info.gr, ns, name, draft, Number(current.metadata.resourceVersion));
          return { object: stored, gone: false };
        } catch (err) {
          throw this.storeError(err, info, name);
        }
      }
    }
    if (opts.dryRun) return { object: current, gone: true };
    return { object: await this.remove(info, ns, name, current), gone: true };
  }

  private async remove(info: ResourceInfo, ns: string, name: string, current: KubeObject): Promise<KubeObject> {
    try {
      return await this.store.delete(info.gr, ns, name, Number(current.metadata.resourceVersion));
    } catch (err) {
      throw this.storeError(err, info, name);
    }
  }

  async deleteCollection(info: ResourceInfo, namespace: string | undefined, q: ListQuery, opts: DeleteOpts): Promise<KubeObject[]> {
    const { items } = this.list(info, namespace, { labelSelector: q.labelSelector, fieldSelector: q.fieldSelector });
    const out: KubeObject[] = [];
    for (const o of items) {
      try {
        out.push((await this.delete(info, o.metadata.namespace, o.metadata.name!, opts)).object);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
    return out;
  }

  // ---- helpers ----

  /** Clones the input and checks apiVersion/kind/namespace against the URL. */
  private checkIdentity(info: ResourceInfo, namespace: string | undefined, input: KubeObject): KubeObject {
    if (!input || typeof input !== 'object' || Array.isArray(input)) throw badRequest('the body must be a JSON object');
    const obj = clone(input);
    const want = apiVersion(info);
    if (obj.apiVersion !== undefined && obj.apiVersion !== want) {
      throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${want})`);
    }
    if (obj.kind !== undefined && obj.kind !== info.kind) {
      throw badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${info.kind})`);
    }
    obj.apiVersion = want;
    obj.kind = info.kind;
    if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
    if (typeof obj.metadata !== 'object' || Array.isArray(obj.metadata)) throw badRequest('metadata must be an object');
    if (info.namespaced) {
      const ns = namespace ?? obj.metadata.namespace ?? 'default';
      if (obj.metadata.namespace && obj.metadata.namespace !== ns) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      obj.metadata.namespace = ns;
    } else {
      delete obj.metadata.namespace;
    }
    return obj;
  }

  private requireNamespace(ns: string, forCreate: boolean): void {
    const nsObj = this.store.get('namespaces', '', ns);
    if (!nsObj) throw notFound('namespaces', ns);
    if (forCreate && nsObj.metadata.deletionTimestamp) {
      throw forbidden(`unable to create new content in namespace ${ns} because it is being terminated`);
    }
  }

  private storeError(err: unknown, info: ResourceInfo, name: string): unknown {
    if (!(err instanceof StoreError)) return err;
    switch (err.code) {
      case 'NotFound': return notFound(info.resource, name, info.group);
      case 'AlreadyExists': return alreadyExists(info.resource, name, info.group);
      case 'Conflict': return conflict(info.resource, name, info.group);
      case 'Expired': return expired(err.message);
    }
  }
}

/** Custom resources: prunes unknown fields and fills schema defaults, then checks the schema. */
function customCauses(info: ResourceInfo, obj: KubeObject): ReturnType<NonNullable<ResourceInfo['custom']>['validate']> {
  if (!info.custom) return [];
  info.custom.normalize(obj);
  return info.custom.validate(obj);
}

/** A custom resource read through another served version carries that version (conversion None). */
function asServed(info: ResourceInfo, obj: KubeObject): KubeObject {
  if (!info.custom) return obj;
  const want = apiVersion(info);
  return obj.apiVersion === want ? obj : { ...obj, apiVersion: want };
}

function keyOf(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
}

function stripRv(o: KubeObject): KubeObject {
  return { ...o, metadata: { ...o.metadata, resourceVersion: undefined } };
}

/**
 * OpenAPI v3 documents for the served kinds, one per group/version, as kubectl reads
 * them: `--validate=strict` looks for the `fieldValidation` parameter on PATCH
 * operations (then leaves field checking to the server) and `kubectl explain` walks
 * the component schemas found through `x-kubernetes-group-version-kind`.
 *
 * Schemas come from the validation schema catalog (the upstream definitions shipped
 * with kubernetes-models). Documents are built once per set of kinds and cached.
 */
import { createHash } from 'node:crypto';
import { closureOf, loadKind, loadMetaDefinition, type JsonSchema } from './validation/schema-catalog.js';
import { patchMetaFor, type StructPatchMeta } from './patch/merge-keys.js';

export interface ServedKind {
  group: string; version: string; kind: string; resource: string; namespaced: boolean; subresources: string[];
  /** A custom resource's openAPIV3Schema (built-in kinds come from the schema catalog). */
  schema?: Record<string, unknown>;
}

type Json = Record<string, unknown>;
interface Gvk { group: string; version: string; kind: string }

const REF_PREFIX = '#/components/schemas/';
const META = {
  status: 'apis/meta/v1/Status',
  deleteOptions: 'apis/meta/v1/DeleteOptions',
  patch: 'apis/meta/v1/Patch',
  watchEvent: 'apis/meta/v1/WatchEvent',
} as const;

/** Subresources whose body is another kind; the rest (status, finalize) use the owner's kind. */
const SUBRESOURCE_KINDS: Record<string, Gvk> = {
  scale: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
  binding: { group: '', version: 'v1', kind: 'Binding' },
  eviction: { group: 'policy', version: 'v1', kind: 'Eviction' },
  token: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' },
};
/** Streaming subresources: text out, no object kind. */
const CONNECT_SUBRESOURCES = new Set(['log', 'exec', 'attach', 'portforward', 'proxy']);

export function groupVersionPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

// ---------------------------------------------------------------------------
// Schemas

function refTo(name: string): Json {
  return { $ref: REF_PREFIX + name };
}

/** Catalog schema → OpenAPI 3.0 schema ($ref cannot have siblings there, hence allOf). */
function toOpenApi(schema: JsonSchema, asProperty: boolean): Json {
  if (schema.$ref) {
    if (!asProperty) return refTo(schema.$ref);
    const out: Json = { allOf: [refTo(schema.$ref)] };
    if (schema.description) out.description = schema.description;
    return out;
  }
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, toOpenApi(v, true)]));
    } else if (key === 'items' || key === 'additionalProperties') {
      const inner = value as JsonSchema;
      out[key] = inner.$ref ? { allOf: [refTo(inner.$ref)], default: {} } : toOpenApi(inner, false);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** The definition a property schema points at (`$ref`, or `allOf: [{$ref}]`), if any. */
function referenced(schema: Json | undefined): string | undefined {
  if (!schema) return undefined;
  const ref = (schema.$ref ?? (schema.allOf as Json[] | undefined)?.[0]?.$ref) as string | undefined;
  return ref?.startsWith(REF_PREFIX) ? ref.slice(REF_PREFIX.length) : undefined;
}

/**
 * Marks lists with upstream's x-kubernetes-patch-merge-key / -strategy. kubectl apply
 * computes its strategic merge patch from these: without them it replaces whole lists,
 * and a second apply of an unchanged manifest would not say `unchanged`.
 */
function annotatePatchMeta(schemas: Json, definition: string, meta: StructPatchMeta, seen: Set<string>): void {
  if (seen.has(definition)) return;
  seen.add(definition);
  const props = (schemas[definition] as Json | undefined)?.properties as Record<string, Json> | undefined;
  if (!props) return;
  for (const [field, fm] of Object.entries(meta)) {
    const prop = props[field];
    if (!prop) continue;
    if (fm.strategy) prop['x-kubernetes-patch-strategy'] = fm.strategy;
    if (fm.mergeKey) prop['x-kubernetes-patch-merge-key'] = fm.mergeKey;
    if (!fm.fields) continue;
    const inner = prop.type === 'array' ? referenced(prop.items as Json) : referenced(prop);
    if (inner) annotatePatchMeta(schemas, inner, fm.fields, seen);
  }
}

function definitionFor(gvk: Gvk): string | undefined {
  try {
    return loadKind(gvk.group, gvk.version, gvk.kind);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// Operations

const param = (name: string, type: string, description: string, where: 'query' | 'path' = 'query'): Json => ({
  name,
  in: where,
  description,
  ...(where === 'path' ? { required: true } : {}),
  schema: { type, uniqueItems: true },
});

const PARAMS = {
  name: (kind: string) => param('name', 'string', `name of the ${kind}`, 'path'),
  namespace: param('namespace', 'string', 'object name and auth scope, such as for teams and projects', 'path'),
  pretty: param('pretty', 'string', "If 'true', then the output is pretty printed."),
  dryRun: param('dryRun', 'string', 'When present, indicates that modifications should not be persisted. Valid value: All.'),
  fieldManager: param('fieldManager', 'string', 'A name associated with the actor or entity that is making these changes.'),
  fieldValidation: param('fieldValidation', 'string', 'How the server treats fields it does not know or that are duplicated: Ignore, Warn (default) or Strict (reject the request).'),
  force: param('force', 'boolean', 'Force is going to "force" Apply requests. It must be unset for non-apply patch requests.'),
  labelSelector: param('labelSelector', 'string', 'A selector to restrict the list of returned objects by their labels.'),
  fieldSelector: param('fieldSelector', 'string', 'A selector to restrict the list of returned objects by their fields.'),
  limit: param('limit', 'integer', 'Maximum number of responses to return for a list call.'),
  continue: param('continue', 'string', 'The continue option should be set when retrieving more results from the server.'),
  resourceVersion: param('resourceVersion', 'string', 'Constrains which resource versions the request may be served from.'),
  resourceVersionMatch: param('resourceVersionMatch', 'string', 'Determines how resourceVersion is applied to list calls.'),
  watch: param('watch', 'boolean', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.'),
  allowWatchBookmarks: param('allowWatchBookmarks', 'boolean', 'Requests watch events with type "BOOKMARK".'),
  timeoutSeconds: param('timeoutSeconds', 'integer', 'Timeout for the list/watch call.'),
  gracePeriodSeconds: param('gracePeriodSeconds', 'integer', 'The duration in seconds before the object should be deleted.'),
  propagationPolicy: param('propagationPolicy', 'string', "Whether and how garbage collection will be performed: 'Orphan', 'Background' or 'Foreground'."),
  orphanDependents: param('orphanDependents', 'boolean', 'Deprecated: please use the PropagationPolicy.'),
};

const LIST_PARAMS = [PARAMS.allowWatchBookmarks, PARAMS.continue, PARAMS.fieldSelector, PARAMS.labelSelector, PARAMS.limit, PARAMS.resourceVersion, PARAMS.resourceVersionMatch, PARAMS.timeoutSeconds, PARAMS.watch];
const WRITE_PARAMS = [PARAMS.dryRun, PARAMS.fieldManager, PARAMS.fieldValidation];
const DELETE_PARAMS = [PARAMS.dryRun, PARAMS.gracePeriodSeconds, PARAMS.orphanDependents, PARAMS.propagationPolicy];

const OBJECT_MEDIA = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
const PATCH_MEDIA = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];

function content(media: string[], schema: Json): Json {
  return Object.fromEntries(media.map((m) => [m, { schema }]));
}

function response(description: string, schema: Json, media = OBJECT_MEDIA): Json {
  return { description, content: content(media, schema) };
}

function camel(s: string): string {
  return s.split(/[.\-/]/).map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');
}

interface OperationSpec {
  verb: 'get' | 'put' | 'post' | 'patch' | 'delete';
  action: string;
  idVerb: string;
  description: string;
  parameters: Json[];
  requestSchema?: Json;
  requestMedia?: string[];
  responses: Json;
  gvk?: Gvk;
  tag: string;
  idSubject: string;
}

function operation(o: OperationSpec): Json {
  const op: Json = {
    tags: [o.tag],
    description: o.description,
    operationId: `${o.idVerb}${o.idSubject}`,
    parameters: o.parameters,
  };
  if (o.requestSchema) op.requestBody = { required: true, content: content(o.requestMedia ?? ['*/*'], o.requestSchema) };
  op.responses = { ...o.responses, '401': { description: 'Unauthorized' } };
  op['x-kubernetes-action'] = o.action;
  if (o.gvk) op['x-kubernetes-group-version-kind'] = o.gvk;
  return op;
}

interface PathSet { paths: Json; schemaRoots: Set<string>; statusName: string; deleteOptionsName: string; patchName: string; custom: Json }

/** Schema name of a custom kind, like upstream's (`com.example.lab.v1.Backup`). */
function customDefinitionName(gvk: Gvk): string {
  return [...gvk.group.split('.').reverse(), gvk.version, gvk.kind].join('.');
}

/** A custom kind's schema, with metadata pointing at ObjectMeta and its GVK named. */
function customSchema(k: ServedKind, objectMeta: string): Json {
  const schema = structuredClone(k.schema!) as Json;
  const properties = (schema.properties ?? {}) as Json;
  properties.apiVersion ??= { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' };
  properties.kind ??= { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' };
  properties.metadata = { allOf: [refTo(objectMeta)], description: 'Standard object\'s metadata.' };
  schema.properties = properties;
  schema.type ??= 'object';
  schema['x-kubernetes-group-version-kind'] = [{ group: k.group, version: k.version, kind: k.kind }];
  return schema;
}

function addKindPaths(k: ServedKind, out: PathSet): void {
  const gvk: Gvk = { group: k.group, version: k.version, kind: k.kind };
  let definition = definitionFor(gvk);
  let listDefinition: string | undefined;
  if (k.schema) {
    const objectMeta = loadMetaDefinition('apis/meta/v1/ObjectMeta');
    const listMeta = loadMetaDefinition('apis/meta/v1/ListMeta');
    out.schemaRoots.add(objectMeta);
    out.schemaRoots.add(listMeta);
    definition = customDefinitionName(gvk);
    listDefinition = `${definition}List`;
    out.custom[definition] = customSchema(k, objectMeta);
    out.custom[listDefinition] = {
      type: 'object', required: ['items'],
      properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, items: { type: 'array', items: refTo(definition) }, metadata: { allOf: [refTo(listMeta)] } },
      'x-kubernetes-group-version-kind': [{ group: k.group, version: k.version, kind: `${k.kind}List` }],
    };
  }
  if (!definition) return;
  if (!k.schema) out.schemaRoots.add(definition);
  if (!k.schema) {
    listDefinition = definitionFor({ ...gvk, kind: `${k.kind}List` });
    if (listDefinition) out.schemaRoots.add(listDefinition);
  }
  // A kind served only as a subresource body (Scale) has schemas but no URLs of its own.
  if (!k.resource || k.resource.includes('/')) return;

  const prefix = `/${groupVersionPath(k.group, k.version)}`;
  const tag = `${k.group.split('.')[0] || 'core'}_${k.version}`;
  const idGv = `${camel(k.group.split('.')[0] || 'core')}${camel(k.version)}`;
  const scope = k.namespaced ? 'Namespaced' : '';
  const object = refTo(definition);
  const list = listDefinition ? refTo(listDefinition) : { type: 'object' };
  const status = refTo(out.statusName);
  const collection = k.namespaced ? `${prefix}/namespaces/{namespace}/${k.resource}` : `${prefix}/${k.resource}`;
  const item = `${collection}/{name}`;
  const scopeParams = k.namespaced ? [PARAMS.namespace] : [];

  out.paths[collection] = {
    get: operation({ verb: 'get', action: 'list', idVerb: 'list', idSubject: `${idGv}${scope}${k.kind}`, tag, gvk, description: `list or watch objects of kind ${k.kind}`, parameters: LIST_PARAMS, responses: { '200': response('OK', list, [...OBJECT_MEDIA, 'application/json;stream=watch']) } }),
    post: operation({ verb: 'post', action: 'post', idVerb: 'create', idSubject: `${idGv}${scope}${k.kind}`, tag, gvk, description: `create a ${k.kind}`, parameters: WRITE_PARAMS, requestSchema: object, responses: { '200': response('OK', object), '201': response('Created', object), '202': response('Accepted', object) } }),
    delete: operation({ verb: 'delete', action: 'deletecollection', idVerb: 'deleteCollection', idSubject: `${idGv}${scope}${k.kind}`, tag, gvk, description: `delete collection of ${k.kind}`, parameters: [...DELETE_PARAMS, ...LIST_PARAMS], requestSchema: refTo(out.deleteOptionsName), responses: { '200': response('OK', status) } }),
    parameters: [...scopeParams, PARAMS.pretty],
  };
  if (k.namespaced) {
    out.paths[`${prefix}/${k.resource}`] = {
      get: operation({ verb: 'get', action: 'list', idVerb: 'list', idSubject: `${idGv}${k.kind}ForAllNamespaces`, tag, gvk, description: `list or watch objects of kind ${k.kind}`, parameters: [], responses: { '200': response('OK', list, [...OBJECT_MEDIA, 'application/json;stream=watch']) } }),
      parameters: [...LIST_PARAMS, PARAMS.pretty],
    };
  }
  out.paths[item] = {
    get: operation({ verb: 'get', action: 'get', idVerb: 'read', idSubject: `${idGv}${scope}${k.kind}`, tag, gvk, description: `read the specified ${k.kind}`, parameters: [], responses: { '200': response('OK', object) } }),
    put: operation({ verb: 'put', action: 'put', idVerb: 'replace', idSubject: `${idGv}${scope}${k.kind}`, tag, gvk, description: `replace the specified ${k.kind}`, parameters: WRITE_PARAMS, requestSchema: object, responses: { '200': response('OK', object), '201': response('Created', object) } }),
    patch: operation({ verb: 'patch', action: 'patch', idVerb: 'patch', idSubject: `${idGv}${scope}${k.kind}`, tag, gvk, description: `partially update the specified ${k.kind}`, parameters: [...WRITE_PARAMS, PARAMS.force], requestSchema: refTo(out.patchName), requestMedia: PATCH_MEDIA, responses: { '200': response('OK', object), '201': response('Created', object) } }),
    delete: operation({ verb: 'delete', action: 'delete', idVerb: 'delete', idSubject: `${idGv}${scope}${k.kind}`, tag, gvk, description: `delete a ${k.kind}`, parameters: DELETE_PARAMS, requestSchema: refTo(out.deleteOptionsName), responses: { '200': response('OK', object), '202': response('Accepted', object) } }),
    parameters: [PARAMS.name(k.kind), ...scopeParams, PARAMS.pretty],
  };

  for (const sub of k.subresources) {
    const subPath = `${item}/${sub}`;
    const subject = `${idGv}${scope}${k.kind}${camel(sub)}`;
    const pathParams = [PARAMS.name(k.kind), ...scopeParams, PARAMS.pretty];
    if (CONNECT_SUBRESOURCES.has(sub)) {
      out.paths[subPath] = {
        get: operation({ verb: 'get', action: 'connect', idVerb: 'connectGet', idSubject: subject, tag, description: `connect GET requests to ${sub} of ${k.kind}`, parameters: [], responses: { '200': response('OK', { type: 'string' }, ['text/plain', '*/*']) } }),
        parameters: pathParams,
      };
      continue;
    }
    const subGvk = SUBRESOURCE_KINDS[sub] ?? gvk;
    const subDefinition: string | undefined = k.schema && !SUBRESOURCE_KINDS[sub] ? definition : definitionFor(subGvk);
    if (!subDefinition) continue;
    if (subDefinition !== definition || !k.schema) out.schemaRoots.add(subDefinition);
    const body = refTo(subDefinition);
    const entry: Json = { parameters: pathParams };
    if (sub === 'binding' || sub === 'eviction' || sub === 'token') {
      entry.post = operation({ verb: 'post', action: 'post', idVerb: 'create', idSubject: subject, tag, gvk: subGvk, description: `create ${sub} of a ${k.kind}`, parameters: WRITE_PARAMS, requestSchema: body, responses: { '200': response('OK', body), '201': response('Created', body), '202': response('Accepted', body) } });
    } else if (sub === 'finalize') {
      entry.put = operation({ verb: 'put', action: 'put', idVerb: 'replace', idSubject: subject, tag, gvk: subGvk, description: `replace finalize of the specified ${k.kind}`, parameters: WRITE_PARAMS, requestSchema: body, responses: { '200': response('OK', body), '201': response('Created', body) } });
    } else {
      entry.get = operation({ verb: 'get', action: 'get', idVerb: 'read', idSubject: subject, tag, gvk: subGvk, description: `read ${sub} of the specified ${k.kind}`, parameters: [], responses: { '200': response('OK', body) } });
      entry.put = operation({ verb: 'put', action: 'put', idVerb: 'replace', idSubject: subject, tag, gvk: subGvk, description: `replace ${sub} of the specified ${k.kind}`, parameters: WRITE_PARAMS, requestSchema: body, responses: { '200': response('OK', body), '201': response('Created', body) } });
      entry.patch = operation({ verb: 'patch', action: 'patch', idVerb: 'patch', idSubject: subject, tag, gvk: subGvk, description: `partially update ${sub} of the specified ${k.kind}`, parameters: [...WRITE_PARAMS, PARAMS.force], requestSchema: refTo(out.patchName), requestMedia: PATCH_MEDIA, responses: { '200': response('OK', body), '201': response('Created', body) } });
    }
    out.paths[subPath] = entry;
  }
}

// ---------------------------------------------------------------------------
// Documents and cache

interface BuiltDocument { body: Json; hash: string }
interface DocumentSet { byPath: Map<string, BuiltDocument>; index: Json }

const cache = new Map<string, DocumentSet>();

function buildDocument(kinds: ServedKind[]): Json {
  const statusName = loadMetaDefinition(META.status);
  const deleteOptionsName = loadMetaDefinition(META.deleteOptions);
  const patchName = loadMetaDefinition(META.patch);
  const watchEventName = loadMetaDefinition(META.watchEvent);
  const out: PathSet = {
    paths: {},
    schemaRoots: new Set([statusName, deleteOptionsName, patchName, watchEventName]),
    statusName,
    deleteOptionsName,
    patchName,
    custom: {},
  };
  for (const k of kinds) addKindPaths(k, out);
  const schemas: Json = {};
  const definitions = [...closureOf(out.schemaRoots)].sort(([a], [b]) => a.localeCompare(b));
  for (const [name, schema] of definitions) schemas[name] = toOpenApi(schema, false);
  Object.assign(schemas, out.custom);
  for (const k of kinds) {
    const name = definitionFor({ group: k.group, version: k.version, kind: k.kind });
    if (name) annotatePatchMeta(schemas, name, patchMetaFor(k.group, k.kind), new Set());
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0' },
    paths: out.paths,
    components: { schemas },
  };
}

function documentsFor(kinds: ServedKind[]): DocumentSet {
  const key = JSON.stringify(kinds);
  const cached = cache.get(key);
  if (cached) return cached;
  const byGroupVersion = new Map<string, ServedKind[]>();
  for (const k of kinds) {
    const gv = groupVersionPath(k.group, k.version);
    byGroupVersion.set(gv, [...(byGroupVersion.get(gv) ?? []), k]);
  }
  const byPath = new Map<string, BuiltDocument>();
  const indexPaths: Json = {};
  for (const [gv, group] of [...byGroupVersion].sort(([a], [b]) => a.localeCompare(b))) {
    const body = buildDocument(group);
    // Clients cache documents by URL; a content hash changes the URL exactly when the content changes.
    const hash = createHash('sha512').update(JSON.stringify(body)).digest('hex').slice(0, 128).toUpperCase();
    byPath.set(gv, { body, hash });
    indexPaths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${hash}` };
  }
  const set: DocumentSet = { byPath, index: { paths: indexPaths } };
  // Each CRD change is a new set of kinds; keep only the recent ones.
  if (cache.size >= 8) cache.delete(cache.keys().next().value!);
  cache.set(key, set);
  return set;
}

/** GET /openapi/v3 body: {"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=<stable hash>"}, "apis/apps/v1": ...}} */
export function openapiV3Index(kinds: ServedKind[]): object {
  return documentsFor(kinds).index;
}

/** GET /openapi/v3/api/v1 (or apis/<g>/<v>) body, or undefined for an unknown group/version. */
export function openapiV3Document(kinds: ServedKind[], groupVersionPath: string): object | undefined {
  const path = groupVersionPath.replace(/^\/+|\/+$/g, '').split('?')[0]!;
  return documentsFor(kinds).byPath.get(path)?.body;
}

// GET /openapi/v2: the Swagger 2.0 form of the served API, built from the OpenAPI v3
// documents (one per group/version) that openapi.ts writes, custom resources included.
// As JSON, or, when a client asks for `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`
// (client-go, kubectl and Helm do), as gnostic's openapi_v2.Document message.
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { openapiV3Document, openapiV3Index, type ServedKind } from './openapi.js';

type Json = Record<string, unknown>;

/** Clients ask with '@v1.0'; the answer names it with a dot, a valid media type. */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

const V3_REF = '#/components/schemas/';

/** Rewrites `$ref`s to Swagger 2.0's `#/definitions/`, without recursion (schemas nest deeply). */
function rewriteRefs(value: unknown): unknown {
  const root = structuredClone(value);
  const stack: unknown[] = [root];
  while (stack.length) {
    const v = stack.pop();
    if (!v || typeof v !== 'object') continue;
    if (Array.isArray(v)) { stack.push(...v); continue; }
    const o = v as Json;
    // OpenAPI 3 wraps a property's $ref in allOf to keep its description; Swagger 2.0 (and
    // the gnostic message kubectl explain reads) puts the $ref on the property itself.
    if (Array.isArray(o.allOf) && o.allOf.length === 1 && typeof o.allOf[0]?.$ref === 'string' && o.$ref === undefined) {
      o.$ref = o.allOf[0].$ref;
      delete o.allOf;
    }
    if (typeof o.$ref === 'string' && o.$ref.startsWith(V3_REF)) o.$ref = `#/definitions/${o.$ref.slice(V3_REF.length)}`;
    for (const child of Object.values(o)) if (child && typeof child === 'object') stack.push(child);
  }
  return root;
}

function firstSchema(content: unknown): unknown {
  if (!content || typeof content !== 'object') return undefined;
  const first = Object.values(content as Json)[0] as Json | undefined;
  return first?.schema;
}

function operationV2(op: Json): Json {
  const out: Json = { ...op };
  delete out.requestBody;
  const params = [...((op.parameters as Json[] | undefined) ?? [])].map((p) => {
    const { schema, ...rest } = p as Json & { schema?: Json };
    return { ...rest, ...(schema ?? {}) };
  });
  const body = op.requestBody as Json | undefined;
  if (body) {
    params.push({ name: 'body', in: 'body', required: true, schema: firstSchema(body.content) });
    out.consumes = Object.keys((body.content as Json) ?? {});
  }
  out.parameters = params;
  const responses: Json = {};
  const produces = new Set<string>();
  for (const [code, r] of Object.entries((op.responses as Json) ?? {})) {
    const resp = r as Json;
    const schema = firstSchema(resp.content);
    for (const m of Object.keys((resp.content as Json) ?? {})) produces.add(m);
    responses[code] = { description: resp.description ?? '', ...(schema ? { schema } : {}) };
  }
  out.responses = responses;
  if (produces.size) out.produces = [...produces];
  out.schemes = ['https'];
  return out;
}

const cache = new Map<string, Json>();

export function openapiV2Document(kinds: ServedKind[]): Json {
  const index = openapiV3Index(kinds) as { paths: Record<string, { serverRelativeURL: string }> };
  const key = Object.values(index.paths).map((p) => p.serverRelativeURL).join('|');
  const cached = cache.get(key);
  if (cached) return cached;
  const paths: Json = {};
  const definitions: Json = {};
  for (const gv of Object.keys(index.paths)) {
    const doc = openapiV3Document(kinds, gv) as { paths: Json; components: { schemas: Json } } | undefined;
    if (!doc) continue;
    Object.assign(definitions, doc.components.schemas);
    for (const [path, item] of Object.entries(doc.paths)) {
      const converted: Json = {};
      for (const [verb, op] of Object.entries(item as Json)) {
        if (verb === 'parameters') {
          converted.parameters = (op as Json[]).map((p) => { const { schema, ...rest } = p as Json & { schema?: Json }; return { ...rest, ...(schema ?? {}) }; });
        } else converted[verb] = operationV2(op as Json);
      }
      paths[path] = converted;
    }
  }
  const doc = rewriteRefs({
    swagger: '2.0',
    info: { title: 'Kubernetes', version: 'v1.32.0' },
    paths,
    definitions,
    securityDefinitions: { BearerToken: { type: 'apiKey', name: 'authorization', in: 'header', description: 'Bearer Token authentication' } },
    security: [{ BearerToken: [] }],
  }) as Json;
  cache.clear();
  cache.set(key, doc);
  return doc;
}

const encoded = new WeakMap<Json, { etag: string; proto?: Buffer; json?: Buffer }>();

/** The document in the form the client asked for, with an ETag for caches. */
export function openapiV2(kinds: ServedKind[], accept: string | undefined): { body: Buffer; contentType: string; etag: string } {
  const doc = openapiV2Document(kinds);
  let entry = encoded.get(doc);
  if (!entry) {
    entry = { etag: `"${createHash('sha256').update(JSON.stringify(doc)).digest('hex').slice(0, 32).toUpperCase()}"` };
    encoded.set(doc, entry);
  }
  const wantsProto = (accept ?? '').split(',').some((a) => a.trim().startsWith('application/com.github.proto-openapi.spec.v2'));
  if (wantsProto) {
    entry.proto ??= encodeDocument(doc);
    return { body: entry.proto, contentType: OPENAPI_V2_PROTOBUF, etag: entry.etag };
  }
  entry.json ??= Buffer.from(JSON.stringify(doc));
  return { body: entry.json, contentType: 'application/json', etag: entry.etag };
}

// ---------------------------------------------------------------------------
// Protobuf encoding of gnostic's openapi_v2 messages (only the fields written here).

class Writer {
  private readonly parts: Buffer[] = [];
  private varint(n: number): void {
    const bytes: number[] = [];
    let v = n;
    while (v > 0x7f) { bytes.push((v & 0x7f) | 0x80); v = Math.floor(v / 128); }
    bytes.push(v);
    this.parts.push(Buffer.from(bytes));
  }
  bytes(field: number, data: Buffer): this {
    this.varint((field << 3) | 2);
    this.varint(data.length);
    this.parts.push(data);
    return this;
  }
  string(field: number, s: string | undefined): this {
    return s === undefined || s === '' ? this : this.bytes(field, Buffer.from(s, 'utf8'));
  }
  message(field: number, w: Writer): this {
    return this.bytes(field, w.done());
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Any{yaml}: how gnostic carries free-form values (extensions, enums, defaults). */
const anyOf = (value: unknown) => new Writer().string(2, stringify(value).trimEnd() + '\n');
const namedAny = (name: string, value: unknown) => new Writer().string(1, name).message(2, anyOf(value));

/** What the message carries of a Swagger 2.0 schema; `x-` extensions go along as Any. */
interface SwaggerSchema {
  $ref?: string; format?: string; description?: string; type?: string;
  required?: string[]; enum?: unknown[]; additionalProperties?: unknown; items?: unknown; properties?: Json;
  [key: string]: unknown;
}

interface SwaggerOperation { operationId?: string; responses?: Record<string, { description?: string; schema?: unknown }>; [key: string]: unknown }

interface SwaggerDocument { swagger?: string; info: { title?: string; version?: string }; paths: Record<string, Json>; definitions: Json; [key: string]: unknown }

function encodeSchema(schema: unknown): Writer {
  const s = schema as SwaggerSchema;
  const w = new Writer();
  w.string(1, s.$ref).string(2, s.format).string(4, s.description);
  for (const r of s.required ?? []) w.string(19, r);
  for (const e of s.enum ?? []) w.message(20, anyOf(e));
  if (s.additionalProperties) w.message(21, new Writer().message(1, encodeSchema(s.additionalProperties)));
  if (s.type) w.message(22, new Writer().string(1, s.type));
  if (s.items) w.message(23, new Writer().message(1, encodeSchema(s.items)));
  if (s.properties) {
    const props = new Writer();
    for (const [name, value] of Object.entries(s.properties)) props.message(1, new Writer().string(1, name).message(2, encodeSchema(value)));
    w.message(25, props);
  }
  for (const [key, value] of Object.entries(s)) if (key.startsWith('x-')) w.message(31, namedAny(key, value));
  return w;
}

function encodeOperation(operation: unknown): Writer {
  const op = operation as SwaggerOperation;
  const w = new Writer().string(5, op.operationId);
  const responses = new Writer();
  for (const [code, r] of Object.entries(op.responses ?? {})) {
    const response = new Writer().string(1, r.description);
    if (r.schema) response.message(2, new Writer().message(1, encodeSchema(r.schema)));
    responses.message(1, new Writer().string(1, code).message(2, new Writer().message(1, response)));
  }
  w.message(9, responses);
  for (const [key, value] of Object.entries(op)) if (key.startsWith('x-')) w.message(13, namedAny(key, value));
  return w;
}

const OPERATION_FIELDS: Record<string, number> = { get: 2, put: 3, post: 4, delete: 5, patch: 8 };

export function encodeDocument(document: Json): Buffer {
  const doc = document as SwaggerDocument;
  const w = new Writer().string(1, doc.swagger).message(2, new Writer().string(1, doc.info.title).string(2, doc.info.version));
  const paths = new Writer();
  for (const [path, item] of Object.entries(doc.paths)) {
    const pw = new Writer();
    for (const [verb, op] of Object.entries(item)) if (OPERATION_FIELDS[verb]) pw.message(OPERATION_FIELDS[verb]!, encodeOperation(op));
    paths.message(2, new Writer().string(1, path).message(2, pw));
  }
  w.message(8, paths);
  const defs = new Writer();
  for (const [name, schema] of Object.entries(doc.definitions)) defs.message(1, new Writer().string(1, name).message(2, encodeSchema(schema)));
  w.message(9, defs);
  return w.done();
}


/**
 * The Swagger 2.0 document at /openapi/v2, as JSON or, when a client asks for
 * `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`, as the protobuf message
 * client-go and kubectl read (gnostic's openapi_v2.Document). Older Helm and kubectl
 * versions validate manifests with it; `kubectl explain --output=plaintext-openapiv2` reads it.
 * Definitions come from the same catalog as OpenAPI v3; built once per set of kinds.
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { closureOf, loadKind, type JsonSchema } from './validation/schema-catalog.js';
import type { ServedKind } from './openapi.js';

/** Clients ask with '@v1.0'; the answer names it with a dot, a valid media type. */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

type Json = Record<string, any>;

function toSwagger(schema: JsonSchema): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref') out.$ref = `#/definitions/${value as string}`;
    else if (key === 'properties') out.properties = Object.fromEntries(Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, toSwagger(v)]));
    else if (key === 'items' || key === 'additionalProperties') out[key] = toSwagger(value as JsonSchema);
    else out[key] = value;
  }
  return out;
}

function collectionPath(k: ServedKind): string {
  const base = k.group ? `/apis/${k.group}/${k.version}` : `/api/${k.version}`;
  return `${base}${k.namespaced ? '/namespaces/{namespace}' : ''}/${k.resource}`;
}

const cache = new Map<string, { json: Json; etag: string; proto?: Buffer }>();

function build(kinds: ServedKind[]): { json: Json; etag: string; proto?: Buffer } {
  const key = kinds.map((k) => `${k.group}/${k.version}/${k.kind}`).join(',');
  const hit = cache.get(key);
  if (hit) return hit;
  const roots: { kind: ServedKind; def: string }[] = [];
  for (const kind of kinds) {
    try { roots.push({ kind, def: loadKind(kind.group, kind.version, kind.kind) }); } catch { /* not in the catalog */ }
  }
  const definitions: Json = {};
  for (const [name, schema] of [...closureOf(roots.map((r) => r.def))].sort(([a], [b]) => a.localeCompare(b))) definitions[name] = toSwagger(schema);
  const paths: Json = {};
  for (const { kind, def } of roots) {
    const gvk = [{ group: kind.group, kind: kind.kind, version: kind.version }];
    const op = (verb: string, action: string) => ({
      operationId: `${verb}${kind.group.split('.')[0]!.replace(/^./, (c) => c.toUpperCase())}${kind.version.replace(/^./, (c) => c.toUpperCase())}${kind.kind}`,
      responses: { 200: { description: 'OK', schema: { $ref: `#/definitions/${def}` } } },
      'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk[0],
    });
    paths[collectionPath(kind)] = { post: op('create', 'post') };
    paths[`${collectionPath(kind)}/{name}`] = { get: op('read', 'get') };
  }
  const json = { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, definitions };
  const etag = `"${createHash('sha256').update(JSON.stringify(json)).digest('hex').slice(0, 32).toUpperCase()}"`;
  const entry = { json, etag };
  cache.set(key, entry);
  return entry;
}

export function openapiV2(kinds: ServedKind[], accept: string | undefined): { body: Buffer; contentType: string; etag: string } {
  const doc = build(kinds);
  const wantsProto = (accept ?? '').split(',').some((a) => a.trim().startsWith('application/com.github.proto-openapi.spec.v2'));
  if (wantsProto) {
    doc.proto ??= encodeDocument(doc.json);
    return { body: doc.proto, contentType: OPENAPI_V2_PROTOBUF, etag: doc.etag };
  }
  return { body: Buffer.from(JSON.stringify(doc.json)), contentType: 'application/json', etag: doc.etag };
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

function encodeSchema(s: Json): Writer {
  const w = new Writer();
  w.string(1, s.$ref).string(2, s.format).string(4, s.description);
  for (const r of s.required ?? []) w.string(19, r);
  for (const e of s.enum ?? []) w.message(20, anyOf(e));
  if (s.additionalProperties) w.message(21, new Writer().message(1, encodeSchema(s.additionalProperties)));
  if (s.type) w.message(22, new Writer().string(1, s.type));
  if (s.items) w.message(23, new Writer().message(1, encodeSchema(s.items)));
  if (s.properties) {
    const props = new Writer();
    for (const [name, value] of Object.entries(s.properties as Json)) props.message(1, new Writer().string(1, name).message(2, encodeSchema(value)));
    w.message(25, props);
  }
  for (const [key, value] of Object.entries(s)) if (key.startsWith('x-')) w.message(31, namedAny(key, value));
  return w;
}

function encodeOperation(op: Json): Writer {
  const w = new Writer().string(5, op.operationId);
  const responses = new Writer();
  for (const [code, r] of Object.entries(op.responses as Json)) {
    const response = new Writer().string(1, r.description).message(2, new Writer().message(1, encodeSchema(r.schema)));
    responses.message(1, new Writer().string(1, code).message(2, new Writer().message(1, response)));
  }
  w.message(9, responses);
  for (const [key, value] of Object.entries(op)) if (key.startsWith('x-')) w.message(13, namedAny(key, value));
  return w;
}

const OPERATION_FIELDS: Record<string, number> = { get: 2, put: 3, post: 4, delete: 5, patch: 8 };

export function encodeDocument(doc: Json): Buffer {
  const w = new Writer().string(1, doc.swagger).message(2, new Writer().string(1, doc.info.title).string(2, doc.info.version));
  const paths = new Writer();
  for (const [path, item] of Object.entries(doc.paths as Json)) {
    const pw = new Writer();
    for (const [verb, op] of Object.entries(item as Json)) pw.message(OPERATION_FIELDS[verb]!, encodeOperation(op));
    paths.message(2, new Writer().string(1, path).message(2, pw));
  }
  w.message(8, paths);
  const defs = new Writer();
  for (const [name, schema] of Object.entries(doc.definitions as Json)) defs.message(1, new Writer().string(1, name).message(2, encodeSchema(schema)));
  w.message(9, defs);
  return w.done();
}

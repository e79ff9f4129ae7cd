// GET /openapi/v2: the Swagger 2.0 form of the served API, built from the OpenAPI v3
// documents (one per group/version) that openapi.ts writes. Helm and older tools read
// it as JSON; clients that accept only the protobuf form get 406 and fall back.
import { openapiV3Document, openapiV3Index, type ServedKind } from './openapi.js';

type Json = Record<string, unknown>;

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

/** JSON unless the client accepts only other forms (the protobuf one). */
export function acceptsJsonOpenApi(accept: string | undefined): boolean {
  if (!accept) return true;
  return accept.split(',').some((a) => {
    const m = a.split(';')[0]!.trim().toLowerCase();
    return m === 'application/json' || m === '*/*' || m === 'application/*';
  });
}

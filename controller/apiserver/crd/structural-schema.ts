// A CRD version's structural schema applied to objects: pruning of unknown fields,
// defaulting, and the check that a schema is structural at all (upstream's
// apiextensions-apiserver/pkg/apiserver/schema: pruning, defaulting, validation.go).
import type { FieldCause } from '../validation/field-cause.js';
import { forbidden, required } from '../validation/field-cause.js';

export interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  default?: unknown;
  nullable?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  [keyword: string]: unknown;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Root fields every object keeps whatever its schema says. */
const TYPE_META = ['apiVersion', 'kind', 'metadata'];

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/**
 * Visits the object against the schema, calling `unknown` for each field the schema
 * does not allow; with `remove` the field is deleted too.
 */
function walkUnknown(value: unknown, schema: Schema | undefined, path: string, root: boolean, out: string[], remove: boolean): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => walkUnknown(item, schema.items, `${path}[${i}]`, false, out, remove));
    return;
  }
  if (!isObj(value)) return;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = root || schema['x-kubernetes-embedded-resource'] === true;
  const props = schema.properties;
  const additional = schema.additionalProperties;
  for (const key of Object.keys(value)) {
    if (embedded && TYPE_META.includes(key)) continue;
    const child = props?.[key];
    if (child) { walkUnknown(value[key], child, join(path, key), false, out, remove); continue; }
    if (isObj(additional)) { walkUnknown(value[key], additional, `${path}[${key}]`, false, out, remove); continue; }
    if (additional === true || preserve) continue;
    out.push(join(path, key));
    if (remove) delete value[key];
  }
}

/** Paths of fields the schema would prune. */
export function unknownFieldsOf(obj: unknown, schema: Schema): string[] {
  const out: string[] = [];
  walkUnknown(obj, schema, '', true, out, false);
  return out;
}

/** Removes fields the schema does not know (upstream prunes on every write). */
export function prune(obj: unknown, schema: Schema): void {
  walkUnknown(obj, schema, '', true, [], true);
}

/** Fills `default`s of absent (or null, when not nullable) properties, depth first like upstream. */
export function applyDefaults(value: unknown, schema: Schema | undefined): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    for (const item of value) applyDefaults(item, schema.items);
    return;
  }
  if (!isObj(value)) return;
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    const missing = !(key in value) || (value[key] === null && !child.nullable);
    if (missing && child.default !== undefined) value[key] = structuredClone(child.default);
    if (key in value) applyDefaults(value[key], child);
  }
  if (isObj(schema.additionalProperties)) for (const v of Object.values(value)) applyDefaults(v, schema.additionalProperties);
}

const TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);
const FORBIDDEN_KEYWORDS = ['$ref', 'definitions', 'dependencies', 'patternProperties', 'id', '$schema'];

/**
 * Whether a schema is structural (every node has a type unless it preserves unknown
 * fields or is int-or-string; no references; properties and additionalProperties are
 * exclusive), as causes under `path`.
 */
export function structuralCauses(schema: unknown, path: string, root = true): FieldCause[] {
  if (!isObj(schema)) return [required(path, 'must be a schema object')];
  const s = schema as Schema;
  const causes: FieldCause[] = [];
  for (const k of FORBIDDEN_KEYWORDS) if (k in s) causes.push(forbidden(join(path, k), `${k} is not supported`));
  const typed = typeof s.type === 'string' && s.type !== '';
  if (typed && !TYPES.has(s.type!)) causes.push({ reason: 'FieldValueNotSupported', field: join(path, 'type'), message: `Unsupported value: ${JSON.stringify(s.type)}: supported values: "array", "boolean", "integer", "number", "object", "string"` });
  if (!typed && s['x-kubernetes-preserve-unknown-fields'] !== true && s['x-kubernetes-int-or-string'] !== true) {
    causes.push(required(join(path, 'type'), 'must not be empty for specified object fields'));
  }
  if (root && s.type !== undefined && s.type !== 'object') causes.push({ reason: 'FieldValueInvalid', field: join(path, 'type'), message: `Invalid value: ${JSON.stringify(s.type)}: must be object at the root` });
  if (s.properties !== undefined && isObj(s.additionalProperties)) causes.push(forbidden(join(path, 'additionalProperties'), 'additionalProperties and properties are mutual exclusive'));
  if (s.properties !== undefined) {
    if (!isObj(s.properties)) causes.push(required(join(path, 'properties'), 'must be an object'));
    else for (const [k, v] of Object.entries(s.properties)) causes.push(...structuralCauses(v, `${join(path, 'properties')}[${k}]`, false));
  }
  if (isObj(s.additionalProperties)) causes.push(...structuralCauses(s.additionalProperties, join(path, 'additionalProperties'), false));
  if (s.type === 'array') {
    if (!isObj(s.items)) causes.push(required(join(path, 'items'), 'must be specified'));
    else causes.push(...structuralCauses(s.items, join(path, 'items'), false));
  }
  for (const k of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = s[k];
    if (list !== undefined && !Array.isArray(list)) causes.push(required(join(path, k), 'must be a list of schemas'));
  }
  return causes;
}

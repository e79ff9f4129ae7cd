// Validation of custom resources against their CRD's openAPIV3Schema with Ajv, with
// problems worded like upstream's kube-openapi validator ("spec.keep in body should be
// greater than or equal to 1").
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FieldCause } from '../validation/field-cause.js';
import { invalid, notSupported, required, typeInvalid } from '../validation/field-cause.js';
import type { Schema } from './structural-schema.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv, formats?: string[]) => Ajv;

// Formats upstream checks; the others (int32, int64, byte, password...) are informational.
const CHECKED_FORMATS = ['date-time', 'date', 'email', 'hostname', 'ipv4', 'ipv6', 'uri', 'uuid'];

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, logger: false, validateSchema: false });
  addFormats(ajv, CHECKED_FORMATS);
  return ajv;
}

/** OpenAPI v3 structural schema → a JSON schema Ajv checks (int-or-string, no metadata). */
function toJsonSchema(schema: Schema, root: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k.startsWith('x-kubernetes-') || k === 'default' || k === 'description' || k === 'example') continue;
    if (k === 'properties' && v && typeof v === 'object') {
      const props: Record<string, unknown> = {};
      for (const [name, child] of Object.entries(v as Record<string, Schema>)) {
        // metadata is checked by the API server's own ObjectMeta rules.
        if (root && (name === 'metadata' || name === 'apiVersion' || name === 'kind')) continue;
        props[name] = toJsonSchema(child, false);
      }
      out.properties = props;
    } else if ((k === 'items' || k === 'additionalProperties' || k === 'not') && v && typeof v === 'object') {
      out[k] = toJsonSchema(v as Schema, false);
    } else if ((k === 'allOf' || k === 'anyOf' || k === 'oneOf') && Array.isArray(v)) {
      out[k] = v.map((s) => toJsonSchema(s as Schema, false));
    } else {
      out[k] = v;
    }
  }
  if (schema['x-kubernetes-int-or-string'] === true && schema.type === undefined) {
    out.anyOf = [...((out.anyOf as unknown[]) ?? []), { type: 'integer' }, { type: 'string' }];
  }
  if (root && Array.isArray(out.required)) out.required = (out.required as string[]).filter((r) => !['metadata', 'apiVersion', 'kind'].includes(r));
  return out;
}

/** Compiles the schema; throws with Ajv's message when it cannot. */
export function compileSchema(schema: Schema): ValidateFunction {
  return newAjv().compile(toJsonSchema(schema, true));
}

function fieldOf(pointer: string, value: unknown): string {
  let field = '';
  let at: unknown = value;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    field += Array.isArray(at) ? `[${seg}]` : field ? `.${seg}` : seg;
    at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[seg] : undefined;
  }
  return field;
}

function valueAt(obj: unknown, pointer: string): unknown {
  let at = obj;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[seg] : undefined;
  }
  return at;
}

function jsonTypeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function causeOf(err: ErrorObject, obj: unknown): FieldCause | undefined {
  const p = err.params as Record<string, unknown>;
  if (err.keyword === 'required') return required(fieldOf(`${err.instancePath}/${String(p.missingProperty)}`, obj));
  const field = fieldOf(err.instancePath, obj);
  const value = valueAt(obj, err.instancePath);
  const where = `${field || '<root>'} in body`;
  switch (err.keyword) {
    case 'type': {
      // Upstream shows the JSON type it found, as the value and after the message.
      const found = jsonTypeOf(value);
      return typeInvalid(field, found, `${where} must be of type ${String(p.type)}: ${JSON.stringify(found)}`);
    }
    case 'enum': return notSupported(field, value, (p.allowedValues as unknown[]).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))));
    case 'minimum': return invalid(field, value, `${where} should be greater than or equal to ${String(p.limit)}`);
    case 'exclusiveMinimum': return invalid(field, value, `${where} should be greater than ${String(p.limit)}`);
    case 'maximum': return invalid(field, value, `${where} should be less than or equal to ${String(p.limit)}`);
    case 'exclusiveMaximum': return invalid(field, value, `${where} should be less than ${String(p.limit)}`);
    case 'minLength': return invalid(field, value, `${where} should be at least ${String(p.limit)} chars long`);
    case 'maxLength': return { reason: 'FieldValueTooLong', field, message: `Too long: may not be more than ${String(p.limit)} bytes` };
    case 'minItems': return invalid(field, value, `${where} should have at least ${String(p.limit)} items`);
    case 'maxItems': return invalid(field, value, `${where} should have at most ${String(p.limit)} items`);
    case 'minProperties': return invalid(field, value, `${where} should have at least ${String(p.limit)} properties`);
    case 'maxProperties': return invalid(field, value, `${where} should have at most ${String(p.limit)} properties`);
    case 'pattern': return invalid(field, value, `${where} should match '${String(p.pattern)}'`);
    case 'format': return invalid(field, value, `${where} must be of type ${String(p.format)}: ${JSON.stringify(value)}`);
    case 'multipleOf': return invalid(field, value, `${where} should be a multiple of ${String(p.multipleOf)}`);
    case 'uniqueItems': return { reason: 'FieldValueDuplicate', field: `${field}[${String(p.i)}]`, message: `Duplicate value: ${JSON.stringify((value as unknown[])?.[p.i as number])}` };
    case 'anyOf': case 'oneOf': case 'allOf': case 'not':
      return invalid(field, value, `${where} must validate ${err.keyword === 'not' ? 'not' : err.keyword.replace('Of', ' of')} the schemas`);
    case 'if': return undefined;
    default: return invalid(field, value, `${where} ${err.message ?? 'is invalid'}`);
  }
}

/** Problems of obj under the compiled schema, one per field and keyword. */
export function schemaProblems(validate: ValidateFunction, obj: unknown): FieldCause[] {
  if (validate(obj)) return [];
  const causes: FieldCause[] = [];
  const seen = new Set<string>();
  for (const err of validate.errors ?? []) {
    const c = causeOf(err, obj);
    if (!c) continue;
    const key = `${c.field}\u0000${c.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    causes.push(c);
  }
  return causes;
}

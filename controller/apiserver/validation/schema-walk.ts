/**
 * Walks an object alongside its schema: finds fields the schema does not know (for
 * strict field validation) and checks every Quantity-typed value with the exact
 * quantity grammar.
 */
import { isValidQuantity } from '../../../protocol/kube/quantity.js';
import { invalid, type FieldCause } from './field-cause.js';
import { QUANTITY_DEFINITION, definition, resolve, type JsonSchema } from './schema-catalog.js';

const QUANTITY_MESSAGE = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

export interface WalkResult {
  unknown: string[];
  quantityCauses: FieldCause[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function walk(schema: JsonSchema, value: unknown, field: string, out: WalkResult): void {
  if (value === null || value === undefined) return;
  if (schema.$ref === QUANTITY_DEFINITION) {
    if ((typeof value === 'string' || typeof value === 'number') && !isValidQuantity(value)) {
      out.quantityCauses.push(invalid(field, value, QUANTITY_MESSAGE));
    }
    return;
  }
  const s = resolve(schema);
  if (Array.isArray(value)) {
    if (s.items) value.forEach((item, i) => walk(s.items!, item, `${field}[${i}]`, out));
    return;
  }
  if (!isPlainObject(value)) return;
  if (s.properties) {
    for (const [key, child] of Object.entries(value)) {
      const prop = s.properties[key];
      const childField = field ? `${field}.${key}` : key;
      if (prop) walk(prop, child, childField, out);
      else out.unknown.push(childField);
    }
  } else if (s.additionalProperties) {
    for (const [key, child] of Object.entries(value)) walk(s.additionalProperties, child, `${field}[${key}]`, out);
  }
  // An object schema with neither properties nor a value schema is free-form (RawExtension, FieldsV1).
}

export function walkObject(definitionName: string, obj: unknown): WalkResult {
  const out: WalkResult = { unknown: [], quantityCauses: [] };
  const root = definition(definitionName);
  if (root) walk(root, obj, '', out);
  return out;
}

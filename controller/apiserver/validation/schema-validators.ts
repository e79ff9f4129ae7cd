/**
 * Type, required-field and enum checks with the validators that `kubernetes-models`
 * compiles from the upstream OpenAPI schemas. A validator is loaded the first time its
 * kind is validated and kept; the API request path stays synchronous.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { definition, resolve, type JsonSchema } from './schema-catalog.js';
import { invalid, notSupported, required, typeInvalid, type FieldCause } from './field-cause.js';

interface SchemaError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
}
type CompiledValidator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };

const requireModule = createRequire(import.meta.url);
const validators = new Map<string, CompiledValidator | null>();
let modelsRoot: string | undefined;

/** "io.k8s.api.core.v1.Pod" → "IoK8sApiCoreV1Pod", the compiled validator's file name. */
function validatorFileName(definitionName: string): string {
  return definitionName
    .split('.')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

function validatorFor(definitionName: string): CompiledValidator | null {
  let v = validators.get(definitionName);
  if (v !== undefined) return v;
  modelsRoot ??= path.dirname(fileURLToPath(import.meta.resolve('kubernetes-models')));
  try {
    // The models package is ESM; require() of ESM (Node >= 20.19) keeps this synchronous.
    const mod = requireModule(path.join(modelsRoot, '_schemas', `${validatorFileName(definitionName)}.js`)) as { validate: CompiledValidator };
    v = mod.validate;
  } catch {
    v = null;
  }
  validators.set(definitionName, v);
  return v;
}

function decodePointerSegment(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/**
 * Turns a JSON pointer into a Kubernetes field path, using the schema to tell list
 * indexes ("[0]") and map keys ("[cpu]") from field names.
 */
export function fieldPathOf(rootDefinition: string, obj: unknown, pointer: string): { field: string; value: unknown } {
  let schema: JsonSchema | undefined = definition(rootDefinition);
  let value: unknown = obj;
  let field = '';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = decodePointerSegment(raw);
    const s: JsonSchema | undefined = schema ? resolve(schema) : undefined;
    if (Array.isArray(value)) {
      field += `[${seg}]`;
      schema = s?.items;
    } else if (s?.properties?.[seg] || !s?.additionalProperties) {
      field += field ? `.${seg}` : seg;
      schema = s?.properties?.[seg];
    } else {
      field += `[${seg}]`;
      schema = s.additionalProperties;
    }
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[seg] : undefined;
  }
  return { field, value };
}

function describeType(type: unknown): string {
  return type === 'integer' ? 'integer' : type === 'number' ? 'number' : String(type);
}

/** Schema problems of obj as a served kind; [] if the kind has no compiled validator. */
export function schemaCauses(definitionName: string, obj: unknown): FieldCause[] {
  const validate = validatorFor(definitionName);
  if (!validate || validate(obj)) return [];
  const byField = new Map<string, { value: unknown; errors: SchemaError[] }>();
  for (const err of validate.errors ?? []) {
    const pointer = err.keyword === 'required' ? `${err.instancePath}/${String(err.params.missingProperty)}` : err.instancePath;
    const { field, value } = fieldPathOf(definitionName, obj, pointer);
    const entry = byField.get(field) ?? { value, errors: [] };
    entry.errors.push(err);
    byField.set(field, entry);
  }
  const causes: FieldCause[] = [];
  for (const [field, { value, errors }] of byField) {
    const has = (k: string): SchemaError | undefined => errors.find((e) => e.keyword === k);
    const req = has('required');
    const oneOf = has('oneOf');
    const enumErr = has('enum');
    const typeErr = has('type');
    const formatErr = has('format');
    if (req) causes.push(required(field));
    else if (oneOf) {
      const formats = errors.filter((e) => e.keyword === 'format').map((e) => String(e.params.format));
      // Quantities get their own, more precise check (see quantities.ts).
      if (formats.includes('quantity')) continue;
      causes.push(typeInvalid(field, value, 'must be an integer or a string'));
    } else if (typeErr) causes.push(typeInvalid(field, value, `must be of type ${describeType(typeErr.params.type)}`));
    else if (enumErr) causes.push(notSupported(field, value, (enumErr.params.allowedValues as unknown[]).map(String)));
    else if (formatErr) causes.push(invalid(field, value, `must be a valid ${String(formatErr.params.format)}`));
    else causes.push(invalid(field, value, `does not match the schema (${errors.map((e) => e.keyword).join(', ')})`));
  }
  return causes;
}

/**
 * The Kubernetes object schemas, read from the `kubernetes-models` package.
 *
 * That package ships compiled validators (used by schema-validators.ts) and, beside
 * each model, a generated declaration file that carries the schema's structure: every
 * property, whether it is required, its type, its enum values and the upstream field
 * documentation. This module turns those declarations back into JSON-schema
 * definitions named like upstream (`io.k8s.api.core.v1.Pod`), with `$ref` pointing at
 * other definition names. Definitions are parsed lazily, once, the first time a kind
 * needs them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema;
  enum?: string[];
  /** A definition name such as "io.k8s.api.core.v1.PodSpec" (not a URI). */
  $ref?: string;
  [extension: `x-${string}`]: unknown;
}

const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

/** Definitions whose declaration loses information; upstream's shape is known. */
const SCALAR_DEFINITIONS: Record<string, JsonSchema> = {
  [QUANTITY]: { type: 'string' },
  [INT_OR_STRING]: { type: 'string', format: 'int-or-string' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': { type: 'string', format: 'date-time' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime': { type: 'string', format: 'date-time' },
  // Any JSON value (CRD schema defaults, enums, examples) and the schema-or-X unions.
  'io.k8s.api.apiextensions.v1.JSON': { 'x-kubernetes-preserve-unknown-fields': true },
  'io.k8s.api.apiextensions.v1.JSONSchemaPropsOrArray': { 'x-kubernetes-preserve-unknown-fields': true },
  'io.k8s.api.apiextensions.v1.JSONSchemaPropsOrBool': { 'x-kubernetes-preserve-unknown-fields': true },
  'io.k8s.api.apiextensions.v1.JSONSchemaPropsOrStringArray': { 'x-kubernetes-preserve-unknown-fields': true },
};

export const QUANTITY_DEFINITION = QUANTITY;
export const INT_OR_STRING_DEFINITION = INT_OR_STRING;

const TYPE_META_DESCRIPTIONS: Record<string, string> = {
  apiVersion: 'APIVersion names the versioned schema of this representation of an object, as "group/version" ("v1" for the core group).',
  kind: 'Kind is the REST resource type this object represents, in CamelCase.',
};

function packageRoot(specifier: string): string {
  return path.dirname(fileURLToPath(import.meta.resolve(specifier)));
}

let roots: { models: string; apimachinery: string } | undefined;
function packageRoots(): { models: string; apimachinery: string } {
  roots ??= { models: packageRoot('kubernetes-models'), apimachinery: packageRoot('@kubernetes-models/apimachinery') };
  return roots;
}

/** "io.k8s.api.apps.v1.Deployment" for ("apps", "v1", "Deployment"); core group is "core". */
export function definitionNameFor(group: string, version: string, kind: string): string {
  const groupPart = group === '' ? 'core' : group.split('.')[0]!;
  return `io.k8s.api.${groupPart}.${version}.${kind}`;
}

/** The declaration file of a served kind, e.g. kubernetes-models/apps/v1/Deployment.d.ts. */
function declarationFileFor(group: string, version: string, kind: string): string {
  return path.join(packageRoots().models, group === '' ? '' : group, version, `${kind}.d.ts`);
}

/** Definition name from a declaration file's place inside its package. */
function definitionNameOfFile(file: string): string {
  const { models, apimachinery } = packageRoots();
  const withoutExt = file.replace(/\.d\.ts$/, '');
  if (withoutExt.startsWith(apimachinery + path.sep)) {
    const rel = path.relative(apimachinery, withoutExt).split(path.sep);
    return ['io.k8s.apimachinery.pkg', ...rel].join('.');
  }
  const rel = path.relative(models, withoutExt).split(path.sep);
  if (rel.length === 2) return `io.k8s.api.core.${rel[0]}.${rel[1]}`;
  if (rel.length === 3) return `io.k8s.api.${rel[0]!.split('.')[0]}.${rel[1]}.${rel[2]}`;
  throw new Error(`unexpected schema declaration location: ${file}`);
}

function resolveImport(fromFile: string, specifier: string): string {
  const { apimachinery } = packageRoots();
  const target = specifier.startsWith('.')
    ? path.resolve(path.dirname(fromFile), specifier)
    : specifier.startsWith('@kubernetes-models/apimachinery/')
      ? path.join(apimachinery, specifier.slice('@kubernetes-models/apimachinery/'.length))
      : '';
  if (!target) return '';
  return target.replace(/\.js$/, '') + '.d.ts';
}

// ---------------------------------------------------------------------------
// A small reader for the generated declaration files' type grammar.

type Token = { kind: 'doc' | 'string' | 'ident' | 'punct' | 'number'; text: string };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (source.startsWith('/**', i)) {
      const end = source.indexOf('*/', i + 3);
      tokens.push({ kind: 'doc', text: source.slice(i + 3, end) });
      i = end + 2;
      continue;
    }
    if (source.startsWith('//', i)) { i = source.indexOf('\n', i) === -1 ? source.length : source.indexOf('\n', i); continue; }
    if (c === '"') {
      let j = i + 1;
      while (source[j] !== '"') j += source[j] === '\\' ? 2 : 1;
      tokens.push({ kind: 'string', text: JSON.parse(source.slice(i, j + 1)) as string });
      i = j + 1;
      continue;
    }
    const word = /^[A-Za-z_$][\w$]*/.exec(source.slice(i, i + 200));
    if (word) { tokens.push({ kind: 'ident', text: word[0] }); i += word[0].length; continue; }
    const num = /^-?\d+(\.\d+)?/.exec(source.slice(i, i + 50));
    if (num) { tokens.push({ kind: 'number', text: num[0] }); i += num[0].length; continue; }
    tokens.push({ kind: 'punct', text: c });
    i++;
  }
  return tokens;
}

function docText(raw: string): string {
  return raw
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim();
}

class DeclarationReader {
  private pos = 0;
  constructor(private readonly tokens: Token[], private readonly refOf: (ident: string) => string | undefined) {}

  private peek(offset = 0): Token | undefined { return this.tokens[this.pos + offset]; }
  private next(): Token {
    const t = this.tokens[this.pos++];
    if (!t) throw new Error('unexpected end of declaration');
    return t;
  }
  private expect(text: string): void {
    const t = this.next();
    if (t.text !== text) throw new Error(`expected "${text}" but found "${t.text}"`);
  }

  /** Members of an interface body; the reader stands just after "{". */
  readMembers(): { properties: Record<string, JsonSchema>; required: string[] } {
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    let doc: string | undefined;
    for (;;) {
      const t = this.next();
      if (t.text === '}') break;
      if (t.kind === 'doc') { doc = docText(t.text); continue; }
      if (t.kind !== 'string' && t.kind !== 'ident') throw new Error(`unexpected "${t.text}" in interface`);
      const name = t.text;
      let optional = false;
      if (this.peek()?.text === '?') { this.next(); optional = true; }
      this.expect(':');
      const schema = this.readType();
      if (this.peek()?.text === ';') this.next();
      if (doc) schema.description = doc;
      properties[name] = schema;
      if (!optional) required.push(name);
      doc = undefined;
    }
    return { properties, required };
  }

  readType(): JsonSchema {
    const members: JsonSchema[] = [this.readPrimary()];
    while (this.peek()?.text === '|') {
      this.next();
      members.push(this.readPrimary());
    }
    return unionOf(members);
  }

  private readPrimary(): JsonSchema {
    const t = this.next();
    let schema: JsonSchema;
    if (t.kind === 'string') schema = { type: 'string', enum: [t.text] };
    else if (t.kind === 'number') schema = { type: 'integer' };
    else if (t.text === '{') schema = this.readObjectLiteral();
    else if (t.text === '(') { schema = this.readType(); this.expect(')'); }
    else if (t.text === 'Array') {
      this.expect('<');
      const items = this.readType();
      this.expect('>');
      schema = { type: 'array', items };
    } else if (t.text === 'string') schema = { type: 'string' };
    else if (t.text === 'number') schema = { type: 'integer' }; // Kubernetes APIs avoid floats.
    else if (t.text === 'boolean') schema = { type: 'boolean' };
    else if (t.text === 'null' || t.text === 'undefined') schema = { 'x-null': true };
    else if (t.text === 'any' || t.text === 'unknown' || t.text === 'object') schema = { type: 'object' };
    else if (t.kind === 'ident') {
      const ref = this.refOf(t.text);
      if (!ref) throw new Error(`unknown type name ${t.text}`);
      schema = { $ref: ref };
    } else throw new Error(`unexpected "${t.text}" in a type`);
    while (this.peek()?.text === '[' && this.peek(1)?.text === ']') {
      this.next(); this.next();
      schema = { type: 'array', items: schema };
    }
    return schema;
  }

  /** `{ [key: string]: T; }` (a map) or `{ a: T; ... }` (inline object); stands after "{". */
  private readObjectLiteral(): JsonSchema {
    if (this.peek()?.text === '[') {
      this.next(); this.next(); this.expect(':'); this.next(); this.expect(']'); this.expect(':');
      const value = this.readType();
      if (this.peek()?.text === ';') this.next();
      this.expect('}');
      return { type: 'object', additionalProperties: value };
    }
    const { properties, required } = this.readMembers();
    return objectSchema(properties, required);
  }
}

function objectSchema(properties: Record<string, JsonSchema>, required: string[]): JsonSchema {
  const schema: JsonSchema = { type: 'object' };
  if (Object.keys(properties).length > 0) schema.properties = properties;
  if (required.length > 0) schema.required = required;
  return schema;
}

function unionOf(members: JsonSchema[]): JsonSchema {
  const real = members.filter((m) => !m['x-null']);
  if (real.length === 1) return real[0]!;
  if (real.every((m) => m.enum && m.type === 'string')) return { type: 'string', enum: real.flatMap((m) => m.enum!) };
  const types = new Set(real.map((m) => m.type));
  if (types.size === 2 && types.has('string') && types.has('integer')) return { type: 'string', format: 'int-or-string' };
  return {};
}

// ---------------------------------------------------------------------------

const definitions = new Map<string, JsonSchema>();
const loadedRoots = new Set<string>();

function readDeclaration(file: string, queue: string[]): JsonSchema {
  const source = readFileSync(file, 'utf8');
  const imports = new Map<string, string>();
  for (const m of source.matchAll(/import \{([^}]*)\} from "([^"]+)";/g)) {
    const target = resolveImport(file, m[2]!);
    if (!target) continue;
    for (const name of m[1]!.split(',').map((n) => n.trim()).filter(Boolean)) imports.set(name, target);
  }
  // A recursive type (JSONSchemaProps) names its own interface.
  const self = /export interface (I\w+)/.exec(source)?.[1];
  const refOf = (ident: string): string | undefined => {
    if (ident === self) return definitionNameOfFile(file);
    const target = imports.get(ident);
    if (!target) return undefined;
    queue.push(target);
    return definitionNameOfFile(target);
  };

  const iface = /(?:\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*)?export interface I\w+(?: extends [\w, ]+)? \{/.exec(source);
  if (iface) {
    const reader = new DeclarationReader(tokenize(source.slice(iface.index + iface[0].length)), refOf);
    const { properties, required } = reader.readMembers();
    const schema = objectSchema(properties, required);
    if (iface[1]) schema.description = docText(iface[1]);
    return schema;
  }
  const alias = /(?:\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*)?export type I\w+ = ([^;]+);/.exec(source);
  if (alias) {
    const schema = new DeclarationReader(tokenize(alias[2]!), refOf).readType();
    if (alias[1]) schema.description = docText(alias[1]);
    return schema;
  }
  throw new Error(`no schema declaration found in ${file}`);
}

function loadFrom(rootFile: string): void {
  const queue = [rootFile];
  while (queue.length > 0) {
    const file = queue.pop()!;
    const name = definitionNameOfFile(file);
    if (definitions.has(name)) continue;
    const parsed = readDeclaration(file, queue);
    const scalar = SCALAR_DEFINITIONS[name];
    definitions.set(name, scalar ? { ...scalar, ...(parsed.description ? { description: parsed.description } : {}) } : parsed);
  }
}

/**
 * Loads the definition of a served kind and everything it references; returns its
 * name. Throws when the models package has no such kind.
 */
export function loadKind(group: string, version: string, kind: string): string {
  const name = definitionNameFor(group, version, kind);
  if (!loadedRoots.has(name)) {
    loadFrom(declarationFileFor(group, version, kind));
    const schema = definitions.get(name)!;
    // The TypeScript models make apiVersion/kind required literals; the API treats them as optional strings.
    for (const field of ['apiVersion', 'kind'] as const) {
      if (!schema.properties?.[field]) continue;
      schema.properties[field] = { type: 'string', description: TYPE_META_DESCRIPTIONS[field] };
      schema.required = schema.required?.filter((r) => r !== field);
      if (schema.required?.length === 0) delete schema.required;
    }
    schema['x-kubernetes-group-version-kind'] = [{ group, kind, version }];
    loadedRoots.add(name);
  }
  return name;
}

/** Loads an apimachinery definition by its path under the package, e.g. "apis/meta/v1/Status". */
export function loadMetaDefinition(relative: string): string {
  const file = path.join(packageRoots().apimachinery, ...relative.split('/')) + '.d.ts';
  loadFrom(file);
  return definitionNameOfFile(file);
}

/** A loaded definition by name (call loadKind first). */
export function definition(name: string): JsonSchema | undefined {
  return definitions.get(name);
}

/** Follows a `$ref` to the definition it names; other schemas come back unchanged. */
export function resolve(schema: JsonSchema): JsonSchema {
  let current = schema;
  for (let depth = 0; current.$ref && depth < 10; depth++) {
    const target = definitions.get(current.$ref);
    if (!target) break;
    current = target;
  }
  return current;
}

/** Every definition reachable from the given names (the names included). */
export function closureOf(names: Iterable<string>): Map<string, JsonSchema> {
  const result = new Map<string, JsonSchema>();
  const stack = [...names];
  const visit = (schema: JsonSchema): void => {
    if (schema.$ref) stack.push(schema.$ref);
    if (schema.items) visit(schema.items);
    if (schema.additionalProperties) visit(schema.additionalProperties);
    for (const p of Object.values(schema.properties ?? {})) visit(p);
  };
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (result.has(name)) continue;
    const schema = definitions.get(name);
    if (!schema) continue;
    result.set(name, schema);
    visit(schema);
  }
  return result;
}

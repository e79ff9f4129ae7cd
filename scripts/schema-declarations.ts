/**
 * Reads the Kubernetes object schemas out of the `kubernetes-models` declaration files.
 *
 * Development-time only: `npm run schemas` runs it to regenerate the pinned
 * `schemas/kubernetes-definitions.json` the API server reads. That package ships compiled
 * validators but no JSON schemas; beside each model it has a generated declaration file
 * that carries the schema's structure (every property, whether it is required, its type,
 * its enum values and the upstream field documentation). This turns those declarations
 * back into JSON-schema definitions named like upstream (`io.k8s.api.core.v1.Pod`), with
 * `$ref` pointing at other definition names. A test regenerates and compares, so a new
 * version of the package that writes its declarations differently fails loudly here
 * instead of changing the API silently.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JsonSchema } from '../controller/apiserver/validation/schema-catalog.js';

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



function packageRoot(specifier: string): string {
  return path.dirname(fileURLToPath(import.meta.resolve(specifier)));
}

let roots: { models: string; apimachinery: string } | undefined;
function packageRoots(): { models: string; apimachinery: string } {
  roots ??= { models: packageRoot('kubernetes-models'), apimachinery: packageRoot('@kubernetes-models/apimachinery') };
  return roots;
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

function loadFrom(rootFile: string, definitions: Map<string, JsonSchema>): void {
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

/** Every declaration file of both packages that describes a schema. */
function declarationFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) {
      if (!entry.startsWith('_') && entry !== 'node_modules') files.push(...declarationFiles(full));
    } else if (entry.endsWith('.d.ts') && entry !== 'index.d.ts' && /^[A-Z]/.test(entry)) {
      files.push(full);
    }
  }
  return files;
}

/** All definitions the two packages describe, sorted by name. */
export function readAllDefinitions(): Record<string, JsonSchema> {
  const { models, apimachinery } = packageRoots();
  const definitions = new Map<string, JsonSchema>();
  for (const file of [...declarationFiles(apimachinery), ...declarationFiles(models)].sort()) loadFrom(file, definitions);
  return Object.fromEntries([...definitions].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The pinned source, recorded in the generated file. */
export function sourcePackages(): string {
  const { models, apimachinery } = packageRoots();
  const version = (dir: string): string => (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  return `kubernetes-models@${version(models)}, @kubernetes-models/apimachinery@${version(apimachinery)}`;
}

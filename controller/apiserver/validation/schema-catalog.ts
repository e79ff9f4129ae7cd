/**
 * The Kubernetes object schemas, from the pinned `schemas/kubernetes-definitions.json`.
 *
 * That file holds every definition of the Kubernetes API as JSON schema, named like
 * upstream (`io.k8s.api.core.v1.Pod`) with `$ref` pointing at other definition names.
 * It is generated at development time from the kubernetes-models package
 * (scripts/generate-definitions.ts) and committed, so what the API validates and
 * publishes changes only when that file does. It is parsed once, the first time a kind
 * needs it.
 */
import { readFileSync } from 'node:fs';

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

export const QUANTITY_DEFINITION = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
export const INT_OR_STRING_DEFINITION = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

const TYPE_META_DESCRIPTIONS: Record<string, string> = {
  apiVersion: 'APIVersion names the versioned schema of this representation of an object, as "group/version" ("v1" for the core group).',
  kind: 'Kind is the REST resource type this object represents, in CamelCase.',
};

/** Where the pinned definitions live: `schemas/` at the project's root, beside dist/. */
export function definitionsFileUrl(): URL {
  // This file is dist/controller/apiserver/validation/schema-catalog.js once built.
  return new URL('../../../../schemas/kubernetes-definitions.json', import.meta.url);
}

let loaded: Map<string, JsonSchema> | undefined;
function definitions(): Map<string, JsonSchema> {
  if (!loaded) {
    const file = JSON.parse(readFileSync(definitionsFileUrl(), 'utf8')) as { definitions: Record<string, JsonSchema> };
    loaded = new Map(Object.entries(file.definitions));
  }
  return loaded;
}
const loadedRoots = new Set<string>();

/** "io.k8s.api.apps.v1.Deployment" for ("apps", "v1", "Deployment"); core group is "core". */
export function definitionNameFor(group: string, version: string, kind: string): string {
  const groupPart = group === '' ? 'core' : group.split('.')[0]!;
  return `io.k8s.api.${groupPart}.${version}.${kind}`;
}

/**
 * Loads the definition of a served kind and everything it references; returns its
 * name. Throws when there is no such kind.
 */
export function loadKind(group: string, version: string, kind: string): string {
  const name = definitionNameFor(group, version, kind);
  if (!loadedRoots.has(name)) {
    const schema = definitions().get(name);
    if (!schema) throw new Error(`no schema definition ${name} for ${group || 'core'}/${version} ${kind}`);
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
  const name = ['io.k8s.apimachinery.pkg', ...relative.split('/')].join('.');
  if (!definitions().has(name)) throw new Error(`no schema definition ${name}`);
  return name;
}

/** A loaded definition by name (call loadKind first). */
export function definition(name: string): JsonSchema | undefined {
  return definitions().get(name);
}

/** Follows a `$ref` to the definition it names; other schemas come back unchanged. */
export function resolve(schema: JsonSchema): JsonSchema {
  let current = schema;
  for (let depth = 0; current.$ref && depth < 10; depth++) {
    const target = definitions().get(current.$ref);
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
    const schema = definitions().get(name);
    if (!schema) continue;
    result.set(name, schema);
    visit(schema);
  }
  return result;
}

// Every resource the API server serves, with what discovery, storage and kubectl need:
// the built-in kinds declared under kinds/ and the custom resources of stored CRDs.
import type { ResourceRef } from './client.js';
import type { CustomResourceBehaviour } from './crd/behaviour.js';
import { KINDS, type KindDefinition } from './kinds/index.js';

export interface ResourceInfo {
  group: string;
  version: string;
  resource: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  subresources: string[];
  /** Key of the resource in the store: `pods`, `deployments.apps`. */
  gr: string;
  /** Has a `status` that only the status subresource changes. */
  statusSubresource: boolean;
  /** metadata.generation rises when spec changes. */
  hasGeneration: boolean;
  /** Set on resources defined by a CustomResourceDefinition (schema, printer columns, scale). */
  custom?: CustomResourceBehaviour;
}

function info(group: string, version: string, resource: string, kind: string, namespaced: boolean, extra: Partial<ResourceInfo> = {}): ResourceInfo {
  return {
    group, version, resource, kind, namespaced,
    singular: kind.toLowerCase(),
    listKind: `${kind}List`,
    shortNames: [], categories: [], subresources: [],
    gr: group ? `${resource}.${group}` : resource,
    statusSubresource: false,
    hasGeneration: false,
    ...extra,
  };
}

/** What routing, storage and discovery need of a kind declared in kinds/. */
export function resourceInfoOf(k: KindDefinition): ResourceInfo {
  return info(k.group, k.version, k.resource, k.kind, k.scope === 'Namespaced', {
    ...(k.singular ? { singular: k.singular } : {}),
    ...(k.listKind ? { listKind: k.listKind } : {}),
    shortNames: [...(k.shortNames ?? [])],
    categories: [...(k.categories ?? [])],
    subresources: [...(k.subresources ?? [])],
    statusSubresource: k.strategy.statusSubresource,
    hasGeneration: k.strategy.generation,
  });
}

/** The built-in resources, from the kind modules under kinds/. */
export const RESOURCES: ResourceInfo[] = KINDS.map(resourceInfoOf);

const byGroupResource = new Map(RESOURCES.map((r) => [`${r.group}/${r.resource}`, r]));

/**
 * Resources defined at run time (custom resources): a source the CRD registry installs,
 * asked on every lookup so that a CRD's resources are served as soon as it is stored.
 */
let dynamicSource: () => ResourceInfo[] = () => [];

export function setDynamicResources(source: () => ResourceInfo[]): void {
  dynamicSource = source;
}

/** Static and dynamic resources, one entry per served version. */
export function servedResources(): ResourceInfo[] {
  return [...RESOURCES, ...dynamicSource()];
}

/** A resource by group and resource name; for custom resources, its storage version. */
export function findResource(group: string, resource: string): ResourceInfo | undefined {
  const r = byGroupResource.get(`${group}/${resource}`);
  if (r) return r;
  const versions = dynamicSource().filter((d) => d.group === group && d.resource === resource);
  return versions.find((d) => d.custom?.storage) ?? versions[0];
}

/** The resource served at this group, version and resource name. */
export function findServedResource(group: string, version: string, resource: string): ResourceInfo | undefined {
  const r = byGroupResource.get(`${group}/${resource}`);
  if (r) return r.version === version ? r : undefined;
  return dynamicSource().find((d) => d.group === group && d.version === version && d.resource === resource);
}

export function resourceOf(ref: ResourceRef): ResourceInfo {
  const r = findResource(ref.group, ref.resource);
  if (!r) throw new Error(`unknown resource ${ref.group}/${ref.resource}`);
  return r;
}

export function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of servedResources()) seen.set(`${r.group}/${r.version}`, { group: r.group, version: r.version });
  return [...seen.values()];
}

export function apiVersion(r: { group: string; version: string }): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** Namespaced resources a namespace deletion must empty, in a safe order. */
export const NAMESPACED: ResourceInfo[] = RESOURCES.filter((r) => r.namespaced);

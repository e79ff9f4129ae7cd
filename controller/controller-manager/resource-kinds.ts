// What the controllers need to know about served resources: their kinds (to follow
// ownerReferences) and which live inside namespaces (to empty a namespace).
import type { ResourceRef } from '../apiserver/client.js';
import { RESOURCES, servedResources, type ResourceInfo } from '../apiserver/resources.js';

const ref = (r: ResourceInfo): ResourceRef => ({ group: r.group, resource: r.resource });

export function allServedResources(): ResourceRef[] {
  return RESOURCES.map(ref);
}

/** Every served resource that lives inside a namespace, custom resources included (once each). */
export function namespacedResources(): ResourceRef[] {
  const seen = new Set<string>();
  return servedResources().filter((r) => r.namespaced && !seen.has(r.gr) && seen.add(r.gr)).map(ref);
}

export function isNamespaced(target: ResourceRef): boolean {
  return RESOURCES.find((r) => r.group === target.group && r.resource === target.resource)?.namespaced ?? true;
}

export function kindOf(target: ResourceRef): string {
  return RESOURCES.find((r) => r.group === target.group && r.resource === target.resource)?.kind ?? target.resource;
}

/** Finds the served resource for an ownerReference's apiVersion + kind. */
export function resourceForKind(apiVersion: string, kind: string): ResourceRef | undefined {
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  const found = RESOURCES.find((r) => r.group === group && r.kind === kind);
  return found && ref(found);
}

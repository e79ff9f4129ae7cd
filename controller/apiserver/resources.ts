// Every resource the API server serves, with what discovery, storage and kubectl need.
import type { ResourceRef } from './client.js';

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

export const RESOURCES: ResourceInfo[] = [
  info('', 'v1', 'namespaces', 'Namespace', false, { shortNames: ['ns'], subresources: ['status', 'finalize'], statusSubresource: true }),
  info('', 'v1', 'pods', 'Pod', true, { shortNames: ['po'], categories: ['all'], subresources: ['status', 'binding', 'log', 'exec', 'eviction'], statusSubresource: true, hasGeneration: true }),
  info('', 'v1', 'nodes', 'Node', false, { shortNames: ['no'], subresources: ['status'], statusSubresource: true }),
  info('', 'v1', 'services', 'Service', true, { shortNames: ['svc'], categories: ['all'], subresources: ['status'], statusSubresource: true }),
  info('', 'v1', 'endpoints', 'Endpoints', true, { shortNames: ['ep'], singular: 'endpoints', listKind: 'EndpointsList' }),
  info('', 'v1', 'configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
  info('', 'v1', 'secrets', 'Secret', true),
  info('', 'v1', 'serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'], subresources: ['token'] }),
  info('', 'v1', 'events', 'Event', true, { shortNames: ['ev'] }),
  info('apps', 'v1', 'deployments', 'Deployment', true, { shortNames: ['deploy'], categories: ['all'], subresources: ['status', 'scale'], statusSubresource: true, hasGeneration: true }),
  info('apps', 'v1', 'replicasets', 'ReplicaSet', true, { shortNames: ['rs'], categories: ['all'], subresources: ['status', 'scale'], statusSubresource: true, hasGeneration: true }),
  info('apps', 'v1', 'daemonsets', 'DaemonSet', true, { shortNames: ['ds'], categories: ['all'], subresources: ['status'], statusSubresource: true, hasGeneration: true }),
  info('apps', 'v1', 'controllerrevisions', 'ControllerRevision', true),
  info('apps', 'v1', 'statefulsets', 'StatefulSet', true, { shortNames: ['sts'], categories: ['all'], subresources: ['status', 'scale'], statusSubresource: true, hasGeneration: true }),
  info('', 'v1', 'persistentvolumes', 'PersistentVolume', false, { shortNames: ['pv'], subresources: ['status'], statusSubresource: true }),
  info('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', true, { shortNames: ['pvc'], subresources: ['status'], statusSubresource: true }),
  info('storage.k8s.io', 'v1', 'storageclasses', 'StorageClass', false, { shortNames: ['sc'] }),
  info('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
  info('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', true),
];

const byGroupResource = new Map(RESOURCES.map((r) => [`${r.group}/${r.resource}`, r]));

export function findResource(group: string, resource: string): ResourceInfo | undefined {
  return byGroupResource.get(`${group}/${resource}`);
}

export function resourceOf(ref: ResourceRef): ResourceInfo {
  const r = findResource(ref.group, ref.resource);
  if (!r) throw new Error(`unknown resource ${ref.group}/${ref.resource}`);
  return r;
}

export function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of RESOURCES) seen.set(`${r.group}/${r.version}`, { group: r.group, version: r.version });
  return [...seen.values()];
}

export function apiVersion(r: { group: string; version: string }): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** Namespaced resources a namespace deletion must empty, in a safe order. */
export const NAMESPACED: ResourceInfo[] = RESOURCES.filter((r) => r.namespaced);

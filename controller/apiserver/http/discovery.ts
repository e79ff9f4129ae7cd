// API discovery: the legacy lists (/api, /apis, /api/v1, /apis/<g>/<v>) that every client
// understands, and the aggregated v2 form kubectl asks for first.
import { groupVersions, servedResources, type ResourceInfo } from '../resources.js';

/** API groups served by extra routes rather than the store (metrics.k8s.io). */
export interface VirtualResource { name: string; singularName: string; kind: string; namespaced: boolean; verbs: string[] }
export interface VirtualGroup { group: string; version: string; resources: VirtualResource[] }
const virtualGroups: VirtualGroup[] = [];

export function registerVirtualGroup(g: VirtualGroup): void {
  if (!virtualGroups.some((v) => v.group === g.group && v.version === g.version)) virtualGroups.push(g);
}

const VERBS_ALL = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

interface SubresourceDoc { name: string; kind: string; verbs: string[]; group?: string; version?: string }

function subresourceDocs(r: ResourceInfo): SubresourceDoc[] {
  const out: SubresourceDoc[] = [];
  for (const sub of r.subresources) {
    switch (sub) {
      case 'status': out.push({ name: 'status', kind: r.kind, verbs: ['get', 'patch', 'update'] }); break;
      case 'scale': out.push({ name: 'scale', kind: 'Scale', verbs: ['get', 'patch', 'update'], group: 'autoscaling', version: 'v1' }); break;
      case 'binding': out.push({ name: 'binding', kind: 'Binding', verbs: ['create'] }); break;
      case 'log': out.push({ name: 'log', kind: 'Pod', verbs: ['get'] }); break;
      case 'exec': out.push({ name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] }); break;
      case 'eviction': out.push({ name: 'eviction', kind: 'Eviction', verbs: ['create'], group: 'policy', version: 'v1' }); break;
      case 'finalize': out.push({ name: 'finalize', kind: 'Namespace', verbs: ['update'] }); break;
      case 'token': out.push({ name: 'token', kind: 'TokenRequest', verbs: ['create'], group: 'authentication.k8s.io', version: 'v1' }); break;
    }
  }
  return out;
}

function verbsOf(r: ResourceInfo): string[] {
  if (r.resource === 'nodes' || r.resource === 'namespaces') return VERBS_ALL.filter((v) => !(r.resource === 'namespaces' && v === 'deletecollection'));
  return VERBS_ALL;
}

export function apiVersions(serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

export function apiGroupList(): object {
  const groups = new Map<string, string[]>();
  for (const gv of groupVersions()) if (gv.group) groups.set(gv.group, [...(groups.get(gv.group) ?? []), gv.version]);
  for (const v of virtualGroups) groups.set(v.group, [...(groups.get(v.group) ?? []), v.version]);
  return {
    kind: 'APIGroupList', apiVersion: 'v1',
    groups: [...groups].map(([name, versions]) => ({
      name,
      versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
      preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
    })),
  };
}

export function apiGroup(group: string): object | undefined {
  const versions = [...groupVersions(), ...virtualGroups].filter((g) => g.group === group).map((g) => g.version);
  if (!versions.length) return undefined;
  return {
    kind: 'APIGroup', apiVersion: 'v1', name: group,
    versions: versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v })),
    preferredVersion: { groupVersion: `${group}/${versions[0]}`, version: versions[0] },
  };
}

export function apiResourceList(group: string, version: string): object | undefined {
  const virtual = virtualGroups.find((v) => v.group === group && v.version === version);
  if (virtual) return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${group}/${version}`, resources: virtual.resources };
  const rs = servedResources().filter((r) => r.group === group && r.version === version);
  if (!rs.length) return undefined;
  const resources: object[] = [];
  for (const r of rs) {
    resources.push({
      name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: verbsOf(r),
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
      ...(r.categories.length ? { categories: r.categories } : {}),
      storageVersionHash: Buffer.from(`${r.group}/${r.version}/${r.kind}`).toString('base64').slice(0, 11),
    });
    for (const s of subresourceDocs(r)) {
      resources.push({
        name: `${r.resource}/${s.name}`, singularName: '', namespaced: r.namespaced, kind: s.kind, verbs: s.verbs,
        ...(s.group ? { group: s.group, version: s.version } : {}),
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

export const AGGREGATED_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** Aggregated discovery for /api (legacy=true) or /apis. */
export function aggregatedDiscovery(legacy: boolean): object {
  const gvs = groupVersions().filter((g) => (legacy ? g.group === '' : g.group !== ''));
  const byGroup = new Map<string, string[]>();
  for (const gv of gvs) byGroup.set(gv.group, [...(byGroup.get(gv.group) ?? []), gv.version]);
  const virtualItems = legacy ? [] : virtualGroups.map((v) => ({
    metadata: { name: v.group },
    versions: [{
      version: v.version, freshness: 'Current',
      resources: v.resources.map((r) => ({
        resource: r.name, singularResource: r.singularName, scope: r.namespaced ? 'Namespaced' : 'Cluster',
        responseKind: { group: v.group, version: v.version, kind: r.kind }, verbs: r.verbs,
      })),
    }],
  }));
  return {
    kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {},
    items: [...[...byGroup].map(([group, versions]) => ({
      metadata: group ? { name: group } : {},
      versions: versions.map((version) => ({
        version,
        freshness: 'Current',
        resources: servedResources().filter((r) => r.group === group && r.version === version).map((r) => ({
          resource: r.resource, singularResource: r.singular, scope: r.namespaced ? 'Namespaced' : 'Cluster',
          responseKind: { group, version, kind: r.kind }, verbs: verbsOf(r),
          ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
          ...(r.categories.length ? { categories: r.categories } : {}),
          subresources: subresourceDocs(r).map((s) => ({
            subresource: s.name, responseKind: { group: s.group ?? group, version: s.version ?? version, kind: s.kind }, verbs: s.verbs,
          })),
        })),
      })),
    })), ...virtualItems].reduce<GroupEntry[]>(mergeSameGroup, []),
  };
}

/** A virtual version of a served group (autoscaling/v1 beside v2) joins that group's entry. */
interface GroupEntry { metadata: { name?: string }; versions: unknown[] }

function mergeSameGroup(items: GroupEntry[], item: GroupEntry): GroupEntry[] {
  const same = items.find((i) => i.metadata?.name === item.metadata?.name);
  if (same) same.versions.push(...item.versions);
  else items.push(item);
  return items;
}

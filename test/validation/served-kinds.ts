/** A representative set of served kinds for the OpenAPI tests. */
import type { ServedKind } from '../../controller/apiserver/openapi.js';

export const SERVED: ServedKind[] = [
  { group: '', version: 'v1', kind: 'Namespace', resource: 'namespaces', namespaced: false, subresources: ['status', 'finalize'] },
  { group: '', version: 'v1', kind: 'Pod', resource: 'pods', namespaced: true, subresources: ['status', 'binding', 'log', 'exec', 'eviction'] },
  { group: '', version: 'v1', kind: 'Node', resource: 'nodes', namespaced: false, subresources: ['status'] },
  { group: '', version: 'v1', kind: 'Service', resource: 'services', namespaced: true, subresources: ['status'] },
  { group: '', version: 'v1', kind: 'ConfigMap', resource: 'configmaps', namespaced: true, subresources: [] },
  { group: '', version: 'v1', kind: 'ServiceAccount', resource: 'serviceaccounts', namespaced: true, subresources: ['token'] },
  { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespaced: true, subresources: ['status', 'scale'] },
  { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', resource: 'leases', namespaced: true, subresources: [] },
  { group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', resource: 'endpointslices', namespaced: true, subresources: [] },
];

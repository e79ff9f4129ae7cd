// coordination.k8s.io/v1 Lease: node heartbeats and leader election (pkg/registry/coordination/lease).
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { METADATA_ONLY } from '../../patch/patch-meta.js';
import { leasePrinter } from '../../tables/core.js';

export const lease: KindDefinition = {
  group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', resource: 'leases', scope: 'Namespaced',
  strategy: PLAIN,
  printer: leasePrinter,
  protobuf: { message: 'coordination/v1.Lease' },
  patch: METADATA_ONLY,
};

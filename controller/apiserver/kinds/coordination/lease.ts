// coordination.k8s.io/v1 Lease: node heartbeats and leader election (pkg/registry/coordination/lease).
import { PTR } from '../../protobuf/message-table.js';
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { METADATA_ONLY } from '../../patch/patch-meta.js';
import { leasePrinter } from '../../tables/core-printers.js';

export const lease: KindDefinition = {
  group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', resource: 'leases', scope: 'Namespaced',
  strategy: PLAIN,
  printer: leasePrinter,
  protobuf: {
    message: 'coordination/v1.Lease',
    // Field numbers from k8s.io/api/coordination/v1/generated.proto.
    messages: {
      'coordination/v1.Lease': {
        1: ['metadata', 'meta/v1.ObjectMeta'],
        2: ['spec', 'coordination/v1.LeaseSpec'],
      },
      'coordination/v1.LeaseSpec': {
        1: ['holderIdentity', 'string', PTR],
        2: ['leaseDurationSeconds', 'int32', PTR],
        3: ['acquireTime', 'MicroTime', PTR],
        4: ['renewTime', 'MicroTime', PTR],
        5: ['leaseTransitions', 'int32', PTR],
        6: ['strategy', 'string', PTR],
        7: ['preferredHolder', 'string', PTR],
      },
    },
  },
  patch: METADATA_ONLY,
};

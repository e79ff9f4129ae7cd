// v1 Endpoints: a Service's addresses in the older, one-object form (pkg/registry/core/endpoint).
import { REP, PTR } from '../../protobuf/message-table.js';
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { METADATA_ONLY } from '../../patch/patch-meta.js';
import { endpointsPrinter } from '../../tables/networking-printers.js';

export const endpoints: KindDefinition = {
  group: '', version: 'v1', kind: 'Endpoints', resource: 'endpoints', scope: 'Namespaced',
  singular: 'endpoints',
  listKind: 'EndpointsList',
  shortNames: ['ep'],
  strategy: PLAIN,
  printer: endpointsPrinter,
  protobuf: {
    message: 'core/v1.Endpoints',
    // Field numbers from k8s.io/api/core/v1/generated.proto.
    messages: {
      'core/v1.Endpoints': {
        1: ['metadata', 'meta/v1.ObjectMeta'],
        2: ['subsets', 'core/v1.EndpointSubset', REP],
      },
      'core/v1.EndpointSubset': {
        1: ['addresses', 'core/v1.EndpointAddress', REP],
        2: ['notReadyAddresses', 'core/v1.EndpointAddress', REP],
        3: ['ports', 'core/v1.EndpointPort', REP],
      },
      'core/v1.EndpointAddress': {
        1: ['ip', 'string'],
        2: ['targetRef', 'core/v1.ObjectReference', PTR],
        3: ['hostname', 'string'],
        4: ['nodeName', 'string', PTR],
      },
      'core/v1.EndpointPort': {
        1: ['name', 'string'],
        2: ['port', 'int32'],
        3: ['protocol', 'string'],
        4: ['appProtocol', 'string', PTR],
      },
    },
  },
  patch: METADATA_ONLY,
};

// discovery.k8s.io/v1 EndpointSlice: a Service's ready addresses (pkg/registry/discovery/endpointslice).
import { REP, PTR } from '../../protobuf/message-table.js';
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { endpointSlicePrinter } from '../../tables/networking-printers.js';

export const endpointSlice: KindDefinition = {
  group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', resource: 'endpointslices', scope: 'Namespaced',
  strategy: PLAIN,
  printer: endpointSlicePrinter,
  protobuf: {
    message: 'discovery/v1.EndpointSlice',
    // Field numbers from k8s.io/api/discovery/v1/generated.proto.
    messages: {
      'discovery/v1.EndpointSlice': {
        1: ['metadata', 'meta/v1.ObjectMeta'],
        2: ['endpoints', 'discovery/v1.Endpoint', REP],
        3: ['ports', 'discovery/v1.EndpointPort', REP],
        4: ['addressType', 'string'],
      },
      'discovery/v1.Endpoint': {
        1: ['addresses', 'string', REP],
        2: ['conditions', 'discovery/v1.EndpointConditions'],
        3: ['hostname', 'string', PTR],
        4: ['targetRef', 'core/v1.ObjectReference', PTR],
        5: ['deprecatedTopology', 'map:string'],
        6: ['nodeName', 'string', PTR],
        7: ['zone', 'string', PTR],
        8: ['hints', 'discovery/v1.EndpointHints', PTR],
      },
      'discovery/v1.EndpointConditions': {
        1: ['ready', 'bool', PTR],
        2: ['serving', 'bool', PTR],
        3: ['terminating', 'bool', PTR],
      },
      'discovery/v1.EndpointHints': {
        1: ['forZones', 'discovery/v1.ForZone', REP],
        2: ['forNodes', 'discovery/v1.ForNode', REP],
      },
      'discovery/v1.EndpointPort': {
        1: ['name', 'string', PTR],
        2: ['protocol', 'string', PTR],
        3: ['port', 'int32', PTR],
        4: ['appProtocol', 'string', PTR],
      },
      'discovery/v1.ForNode': {
        1: ['name', 'string'],
      },
      'discovery/v1.ForZone': {
        1: ['name', 'string'],
      },
    },
  },
};

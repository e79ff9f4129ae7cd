// Field numbers of the discovery/v1 protobuf messages that request bodies may carry.
// Each row: field number → [JSON name ('' when inlined), type, flags].
import { type MessageTable, REP, PTR } from '../message-table.js';

export const discoveryV1Messages: Record<string, MessageTable> = {
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
  'discovery/v1.EndpointSlice': {
    1: ['metadata', 'meta/v1.ObjectMeta'],
    2: ['endpoints', 'discovery/v1.Endpoint', REP],
    3: ['ports', 'discovery/v1.EndpointPort', REP],
    4: ['addressType', 'string'],
  },
  'discovery/v1.ForNode': {
    1: ['name', 'string'],
  },
  'discovery/v1.ForZone': {
    1: ['name', 'string'],
  },
};

// discovery.k8s.io/v1 EndpointSlice: a Service's ready addresses (pkg/registry/discovery/endpointslice).
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { endpointSlicePrinter } from '../../tables/networking.js';

export const endpointSlice: KindDefinition = {
  group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', resource: 'endpointslices', scope: 'Namespaced',
  strategy: PLAIN,
  printer: endpointSlicePrinter,
  protobuf: { message: 'discovery/v1.EndpointSlice' },
};

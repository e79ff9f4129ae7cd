// v1 Endpoints: a Service's addresses in the older, one-object form (pkg/registry/core/endpoint).
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { METADATA_ONLY } from '../../patch/patch-meta.js';
import { endpointsPrinter } from '../../tables/networking.js';

export const endpoints: KindDefinition = {
  group: '', version: 'v1', kind: 'Endpoints', resource: 'endpoints', scope: 'Namespaced',
  singular: 'endpoints',
  listKind: 'EndpointsList',
  shortNames: ['ep'],
  strategy: PLAIN,
  printer: endpointsPrinter,
  protobuf: { message: 'core/v1.Endpoints' },
  patch: METADATA_ONLY,
};

// v1 ServiceAccount: the identity pods run as (pkg/registry/core/serviceaccount).
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { mergeBy, nested, objectMeta } from '../../patch/patch-meta.js';
import { serviceAccountPrinter } from '../../tables/core.js';

export const serviceAccount: KindDefinition = {
  group: '', version: 'v1', kind: 'ServiceAccount', resource: 'serviceaccounts', scope: 'Namespaced',
  shortNames: ['sa'],
  subresources: ['token'],
  strategy: PLAIN,
  printer: serviceAccountPrinter,
  protobuf: { message: 'core/v1.ServiceAccount' },
  patch: { metadata: nested(objectMeta), secrets: mergeBy('name') },
};

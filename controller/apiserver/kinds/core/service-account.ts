// v1 ServiceAccount: the identity pods run as (pkg/registry/core/serviceaccount).
import { REP, PTR } from '../../protobuf/message-table.js';
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { mergeBy, nested, objectMeta } from '../../patch/patch-meta.js';
import { serviceAccountPrinter } from '../../tables/core-printers.js';

export const serviceAccount: KindDefinition = {
  group: '', version: 'v1', kind: 'ServiceAccount', resource: 'serviceaccounts', scope: 'Namespaced',
  shortNames: ['sa'],
  subresources: ['token'],
  strategy: PLAIN,
  printer: serviceAccountPrinter,
  protobuf: {
    message: 'core/v1.ServiceAccount',
    // Field numbers from k8s.io/api/core/v1/generated.proto.
    messages: {
      'core/v1.ServiceAccount': {
        1: ['metadata', 'meta/v1.ObjectMeta'],
        2: ['secrets', 'core/v1.ObjectReference', REP],
        3: ['imagePullSecrets', 'core/v1.LocalObjectReference', REP],
        4: ['automountServiceAccountToken', 'bool', PTR],
      },
    },
  },
  patch: { metadata: nested(objectMeta), secrets: mergeBy('name') },
};

// v1 Namespace: a scope for names; deleting one empties it first (pkg/registry/core/namespace).
import type { Namespace } from '../../../../protocol/kube/types.js';
import { REP } from '../../protobuf/message-table.js';
import { type KindDefinition, WITH_STATUS } from '../kind-definition.js';
import { conditionsByType, nested, objectMeta } from '../../patch/patch-meta.js';
import { namespacePrinter } from '../../tables/core-printers.js';
import { dns1123Label } from '../../validation/names.js';

export const namespace: KindDefinition = {
  group: '', version: 'v1', kind: 'Namespace', resource: 'namespaces', scope: 'Cluster',
  shortNames: ['ns'],
  subresources: ['status', 'finalize'],
  strategy: WITH_STATUS,
  defaults(obj, old) {
    const spec = (obj.spec ??= {}) as NonNullable<Namespace['spec']>;
    if (!old) spec.finalizers ??= ['kubernetes'];
  },
  prepareForCreate(obj) {
    obj.status = { phase: 'Active' };
  },
  printer: namespacePrinter,
  protobuf: {
    message: 'core/v1.Namespace',
    // Field numbers from k8s.io/api/core/v1/generated.proto.
    messages: {
      'core/v1.Namespace': {
        1: ['metadata', 'meta/v1.ObjectMeta'],
        2: ['spec', 'core/v1.NamespaceSpec'],
        3: ['status', 'core/v1.NamespaceStatus'],
      },
      'core/v1.NamespaceCondition': {
        1: ['type', 'string'],
        2: ['status', 'string'],
        4: ['lastTransitionTime', 'Time'],
        5: ['reason', 'string'],
        6: ['message', 'string'],
      },
      'core/v1.NamespaceSpec': {
        1: ['finalizers', 'string', REP],
      },
      'core/v1.NamespaceStatus': {
        1: ['phase', 'string'],
        2: ['conditions', 'core/v1.NamespaceCondition', REP],
      },
    },
  },
  patch: { metadata: nested(objectMeta), status: nested(conditionsByType) },
  validation: { name: dns1123Label },
};

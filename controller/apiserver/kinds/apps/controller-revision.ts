// apps/v1 ControllerRevision: a stored template revision of a DaemonSet or StatefulSet
// (pkg/registry/apps/controllerrevision).
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { controllerRevisionPrinter } from '../../tables/apps-printers.js';

export const controllerRevision: KindDefinition = {
  group: 'apps', version: 'v1', kind: 'ControllerRevision', resource: 'controllerrevisions', scope: 'Namespaced',
  strategy: PLAIN,
  printer: controllerRevisionPrinter,
  protobuf: {
    message: 'apps/v1.ControllerRevision',
    // Field numbers from k8s.io/api/apps/v1/generated.proto.
    messages: {
      'apps/v1.ControllerRevision': {
        1: ['metadata', 'meta/v1.ObjectMeta'],
        2: ['data', 'RawExtension'],
        3: ['revision', 'int64'],
      },
    },
  },
};

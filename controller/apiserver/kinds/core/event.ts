// v1 Event: what happened to an object, for `kubectl describe` (pkg/registry/core/event).
import { PTR } from '../../protobuf/message-table.js';
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { METADATA_ONLY } from '../../patch/patch-meta.js';
import { eventPrinter } from '../../tables/event-printers.js';

export const event: KindDefinition = {
  group: '', version: 'v1', kind: 'Event', resource: 'events', scope: 'Namespaced',
  shortNames: ['ev'],
  strategy: PLAIN,
  printer: eventPrinter,
  protobuf: {
    message: 'core/v1.Event',
    // Field numbers from k8s.io/api/core/v1/generated.proto.
    messages: {
      'core/v1.Event': {
        1: ['metadata', 'meta/v1.ObjectMeta'],
        2: ['involvedObject', 'core/v1.ObjectReference'],
        3: ['reason', 'string'],
        4: ['message', 'string'],
        5: ['source', 'core/v1.EventSource'],
        6: ['firstTimestamp', 'Time'],
        7: ['lastTimestamp', 'Time'],
        8: ['count', 'int32'],
        9: ['type', 'string'],
        10: ['eventTime', 'MicroTime'],
        11: ['series', 'core/v1.EventSeries', PTR],
        12: ['action', 'string'],
        13: ['related', 'core/v1.ObjectReference', PTR],
        14: ['reportingComponent', 'string'],
        15: ['reportingInstance', 'string'],
      },
      'core/v1.EventSeries': {
        1: ['count', 'int32'],
        2: ['lastObservedTime', 'MicroTime'],
      },
      'core/v1.EventSource': {
        1: ['component', 'string'],
        2: ['host', 'string'],
      },
    },
  },
  patch: METADATA_ONLY,
};

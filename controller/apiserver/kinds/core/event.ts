// v1 Event: what happened to an object, for `kubectl describe` (pkg/registry/core/event).
import { type KindDefinition, PLAIN } from '../kind-definition.js';
import { METADATA_ONLY } from '../../patch/patch-meta.js';
import { eventPrinter } from '../../tables/events.js';

export const event: KindDefinition = {
  group: '', version: 'v1', kind: 'Event', resource: 'events', scope: 'Namespaced',
  shortNames: ['ev'],
  strategy: PLAIN,
  printer: eventPrinter,
  protobuf: { message: 'core/v1.Event' },
  patch: METADATA_ONLY,
};

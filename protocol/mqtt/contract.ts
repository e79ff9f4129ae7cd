// The MQTT contract in one map: every topic kind that carries JSON, the schema its payload
// follows (payloads.ts) and the largest payload accepted on it. Receivers parse through
// it (validate.ts), the broker enforces its limits (client-limits.ts), and PayloadOf<K>
// gives the type of what a topic carries.
import type { Static } from '@sinclair/typebox';
import {
  ApiRequest, ApiResponse, AvailabilityPayload, ClusterConfigPayload, DesiredPodsPayload, EventsPayload, HeartbeatPayload, JoinRequest, JoinResponse,
  NodeStatusPayload, PodStatusPayload, RequestPayload, ResponseChunk, ServiceRoutingPayload,
} from './payloads.js';
import { IngressPayload } from './ingress-payload.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Topic kind → payload schema, size limit in bytes (senders split batches to stay below), and the name errors start with. */
export const MQTT_CONTRACT = {
  availability: { schema: AvailabilityPayload, limit: 1 * KiB, name: 'availability' },
  status: { schema: NodeStatusPayload, limit: 64 * KiB, name: 'status' },
  heartbeat: { schema: HeartbeatPayload, limit: 256, name: 'heartbeat' },
  'cluster-config': { schema: ClusterConfigPayload, limit: 1 * KiB, name: 'cluster config' },
  events: { schema: EventsPayload, limit: 64 * KiB, name: 'events' },
  'pod-status': { schema: PodStatusPayload, limit: 256 * KiB, name: 'pod-status' },
  pods: { schema: DesiredPodsPayload, limit: 8 * MiB, name: 'pods' },
  services: { schema: ServiceRoutingPayload, limit: 4 * MiB, name: 'services' },
  request: { schema: RequestPayload, limit: 64 * KiB, name: 'request' },
  response: { schema: ResponseChunk, limit: 1 * MiB, name: 'response' },
  'join-request': { schema: JoinRequest, limit: 4 * KiB, name: 'join request' },
  'join-response': { schema: JoinResponse, limit: 4 * KiB, name: 'join response' },
  'api-request': { schema: ApiRequest, limit: 1 * MiB, name: 'request' },
  'api-response': { schema: ApiResponse, limit: 8 * MiB, name: 'response' },
  ingress: { schema: IngressPayload, limit: 8 * MiB, name: 'ingress' },
} as const;

export type PayloadKind = keyof typeof MQTT_CONTRACT;

/** The payload a topic kind carries. */
export type PayloadOf<K extends PayloadKind> = Static<(typeof MQTT_CONTRACT)[K]['schema']>;

/** Largest payload accepted per topic kind, in bytes. */
export const PAYLOAD_LIMITS = Object.fromEntries(Object.entries(MQTT_CONTRACT).map(([k, v]) => [k, v.limit])) as { readonly [K in PayloadKind]: number };

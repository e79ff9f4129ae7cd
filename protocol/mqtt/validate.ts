// Checks every MQTT payload before anyone uses it: size first (cheap, and it stops a
// hostile node from making us parse megabytes), then JSON, then the schema of its topic
// (contract.ts), then the few rules a schema cannot say (fields required by a verb or an
// op, unique pod uids). Callers log a PayloadError and drop the message.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { MQTT_CONTRACT, PAYLOAD_LIMITS, type PayloadKind, type PayloadOf } from './contract.js';
import { OneOf, REQUEST_OPS, TIME_FORMAT } from './payloads.js';
import type {
  ApiRequest, ApiResponse, AvailabilityPayload, ClusterConfigPayload, DesiredPodsPayload, EventsPayload, HeartbeatPayload, JoinRequest, JoinResponse,
  NodeStatusPayload, PodStatusPayload, RequestPayload, ResponseChunk, ServiceRoutingPayload,
} from './payloads.js';
import type { IngressPayload } from './ingress-payload.js';
import { isTopicLevel, type ParsedTopic } from './topics.js';

export { PAYLOAD_LIMITS, type PayloadKind, type PayloadOf };

export class PayloadError extends Error {
  override readonly name = 'PayloadError';
}

/** An empty retained message clears the topic; receivers treat it as "gone", not as an error. */
export function isCleared(buf: Buffer): boolean {
  return buf.length === 0;
}

/** Size check + JSON parse; the result is still unknown. */
export function parseJson(buf: Buffer, limit: number): unknown {
  if (!Buffer.isBuffer(buf)) throw new PayloadError('payload is not a buffer');
  if (buf.length === 0) throw new PayloadError('empty payload');
  if (buf.length > limit) throw new PayloadError(`payload of ${buf.length} bytes exceeds the limit of ${limit} bytes`);
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw new PayloadError(`payload is not JSON: ${(err as Error).message}`);
  }
}

// ---- schema checks ----------------------------------------------------------------------

const compiled = new Map<TSchema, TypeCheck<TSchema>>();
function checker(schema: TSchema): TypeCheck<TSchema> {
  let c = compiled.get(schema);
  if (!c) compiled.set(schema, (c = TypeCompiler.Compile(schema)));
  return c;
}

function kindOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/** `/pods/0/pod/metadata/uid` under `pods` → `pods.pods[0].pod.metadata.uid`. */
function fieldPath(root: string, pointer: string): string {
  let out = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(key) ? `[${key}]` : `.${key}`;
  }
  return out;
}

/** Why `value` does not fit `schema`, in the words the rest of pikube uses. */
function reason(schema: TSchema, value: unknown): string {
  const s = schema as Record<string, unknown> & TSchema;
  const got = kindOf(value);
  if (Array.isArray(s.anyOf) && s.anyOf.every((x: { const?: unknown }) => typeof x.const === 'string')) {
    return `expected one of ${s.anyOf.map((x: { const: string }) => x.const).join('|')}, got ${typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : got}`;
  }
  if (Array.isArray(s.anyOf)) {
    const forms = s.anyOf.map((x: { properties?: Record<string, unknown> }) => (x.properties ? `{${Object.keys(x.properties).join(', ')}}` : String((x as TSchema).type)));
    return `expected one of ${forms.join('|')}, got ${got}`;
  }
  if ('const' in s) return `expected ${JSON.stringify(s.const)}, got ${typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : got}`;
  switch (s.type) {
    case 'object':
      return `expected an object, got ${got}`;
    case 'array':
      if (!Array.isArray(value)) return `expected an array, got ${got}`;
      return typeof s.minItems === 'number' && value.length < s.minItems ? 'must not be empty' : 'invalid array';
    case 'string':
      if (typeof value !== 'string') return `expected a string, got ${got}`;
      if (typeof s.minLength === 'number' && value.length < s.minLength) return 'must not be empty';
      if (s.format === TIME_FORMAT) return `not a valid time: ${JSON.stringify(value.slice(0, 40))}`;
      if (typeof s.expected === 'string') return `expected ${s.expected}, got ${JSON.stringify(value.slice(0, 40))}`;
      return 'invalid string';
    case 'boolean':
      return `expected a boolean, got ${got}`;
    case 'number':
    case 'integer':
      if (typeof value !== 'number' || !Number.isFinite(value)) return `expected a finite number, got ${got}`;
      if (s.type === 'integer' && !Number.isInteger(value)) return `expected an integer, got ${value}`;
      if (typeof s.minimum === 'number' && value < s.minimum) return `must be >= ${s.minimum}, got ${value}`;
      if (typeof s.maximum === 'number' && value > s.maximum) return `must be <= ${s.maximum}, got ${value}`;
      return `invalid number ${value}`;
    default:
      return value === undefined ? 'required' : `unexpected ${got}`;
  }
}

/** The value if it fits the schema; else a PayloadError naming the first field that does not. */
export function checkSchema<T extends TSchema>(schema: T, value: unknown, root: string): Static<T> {
  const c = checker(schema);
  if (c.Check(value)) return value as Static<T>;
  const first = c.Errors(value).First();
  if (!first) throw new PayloadError(`${root}: does not match its schema`);
  throw new PayloadError(`${fieldPath(root, first.path)}: ${reason(first.schema, first.value)}`);
}

/** A payload of the given topic kind: size, JSON and schema checked. */
export function parsePayload<K extends PayloadKind>(kind: K, buf: Buffer): PayloadOf<K> {
  const entry = MQTT_CONTRACT[kind];
  return checkSchema(entry.schema, parseJson(buf, entry.limit), entry.name) as PayloadOf<K>;
}

// ---- payloads with rules beyond their schema ---------------------------------------------

export const parseAvailability = (buf: Buffer): AvailabilityPayload => parsePayload('availability', buf);
export const parseNodeStatus = (buf: Buffer): NodeStatusPayload => parsePayload('status', buf);
export const parsePodStatus = (buf: Buffer): PodStatusPayload => parsePayload('pod-status', buf);
export const parseEvents = (buf: Buffer): EventsPayload => parsePayload('events', buf);
export const parseServiceRouting = (buf: Buffer): ServiceRoutingPayload => parsePayload('services', buf);
export const parseResponseChunk = (buf: Buffer): ResponseChunk => parsePayload('response', buf);
export const parseJoinRequest = (buf: Buffer): JoinRequest => parsePayload('join-request', buf);
export const parseHeartbeat = (buf: Buffer): HeartbeatPayload => parsePayload('heartbeat', buf);
export const parseClusterConfig = (buf: Buffer): ClusterConfigPayload => parsePayload('cluster-config', buf);
export const parseApiResponse = (buf: Buffer): ApiResponse => parsePayload('api-response', buf);
export const parseIngressPayload = (buf: Buffer): IngressPayload => parsePayload('ingress', buf);

/** A desired pod set, from MQTT or from the agent's saved copy: schema, then one pod per uid. */
export function checkDesiredPods(value: unknown, root = 'pods'): DesiredPodsPayload {
  const set = checkSchema(MQTT_CONTRACT.pods.schema, value, root);
  const seen = new Set<string>();
  set.pods.forEach((dp, i) => {
    const uid = dp.pod.metadata.uid!;
    if (seen.has(uid)) throw new PayloadError(`${root}.pods[${i}].pod.metadata.uid: duplicate uid ${uid}`);
    seen.add(uid);
  });
  return set;
}

export function parseDesiredPods(buf: Buffer): DesiredPodsPayload {
  return checkDesiredPods(parseJson(buf, PAYLOAD_LIMITS.pods));
}

/** A request to a node, checked against the schema its `op` names. */
export function parseRequest(buf: Buffer): RequestPayload {
  const o = checkSchema(REQUEST_OP, parseJson(buf, PAYLOAD_LIMITS.request), 'request');
  return checkSchema(REQUEST_OPS[o.op], o, 'request');
}
const REQUEST_OP = Type.Object({ op: OneOf(Object.keys(REQUEST_OPS) as (keyof typeof REQUEST_OPS)[]) });

/** ok: true needs the credentials, ok: false the reason. */
export function parseJoinResponse(buf: Buffer): JoinResponse {
  const o = parsePayload('join-response', buf);
  const need = o.ok ? (['username', 'password'] as const) : (['error'] as const);
  for (const k of need) {
    const v = o[k];
    if (typeof v !== 'string') throw new PayloadError(`join response.${k}: expected a string, got ${kindOf(v)}`);
    if (o.ok && v.length === 0) throw new PayloadError(`join response.${k}: must not be empty`);
  }
  return o;
}

const API_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * A Kubernetes API request over MQTT. Throws PayloadError naming the field; the request
 * id, when it is readable at all, is returned with it so the sender still gets a 400.
 */
export function parseApiRequest(buf: Buffer): ApiRequest {
  const o = parsePayload('api-request', buf);
  if (o.id.length > 128 || !isTopicLevel(o.id)) throw new PayloadError('request.id: must be 1-128 characters without /, + or #');
  const verb = o.verb;
  if (verb !== 'cancel') {
    for (const f of ['version', 'resource'] as const) {
      if (o[f] === undefined) throw new PayloadError(`request.${f}: expected a string, got undefined`);
      if (o[f] === '') throw new PayloadError(`request.${f}: must not be empty`);
    }
    for (const f of ['group', 'version', 'resource', 'namespace', 'name', 'subresource'] as const) {
      const v = o[f];
      if (v && (v.length > 253 || !API_NAME.test(v))) throw new PayloadError(`request.${f}: ${JSON.stringify(v.slice(0, 64))} is not a valid name`);
    }
  }
  const needsName = verb === 'get' || verb === 'update' || verb === 'patch' || verb === 'delete' || verb === 'scale';
  if (needsName && !o.name) throw new PayloadError(`request.name: required for ${verb}`);
  if ((verb === 'create' || verb === 'update' || verb === 'patch' || verb === 'scale') && o.body === undefined) throw new PayloadError(`request.body: required for ${verb}`);
  return o;
}

/** The request id of a payload that failed parseApiRequest, if one can be read, to answer 400 to. */
export function apiRequestIdOf(buf: Buffer): string | undefined {
  try {
    const o = JSON.parse(buf.toString('utf8')) as { id?: unknown };
    return typeof o.id === 'string' && o.id.length > 0 && o.id.length <= 128 && isTopicLevel(o.id) ? o.id : undefined;
  } catch {
    return undefined;
  }
}

/** The parser for what arrives on a topic recognised by `Topics.parse`. */
export function parseForTopic(topic: ParsedTopic, buf: Buffer): unknown {
  switch (topic.kind) {
    case 'pods': return parseDesiredPods(buf);
    case 'request': return parseRequest(buf);
    case 'join-response': return parseJoinResponse(buf);
    case 'api-request': return parseApiRequest(buf);
    default: return parsePayload(topic.kind, buf);
  }
}

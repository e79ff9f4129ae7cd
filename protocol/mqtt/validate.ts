// Checks every MQTT payload before anyone uses it: size first (cheap, and it stops a
// hostile node from making us parse megabytes), then JSON, then the shape of the fields
// the receiver relies on. Callers log a PayloadError and drop the message.
import type {
  ApiRequest, ApiResponse, AvailabilityPayload, ClusterConfigPayload, DesiredPodsPayload, EventsPayload, HeartbeatPayload, JoinRequest, JoinResponse, NodeStatusPayload,
  PodStatusPayload, RequestPayload, ResponseChunk, ServiceRoutingPayload,
} from './payloads.js';
import { API_PATCH_TYPES, API_VERBS } from './payloads.js';
import { isTopicLevel, type ParsedTopic } from './topics.js';

export class PayloadError extends Error {
  override readonly name = 'PayloadError';
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** Largest payload accepted per topic kind, in bytes. Senders split batches to stay below. */
export const PAYLOAD_LIMITS = {
  availability: 1 * KiB,
  status: 64 * KiB,
  heartbeat: 256,
  'cluster-config': 1 * KiB,
  events: 64 * KiB,
  'pod-status': 256 * KiB,
  pods: 8 * MiB,
  services: 4 * MiB,
  request: 64 * KiB,
  response: 1 * MiB,
  'join-request': 4 * KiB,
  'join-response': 4 * KiB,
  'api-request': 1 * MiB,
  'api-response': 8 * MiB,
} as const;

export type PayloadKind = keyof typeof PAYLOAD_LIMITS;

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

// --- tiny shape checker -------------------------------------------------------------
type Obj = Record<string, unknown>;

function fail(path: string, expected: string, value: unknown): never {
  const got = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  throw new PayloadError(`${path}: expected ${expected}, got ${got}`);
}
function obj(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'an object', v);
  return v as Obj;
}
function str(v: unknown, path: string, opts: { nonEmpty?: boolean } = {}): string {
  if (typeof v !== 'string') fail(path, 'a string', v);
  if (opts.nonEmpty && v.length === 0) throw new PayloadError(`${path}: must not be empty`);
  return v;
}
function num(v: unknown, path: string, opts: { int?: boolean; min?: number } = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(path, 'a finite number', v);
  if (opts.int && !Number.isInteger(v)) throw new PayloadError(`${path}: expected an integer, got ${v}`);
  if (opts.min !== undefined && v < opts.min) throw new PayloadError(`${path}: must be >= ${opts.min}, got ${v}`);
  return v;
}
function bool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') fail(path, 'a boolean', v);
  return v;
}
function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(path, 'an array', v);
  return v;
}
function oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !values.includes(v as T)) fail(path, `one of ${values.join('|')}`, v);
  return v as T;
}
function opt<T>(v: unknown, check: (v: unknown) => T): T | undefined {
  return v === undefined ? undefined : check(v);
}
function stringMap(v: unknown, path: string): Record<string, string> {
  const o = obj(v, path);
  for (const [k, val] of Object.entries(o)) str(val, `${path}.${k}`);
  return o as Record<string, string>;
}
function time(v: unknown, path: string): string {
  const s = str(v, path, { nonEmpty: true });
  if (Number.isNaN(Date.parse(s))) throw new PayloadError(`${path}: not a valid time: ${JSON.stringify(s.slice(0, 40))}`);
  return s;
}

// --- payloads -------------------------------------------------------------------------

export function parseAvailability(buf: Buffer): AvailabilityPayload {
  const o = obj(parseJson(buf, PAYLOAD_LIMITS.availability), 'availability');
  oneOf(o.state, 'availability.state', ['online', 'offline'] as const);
  return o as unknown as AvailabilityPayload;
}

function resources(v: unknown, path: string): void {
  const o = obj(v, path);
  num(o.cpuCores, `${path}.cpuCores`, { min: 0 });
  num(o.memoryBytes, `${path}.memoryBytes`, { min: 0 });
  num(o.pods, `${path}.pods`, { int: true, min: 0 });
  opt(o.ephemeralStorageBytes, (x) => num(x, `${path}.ephemeralStorageBytes`, { min: 0 }));
}

export function parseNodeStatus(buf: Buffer): NodeStatusPayload {
  const o = obj(parseJson(buf, PAYLOAD_LIMITS.status), 'status');
  time(o.time, 'status.time');
  time(o.bootTime, 'status.bootTime');
  resources(o.capacity, 'status.capacity');
  resources(o.allocatable, 'status.allocatable');
  const usage = obj(o.usage, 'status.usage');
  num(usage.cpuCores, 'status.usage.cpuCores', { min: 0 });
  num(usage.memoryBytes, 'status.usage.memoryBytes', { min: 0 });
  const pressure = obj(o.pressure, 'status.pressure');
  for (const k of ['memory', 'disk', 'pid']) bool(pressure[k], `status.pressure.${k}`);
  const info = obj(o.nodeInfo, 'status.nodeInfo');
  for (const k of ['osImage', 'kernelVersion', 'architecture', 'operatingSystem', 'containerRuntimeVersion', 'agentVersion']) {
    str(info[k], `status.nodeInfo.${k}`);
  }
  arr(o.addresses, 'status.addresses').forEach((a, i) => {
    const ao = obj(a, `status.addresses[${i}]`);
    oneOf(ao.type, `status.addresses[${i}].type`, ['InternalIP', 'ExternalIP', 'Hostname'] as const);
    str(ao.address, `status.addresses[${i}].address`, { nonEmpty: true });
  });
  stringMap(o.labels, 'status.labels');
  opt(o.temperatureC, (x) => num(x, 'status.temperatureC'));
  opt(o.storageDir, (x) => str(x, 'status.storageDir', { nonEmpty: true }));
  opt(o.proxyMode, (x) => oneOf(x, 'status.proxyMode', ['iptables', 'userspace', 'off'] as const));
  opt(o.images, (x) => arr(x, 'status.images').forEach((img, i) => {
    const io = obj(img, `status.images[${i}]`);
    arr(io.names, `status.images[${i}].names`).forEach((n, j) => str(n, `status.images[${i}].names[${j}]`, { nonEmpty: true }));
    num(io.sizeBytes, `status.images[${i}].sizeBytes`, { min: 0 });
  }));
  arr(o.pods, 'status.pods').forEach((p, i) => {
    const po = obj(p, `status.pods[${i}]`);
    str(po.uid, `status.pods[${i}].uid`, { nonEmpty: true });
    str(po.namespace, `status.pods[${i}].namespace`);
    str(po.name, `status.pods[${i}].name`);
    arr(po.containers, `status.pods[${i}].containers`).forEach((c, j) => {
      const co = obj(c, `status.pods[${i}].containers[${j}]`);
      str(co.name, `status.pods[${i}].containers[${j}].name`);
      num(co.cpuCores, `status.pods[${i}].containers[${j}].cpuCores`, { min: 0 });
      num(co.memoryBytes, `status.pods[${i}].containers[${j}].memoryBytes`, { min: 0 });
    });
  });
  return o as unknown as NodeStatusPayload;
}

function podShape(v: unknown, path: string): void {
  const pod = obj(v, path);
  const meta = obj(pod.metadata, `${path}.metadata`);
  str(meta.name, `${path}.metadata.name`, { nonEmpty: true });
  str(meta.namespace, `${path}.metadata.namespace`, { nonEmpty: true });
  str(meta.uid, `${path}.metadata.uid`, { nonEmpty: true });
  const spec = obj(pod.spec, `${path}.spec`);
  const containers = arr(spec.containers, `${path}.spec.containers`);
  if (containers.length === 0) throw new PayloadError(`${path}.spec.containers: must not be empty`);
  for (const key of ['containers', 'initContainers'] as const) {
    const list = key === 'containers' ? containers : opt(spec.initContainers, (x) => arr(x, `${path}.spec.initContainers`)) ?? [];
    list.forEach((c, i) => {
      const co = obj(c, `${path}.spec.${key}[${i}]`);
      str(co.name, `${path}.spec.${key}[${i}].name`, { nonEmpty: true });
      str(co.image, `${path}.spec.${key}[${i}].image`, { nonEmpty: true });
    });
  }
}

export function parseDesiredPods(buf: Buffer): DesiredPodsPayload {
  const o = obj(parseJson(buf, PAYLOAD_LIMITS.pods), 'pods');
  num(o.generation, 'pods.generation', { int: true, min: 0 });
  arr(o.pods, 'pods.pods').forEach((d, i) => {
    const path = `pods.pods[${i}]`;
    const dp = obj(d, path);
    podShape(dp.pod, `${path}.pod`);
    for (const k of ['configMaps', 'secrets'] as const) {
      for (const [name, data] of Object.entries(obj(dp[k], `${path}.${k}`))) stringMap(data, `${path}.${k}.${name}`);
    }
    opt(dp.serviceAccount, (x) => {
      const sa = obj(x, `${path}.serviceAccount`);
      for (const k of ['token', 'caCrt', 'namespace', 'apiServer']) str(sa[k], `${path}.serviceAccount.${k}`);
      return sa;
    });
    opt(dp.claims, (x) => {
      for (const [name, c] of Object.entries(obj(x, `${path}.claims`))) {
        const cv = obj(c, `${path}.claims.${name}`);
        str(cv.volumeName, `${path}.claims.${name}.volumeName`, { nonEmpty: true });
        opt(cv.path, (y) => str(y, `${path}.claims.${name}.path`, { nonEmpty: true }));
        opt(cv.create, (y) => bool(y, `${path}.claims.${name}.create`));
        opt(cv.readOnly, (y) => bool(y, `${path}.claims.${name}.readOnly`));
        opt(cv.nfs, (y) => {
          const n = obj(y, `${path}.claims.${name}.nfs`);
          str(n.server, `${path}.claims.${name}.nfs.server`, { nonEmpty: true });
          str(n.path, `${path}.claims.${name}.nfs.path`, { nonEmpty: true });
          return n;
        });
        opt(cv.mountOptions, (y) => arr(y, `${path}.claims.${name}.mountOptions`).forEach((m, j) => str(m, `${path}.claims.${name}.mountOptions[${j}]`)));
      }
      return x;
    });
  });
  opt(o.podCIDR, (x) => str(x, 'pods.podCIDR'));
  opt(o.dns, (x) => {
    const dns = obj(x, 'pods.dns');
    str(dns.clusterDomain, 'pods.dns.clusterDomain', { nonEmpty: true });
    opt(dns.serverIP, (y) => str(y, 'pods.dns.serverIP'));
    return dns;
  });
  return o as unknown as DesiredPodsPayload;
}

export function parsePodStatus(buf: Buffer): PodStatusPayload {
  const o = obj(parseJson(buf, PAYLOAD_LIMITS['pod-status']), 'pod-status');
  arr(o.updates, 'pod-status.updates').forEach((u, i) => {
    const path = `pod-status.updates[${i}]`;
    const uo = obj(u, path);
    str(uo.uid, `${path}.uid`, { nonEmpty: true });
    str(uo.namespace, `${path}.namespace`, { nonEmpty: true });
    str(uo.name, `${path}.name`, { nonEmpty: true });
    opt(uo.observedGeneration, (x) => num(x, `${path}.observedGeneration`, { int: true, min: 0 }));
    opt(uo.gone, (x) => bool(x, `${path}.gone`));
    opt(uo.status, (x) => {
      const st = obj(x, `${path}.status`);
      opt(st.phase, (p) => oneOf(p, `${path}.status.phase`, ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] as const));
      opt(st.conditions, (c) => arr(c, `${path}.status.conditions`));
      for (const k of ['containerStatuses', 'initContainerStatuses'] as const) {
        opt(st[k], (c) => arr(c, `${path}.status.${k}`).forEach((cs, j) => {
          str(obj(cs, `${path}.status.${k}[${j}]`).name, `${path}.status.${k}[${j}].name`, { nonEmpty: true });
        }));
      }
      return st;
    });
  });
  return o as unknown as PodStatusPayload;
}

export function parseEvents(buf: Buffer): EventsPayload {
  const o = obj(parseJson(buf, PAYLOAD_LIMITS.events), 'events');
  arr(o.events, 'events.events').forEach((e, i) => {
    const path = `events.events[${i}]`;
    const eo = obj(e, path);
    const inv = obj(eo.involvedObject, `${path}.involvedObject`);
    str(inv.kind, `${path}.involvedObject.kind`, { nonEmpty: true });
    str(inv.name, `${path}.involvedObject.name`, { nonEmpty: true });
    for (const k of ['namespace', 'uid', 'fieldPath']) opt(inv[k], (x) => str(x, `${path}.involvedObject.${k}`));
    oneOf(eo.type, `${path}.type`, ['Normal', 'Warning'] as const);
    str(eo.reason, `${path}.reason`, { nonEmpty: true });
    str(eo.message, `${path}.message`);
    time(eo.time, `${path}.time`);
  });
  return o as unknown as EventsPayload;
}

export function parseServiceRouting(buf: Buffer): ServiceRoutingPayload {
  const o = obj(parseJson(buf, PAYLOAD_LIMITS.services), 'services');
  num(o.generation, 'services.generation', { int: true, min: 0 });
  arr(o.services, 'services.services').forEach((s, i) => {
    const path = `services.services[${i}]`;
    const so = obj(s, path);
    str(so.namespace, `${path}.namespace`, { nonEmpty: true });
    str(so.name, `${path}.name`, { nonEmpty: true });
    oneOf(so.type, `${path}.type`, ['ClusterIP', 'NodePort', 'LoadBalancer'] as const);
    opt(so.clusterIP, (x) => str(x, `${path}.clusterIP`));
    bool(so.headless, `${path}.headless`);
    oneOf(so.sessionAffinity, `${path}.sessionAffinity`, ['None', 'ClientIP'] as const);
    oneOf(so.externalTrafficPolicy, `${path}.externalTrafficPolicy`, ['Cluster', 'Local'] as const);
    arr(so.loadBalancerIPs, `${path}.loadBalancerIPs`).forEach((ip, j) => str(ip, `${path}.loadBalancerIPs[${j}]`));
    arr(so.ports, `${path}.ports`).forEach((p, j) => {
      const pp = `${path}.ports[${j}]`;
      const po = obj(p, pp);
      opt(po.name, (x) => str(x, `${pp}.name`));
      oneOf(po.protocol, `${pp}.protocol`, ['TCP', 'UDP'] as const);
      num(po.port, `${pp}.port`, { int: true, min: 1 });
      opt(po.nodePort, (x) => num(x, `${pp}.nodePort`, { int: true, min: 1 }));
      arr(po.endpoints, `${pp}.endpoints`).forEach((e, k) => {
        const eo = obj(e, `${pp}.endpoints[${k}]`);
        str(eo.ip, `${pp}.endpoints[${k}].ip`, { nonEmpty: true });
        num(eo.port, `${pp}.endpoints[${k}].port`, { int: true, min: 1 });
        opt(eo.nodeName, (x) => str(x, `${pp}.endpoints[${k}].nodeName`));
        opt(eo.hostname, (x) => str(x, `${pp}.endpoints[${k}].hostname`));
        bool(eo.ready, `${pp}.endpoints[${k}].ready`);
      });
    });
  });
  opt(o.nodes, (n) => arr(n, 'services.nodes').forEach((x, i) => {
    const no = obj(x, `services.nodes[${i}]`);
    str(no.name, `services.nodes[${i}].name`, { nonEmpty: true });
    opt(no.podCIDR, (c) => str(c, `services.nodes[${i}].podCIDR`));
    arr(no.addresses, `services.nodes[${i}].addresses`).forEach((a, j) => str(a, `services.nodes[${i}].addresses[${j}]`));
  }));
  opt(o.clusterDomain, (d) => str(d, 'services.clusterDomain', { nonEmpty: true }));
  return o as unknown as ServiceRoutingPayload;
}

export function parseRequest(buf: Buffer): RequestPayload {
  const o = obj(parseJson(buf, PAYLOAD_LIMITS.request), 'request');
  const op = oneOf(o.op, 'request.op', ['logs', 'exec', 'exec-input', 'cancel', 'remove-volume'] as const);
  str(o.transaction, 'request.transaction', { nonEmpty: true });
  if (op === 'logs' || op === 'exec') {
    for (const k of ['namespace', 'pod', 'uid', 'container']) str(o[k], `request.${k}`, { nonEmpty: true });
  }
  if (op === 'logs') {
    bool(o.follow, 'request.follow');
    bool(o.timestamps, 'request.timestamps');
    opt(o.tailLines, (x) => num(x, 'request.tailLines', { int: true, min: 0 }));
    opt(o.sinceSeconds, (x) => num(x, 'request.sinceSeconds', { int: true, min: 0 }));
    opt(o.previous, (x) => bool(x, 'request.previous'));
  } else if (op === 'exec') {
    const command = arr(o.command, 'request.command');
    if (command.length === 0) throw new PayloadError('request.command: must not be empty');
    command.forEach((c, i) => str(c, `request.command[${i}]`));
    bool(o.stdin, 'request.stdin');
    bool(o.tty, 'request.tty');
  } else if (op === 'remove-volume') {
    str(o.path, 'request.path', { nonEmpty: true });
  } else if (op === 'exec-input') {
    num(o.seq, 'request.seq', { int: true, min: 0 });
    opt(o.data, (x) => str(x, 'request.data'));
    opt(o.eof, (x) => bool(x, 'request.eof'));
  }
  return o as unknown as RequestPayload;
}

export function parseResponseChunk(buf: Buffer): ResponseChunk {
  const o = obj(parseJson(buf, PAYLOAD_LIMITS.response), 'response');
  str(o.transaction, 'response.transaction', { nonEmpty: true });
  num(o.seq, 'response.seq', { int: true, min: 0 });
  opt(o.stream, (x) => oneOf(x, 'response.stream', ['stdout', 'stderr'] as const));
  opt(o.data, (x) => str(x, 'response.data'));
  opt(o.done, (x) => bool(x, 'response.done'));
  opt(o.exitCode, (x) => num(x, 'response.exitCode', { int: true }));
  opt(o.error, (x) => str(x, 'response.error'));
  return o as unknown as ResponseChunk;
}

export function parseJoinRequest(buf: Buffer): JoinRequest {
  const o = obj(parseJson(buf, PAYLOAD_LIMITS['join-request']), 'join request');
  str(o.token, 'join request.token', { nonEmpty: true });
  str(o.nonce, 'join request.nonce', { nonEmpty: true });
  return o as unknown as JoinRequest;
}

export function parseJoinResponse(buf: Buffer): JoinResponse {
  const o = obj(parseJson(buf, PAYLOAD_LIMITS['join-response']), 'join response');
  str(o.nonce, 'join response.nonce', { nonEmpty: true });
  const ok = bool(o.ok, 'join response.ok');
  if (ok) {
    str(o.username, 'join response.username', { nonEmpty: true });
    str(o.password, 'join response.password', { nonEmpty: true });
  } else {
    str(o.error, 'join response.error');
  }
  return o as unknown as JoinResponse;
}

export function parseHeartbeat(buf: Buffer): HeartbeatPayload {
  const o = obj(parseJson(buf, PAYLOAD_LIMITS.heartbeat), 'heartbeat');
  time(o.time, 'heartbeat.time');
  return o as unknown as HeartbeatPayload;
}

export function parseClusterConfig(buf: Buffer): ClusterConfigPayload {
  const o = obj(parseJson(buf, PAYLOAD_LIMITS['cluster-config']), 'cluster config');
  num(o.heartbeatSeconds, 'cluster config.heartbeatSeconds', { min: 0.1 });
  num(o.nodeMonitorGracePeriodSeconds, 'cluster config.nodeMonitorGracePeriodSeconds', { min: 0 });
  num(o.statusRefreshSeconds, 'cluster config.statusRefreshSeconds', { min: 1 });
  return o as unknown as ClusterConfigPayload;
}

const API_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * A Kubernetes API request over MQTT. Throws PayloadError naming the field; the request
 * id, when it is readable at all, is returned with it so the sender still gets a 400.
 */
export function parseApiRequest(buf: Buffer): ApiRequest {
  const o = obj(parseJson(buf, PAYLOAD_LIMITS['api-request']), 'request');
  const id = str(o.id, 'request.id', { nonEmpty: true });
  if (id.length > 128 || !isTopicLevel(id)) throw new PayloadError('request.id: must be 1-128 characters without /, + or #');
  const verb = oneOf(o.verb, 'request.verb', API_VERBS);
  for (const f of ['group', 'version', 'resource', 'namespace', 'name', 'subresource', 'labelSelector', 'fieldSelector', 'fieldManager'] as const) {
    opt(o[f], (x) => str(x, `request.${f}`));
  }
  if (verb !== 'cancel') {
    str(o.version, 'request.version', { nonEmpty: true });
    str(o.resource, 'request.resource', { nonEmpty: true });
    for (const f of ['group', 'version', 'resource', 'namespace', 'name', 'subresource'] as const) {
      const v = o[f] as string | undefined;
      if (v && (v.length > 253 || !API_NAME.test(v))) throw new PayloadError(`request.${f}: ${JSON.stringify(v.slice(0, 64))} is not a valid name`);
    }
  }
  const needsName = verb === 'get' || verb === 'update' || verb === 'patch' || verb === 'delete' || verb === 'scale';
  if (needsName && !o.name) throw new PayloadError(`request.name: required for ${verb}`);
  if ((verb === 'create' || verb === 'update' || verb === 'patch' || verb === 'scale') && o.body === undefined) throw new PayloadError(`request.body: required for ${verb}`);
  if (verb === 'patch') opt(o.patchType, (x) => oneOf(x, 'request.patchType', API_PATCH_TYPES));
  return o as unknown as ApiRequest;
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

export function parseApiResponse(buf: Buffer): ApiResponse {
  const o = obj(parseJson(buf, PAYLOAD_LIMITS['api-response']), 'response');
  str(o.id, 'response.id', { nonEmpty: true });
  num(o.code, 'response.code', { int: true, min: 100 });
  return o as unknown as ApiResponse;
}

/** The parser for what arrives on a topic recognised by `Topics.parse`. */
export function parseForTopic(topic: ParsedTopic, buf: Buffer): unknown {
  switch (topic.kind) {
    case 'availability': return parseAvailability(buf);
    case 'status': return parseNodeStatus(buf);
    case 'heartbeat': return parseHeartbeat(buf);
    case 'cluster-config': return parseClusterConfig(buf);
    case 'api-request': return parseApiRequest(buf);
    case 'api-response': return parseApiResponse(buf);
    case 'pods': return parseDesiredPods(buf);
    case 'pod-status': return parsePodStatus(buf);
    case 'events': return parseEvents(buf);
    case 'services': return parseServiceRouting(buf);
    case 'request': return parseRequest(buf);
    case 'response': return parseResponseChunk(buf);
    case 'join-request': return parseJoinRequest(buf);
    case 'join-response': return parseJoinResponse(buf);
  }
}

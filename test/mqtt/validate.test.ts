import test from 'ava';
import {
  PAYLOAD_LIMITS, PayloadError, isCleared, parseAvailability, parseDesiredPods, parseEvents, parseForTopic,
  parseJoinRequest, parseJoinResponse, parseNodeStatus, parsePodStatus, parseRequest, parseResponseChunk, parseServiceRouting,
} from '../../protocol/mqtt/validate.js';
import type { DesiredPodsPayload, NodeStatusPayload } from '../../protocol/mqtt/payloads.js';

const buf = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

const status: NodeStatusPayload = {
  time: '2025-01-01T00:00:00.000Z', bootTime: '2025-01-01T00:00:00.000Z',
  capacity: { cpuCores: 4, memoryBytes: 8e9, pods: 110 }, allocatable: { cpuCores: 4, memoryBytes: 8e9, pods: 110 },
  usage: { cpuCores: 0.5, memoryBytes: 1e9 }, pressure: { memory: false, disk: false, pid: false },
  nodeInfo: { osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1', architecture: 'arm64', operatingSystem: 'linux', containerRuntimeVersion: 'nerdctl://2.0', agentVersion: '0.1.0' },
  addresses: [{ type: 'InternalIP', address: '192.168.1.10' }, { type: 'Hostname', address: 'pi' }],
  labels: { 'kubernetes.io/arch': 'arm64' }, pods: [{ uid: 'u1', namespace: 'default', name: 'p', containers: [{ name: 'c', cpuCores: 0.1, memoryBytes: 100 }] }],
};

const desired: DesiredPodsPayload = {
  generation: 3,
  pods: [{
    pod: { metadata: { name: 'web', namespace: 'default', uid: 'u1' }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } },
    configMaps: { cfg: { a: 'b' } }, secrets: {},
  }],
  dns: { clusterDomain: 'cluster.local' },
};

function rejects(t: import('ava').ExecutionContext, fn: () => unknown, reason: RegExp): void {
  const err = t.throws(fn, { instanceOf: PayloadError });
  t.regex(err!.message, reason);
}

test('accepts well-formed payloads and returns them', (t) => {
  t.deepEqual(parseAvailability(buf({ state: 'online' })), { state: 'online' });
  t.deepEqual(parseNodeStatus(buf(status)), status);
  t.deepEqual(parseDesiredPods(buf(desired)), desired);
  t.truthy(parsePodStatus(buf({ updates: [{ uid: 'u', namespace: 'd', name: 'p', observedGeneration: 1, status: { phase: 'Running', containerStatuses: [{ name: 'c' }] } }] })));
  t.truthy(parseEvents(buf({ events: [{ involvedObject: { kind: 'Pod', name: 'p', namespace: 'd' }, type: 'Normal', reason: 'Started', message: 'ok', time: '2025-01-01T00:00:00Z' }] })));
  t.truthy(parseServiceRouting(buf({ generation: 1, services: [{ namespace: 'd', name: 's', type: 'ClusterIP', clusterIP: '10.0.0.1', headless: false, sessionAffinity: 'None', externalTrafficPolicy: 'Cluster', loadBalancerIPs: [], ports: [{ protocol: 'TCP', port: 80, endpoints: [{ ip: '10.1.0.2', port: 8080, ready: true }] }] }] })));
  t.is(parseRequest(buf({ op: 'exec', transaction: 't1', namespace: 'd', pod: 'p', uid: 'u', container: 'c', command: ['sh'], stdin: true, tty: false })).op, 'exec');
  t.is(parseRequest(buf({ op: 'logs', transaction: 't1', namespace: 'd', pod: 'p', uid: 'u', container: 'c', follow: false, timestamps: false, tailLines: 10 })).op, 'logs');
  t.is(parseRequest(buf({ op: 'cancel', transaction: 't1' })).op, 'cancel');
  t.is(parseResponseChunk(buf({ transaction: 't', seq: 0, stream: 'stdout', data: 'aGk=', done: true, exitCode: 0 })).seq, 0);
  t.is(parseJoinRequest(buf({ token: 'abcdef.0123456789abcdef', nonce: 'n' })).nonce, 'n');
  t.true(parseJoinResponse(buf({ nonce: 'n', ok: true, username: 'pi', password: 'x' })).ok);
  t.false(parseJoinResponse(buf({ nonce: 'n', ok: false, error: 'no' })).ok);
});

test('garbage, empty and non-JSON payloads are refused with a reason', (t) => {
  rejects(t, () => parseAvailability(Buffer.alloc(0)), /empty payload/);
  rejects(t, () => parseAvailability(buf('{not json')), /not JSON/);
  rejects(t, () => parseNodeStatus(Buffer.from([0xff, 0xfe, 0x00])), /not JSON/);
  rejects(t, () => parseAvailability(buf('null')), /expected an object, got null/);
  rejects(t, () => parseAvailability(buf('[1,2]')), /expected an object, got array/);
  rejects(t, () => parseAvailability(buf({ state: 'maybe' })), /availability.state: expected one of online\|offline/);
  t.true(isCleared(Buffer.alloc(0)));
});

test('oversized payloads are refused before parsing', (t) => {
  const big = Buffer.alloc(PAYLOAD_LIMITS.status + 1, 0x20);
  rejects(t, () => parseNodeStatus(big), /exceeds the limit of 65536 bytes/);
  rejects(t, () => parseEvents(Buffer.alloc(PAYLOAD_LIMITS.events + 1, 0x20)), /exceeds/);
  rejects(t, () => parsePodStatus(Buffer.alloc(PAYLOAD_LIMITS['pod-status'] + 1, 0x20)), /exceeds/);
  rejects(t, () => parseDesiredPods(Buffer.alloc(8 * 1024 * 1024 + 1, 0x20)), /exceeds the limit of 8388608/);
  rejects(t, () => parseJoinRequest(Buffer.alloc(5000, 0x20)), /exceeds/);
  // Just under the limit still parses (whitespace-padded valid JSON).
  const padded = Buffer.concat([buf(desired), Buffer.alloc(1024 * 1024, 0x20)]);
  t.is(parseDesiredPods(padded).generation, 3);
});

test('shape errors name the offending field', (t) => {
  rejects(t, () => parseNodeStatus(buf({ ...status, capacity: { ...status.capacity, cpuCores: '4' } })), /status.capacity.cpuCores: expected a finite number, got string/);
  rejects(t, () => parseNodeStatus(buf({ ...status, time: 'yesterday' })), /status.time: not a valid time/);
  rejects(t, () => parseNodeStatus(buf({ ...status, addresses: [{ type: 'Bogus', address: 'x' }] })), /status.addresses\[0\].type/);
  rejects(t, () => parseNodeStatus(buf({ ...status, pods: undefined })), /status.pods: expected an array/);
  rejects(t, () => parseNodeStatus(buf({ ...status, labels: { a: 1 } })), /status.labels.a: expected a string/);
  rejects(t, () => parseDesiredPods(buf({ ...desired, generation: -1 })), /pods.generation: must be >= 0/);
  rejects(t, () => parseDesiredPods(buf({ ...desired, generation: 1.5 })), /expected an integer/);
  rejects(t, () => parseDesiredPods(buf({ generation: 1, pods: [{ pod: { metadata: { name: 'x', namespace: 'd', uid: 'u' }, spec: { containers: [] } }, configMaps: {}, secrets: {} }] })), /spec.containers: must not be empty/);
  rejects(t, () => parseDesiredPods(buf({ generation: 1, pods: [{ pod: { metadata: { name: 'x', namespace: 'd' }, spec: { containers: [{ name: 'c', image: 'i' }] } }, configMaps: {}, secrets: {} }] })), /metadata.uid: expected a string/);
  rejects(t, () => parseDesiredPods(buf({ ...desired, pods: [{ ...desired.pods[0], secrets: { s: { k: 3 } } }] })), /secrets.s.k: expected a string/);
  rejects(t, () => parseDesiredPods(buf({ ...desired, pods: [desired.pods[0], desired.pods[0]] })), /pods.pods\[1\].pod.metadata.uid: duplicate uid u1/);
  rejects(t, () => parseDesiredPods(buf({ generation: 1, pods: [{ pod: { metadata: { name: 'x', namespace: 'd', uid: 'u' }, spec: { containers: [{ name: 'c' }] } }, configMaps: {}, secrets: {} }] })), /pods.pods\[0\].pod.spec.containers\[0\].image: expected a string, got undefined/);
  rejects(t, () => parsePodStatus(buf({ updates: [{ uid: 'u', namespace: 'd', name: 'p', status: { phase: 'Dancing' } }] })), /status.phase/);
  rejects(t, () => parseEvents(buf({ events: [{ involvedObject: { kind: 'Pod', name: 'p' }, type: 'Info', reason: 'r', message: 'm', time: '2025-01-01T00:00:00Z' }] })), /events.events\[0\].type/);
  rejects(t, () => parseRequest(buf({ op: 'rm -rf', transaction: 't' })), /request.op/);
  rejects(t, () => parseRequest(buf({ op: 'exec', transaction: 't', namespace: 'd', pod: 'p', uid: 'u', container: 'c', command: [], stdin: false, tty: false })), /request.command: must not be empty/);
  rejects(t, () => parseResponseChunk(buf({ transaction: 't' })), /response.seq/);
  rejects(t, () => parseJoinRequest(buf({ token: '', nonce: 'n' })), /token: must not be empty/);
  rejects(t, () => parseJoinResponse(buf({ nonce: 'n', ok: true })), /username/);
});

test('parseForTopic picks the parser by topic kind', (t) => {
  t.deepEqual(parseForTopic({ kind: 'availability', node: 'a' }, buf({ state: 'offline' })), { state: 'offline' });
  t.throws(() => parseForTopic({ kind: 'pods', node: 'a' }, buf({ state: 'offline' })), { instanceOf: PayloadError });
});

test('nothing thrown is anything but a PayloadError, whatever the bytes', (t) => {
  const parsers = [parseAvailability, parseNodeStatus, parseDesiredPods, parsePodStatus, parseEvents, parseServiceRouting, parseRequest, parseResponseChunk, parseJoinRequest, parseJoinResponse];
  const samples = ['1', '"s"', 'true', '{}', '{"pods":null}', '{"updates":[null]}', '{"events":[1]}', '{"services":[{}],"generation":0}', '{"generation":0,"pods":[{"pod":null}]}', '{"op":"logs"}', '{"__proto__":{"x":1}}'];
  for (const parse of parsers) {
    for (const s of samples) {
      try {
        parse(buf(s));
      } catch (err) {
        t.true(err instanceof PayloadError, `${parse.name}(${s}) threw ${String(err)}`);
      }
    }
  }
});

// When a node reading earns a full status report and when a liveness beat is enough; and
// the beat period the controller derives from its grace period.
import test from 'ava';
import type { NodeStatusPayload } from '../../protocol/mqtt/payloads.js';
import { statusChangeReason } from '../../agent/status-change.js';
import { clusterConfigFor } from '../../protocol/mqtt/heartbeat-policy.js';

const GiB = 1024 ** 3;
function reading(over: Partial<NodeStatusPayload> = {}): NodeStatusPayload {
  return {
    time: '2026-01-01T00:00:00Z', bootTime: '2026-01-01T00:00:00Z',
    capacity: { cpuCores: 4, memoryBytes: 4 * GiB, pods: 110 },
    allocatable: { cpuCores: 4, memoryBytes: 4 * GiB, pods: 110 },
    usage: { cpuCores: 1, memoryBytes: 1 * GiB },
    pressure: { memory: false, disk: false, pid: false },
    nodeInfo: { osImage: 'Debian', kernelVersion: '6.1', architecture: 'arm64', operatingSystem: 'linux', containerRuntimeVersion: 'podman://4.3', agentVersion: 'v0' },
    addresses: [{ type: 'InternalIP', address: '192.0.2.10' }],
    labels: { 'kubernetes.io/arch': 'arm64' },
    pods: [{ uid: 'u1', namespace: 'default', name: 'web', containers: [{ name: 'c', cpuCores: 0.1, memoryBytes: 64 * 1024 * 1024 }] }],
    ...over,
  };
}

test('the first reading, a restart and any visible field always send a full status', (t) => {
  t.is(statusChangeReason(undefined, reading()), 'first report');
  t.is(statusChangeReason(reading(), reading({ bootTime: '2026-01-02T00:00:00Z' })), 'agent restarted');
  t.is(statusChangeReason(reading(), reading({ addresses: [] })), 'addresses changed');
  t.is(statusChangeReason(reading(), reading({ pressure: { memory: true, disk: false, pid: false } })), 'pressure changed');
  t.is(statusChangeReason(reading(), reading({ labels: { x: 'y' } })), 'labels changed');
});

test('only the reading time and small usage moves make a beat enough', (t) => {
  t.is(statusChangeReason(reading(), reading({ time: '2026-01-01T00:00:05Z' })), undefined);
  t.is(statusChangeReason(reading(), reading({ usage: { cpuCores: 1.1, memoryBytes: 1.1 * GiB } })), undefined, 'below 5 % of capacity');
  t.is(statusChangeReason(reading(), reading({ usage: { cpuCores: 1.3, memoryBytes: 1 * GiB } })), 'cpu usage moved');
  t.is(statusChangeReason(reading(), reading({ usage: { cpuCores: 1, memoryBytes: 1.3 * GiB } })), 'memory usage moved');
});

test('pods appearing, leaving or moving in usage send a full status', (t) => {
  t.is(statusChangeReason(reading(), reading({ pods: [] })), 'pods changed');
  const other = reading().pods.map((p) => ({ ...p, uid: 'u2' }));
  t.is(statusChangeReason(reading(), reading({ pods: other })), 'pods changed');
  const busier = reading().pods.map((p) => ({ ...p, containers: [{ name: 'c', cpuCores: 0.3, memoryBytes: 64 * 1024 * 1024 }] }));
  t.is(statusChangeReason(reading(), reading({ pods: busier })), 'pod cpu usage moved');
  const fatter = reading().pods.map((p) => ({ ...p, containers: [{ name: 'c', cpuCores: 0.1, memoryBytes: 128 * 1024 * 1024 }] }));
  t.is(statusChangeReason(reading(), reading({ pods: fatter })), 'pod memory usage moved');
});

test('the beat is a quarter of the grace period, within 1 s and 30 s; too short a grace period is refused', (t) => {
  t.is(clusterConfigFor(20).heartbeatSeconds, 5);
  t.is(clusterConfigFor(5).heartbeatSeconds, 1.25);
  t.is(clusterConfigFor(4).heartbeatSeconds, 1);
  t.is(clusterConfigFor(600).heartbeatSeconds, 30);
  t.is(clusterConfigFor(40).statusRefreshSeconds, 60);
  t.throws(() => clusterConfigFor(3), { message: /shorter than the 4s/ });
});

// What checking MQTT payloads costs on arrival: parse + check of a node's desired set of
// 200 pods (the agent, on every publication), a full node status (the controller, on
// every report) and a batch of 100 pod statuses. Pure CPU, no broker.
import { performance } from 'node:perf_hooks';
import { parseDesiredPods, parseNodeStatus, parsePodStatus } from '../protocol/mqtt/validate.js';
import type { Metric } from './metric.js';

function desiredSet(pods: number): Buffer {
  const set = {
    generation: 42,
    pods: Array.from({ length: pods }, (_, i) => ({
      pod: {
        apiVersion: 'v1', kind: 'Pod',
        metadata: { name: `web-${i}`, namespace: 'default', uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, generation: 1, labels: { app: 'web', 'pod-template-hash': 'abc123' } },
        spec: {
          nodeName: 'pi-01', restartPolicy: 'Always',
          containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }], env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'mode' } } }], resources: { limits: { cpu: '100m', memory: '64Mi' } } }],
          initContainers: [{ name: 'init', image: 'busybox', command: ['sh', '-c', 'true'] }],
        },
      },
      configMaps: { cfg: { mode: 'fast', extra: 'x'.repeat(200) } },
      secrets: { token: { t: Buffer.from('secret').toString('base64') } },
    })),
    podCIDR: '10.42.1.0/24',
    dns: { clusterDomain: 'cluster.local', serverIP: '10.43.0.10' },
  };
  return Buffer.from(JSON.stringify(set));
}

function nodeStatus(): Buffer {
  return Buffer.from(JSON.stringify({
    time: '2026-01-01T00:00:00.000Z', bootTime: '2026-01-01T00:00:00.000Z',
    capacity: { cpuCores: 4, memoryBytes: 8e9, pods: 110 }, allocatable: { cpuCores: 4, memoryBytes: 8e9, pods: 110 },
    usage: { cpuCores: 0.5, memoryBytes: 1e9 }, pressure: { memory: false, disk: false, pid: false },
    nodeInfo: { osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1', architecture: 'arm64', operatingSystem: 'linux', containerRuntimeVersion: 'podman://4.3', agentVersion: '0.1.0' },
    addresses: [{ type: 'InternalIP', address: '192.168.1.10' }, { type: 'Hostname', address: 'pi' }],
    labels: { 'kubernetes.io/arch': 'arm64', 'kubernetes.io/os': 'linux' },
    pods: Array.from({ length: 30 }, (_, i) => ({ uid: `u${i}`, namespace: 'default', name: `p${i}`, containers: [{ name: 'c', cpuCores: 0.01, memoryBytes: 1e6 }] })),
    images: Array.from({ length: 20 }, (_, i) => ({ names: [`docker.io/library/img${i}:latest`], sizeBytes: 1e7 })),
  }));
}

function podStatuses(n: number): Buffer {
  return Buffer.from(JSON.stringify({
    updates: Array.from({ length: n }, (_, i) => ({
      uid: `u${i}`, namespace: 'default', name: `p${i}`, observedGeneration: 1,
      status: {
        phase: 'Running', podIP: '10.42.1.5', hostIP: '192.168.1.10', startTime: '2026-01-01T00:00:00Z',
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }],
        containerStatuses: [{ name: 'c', ready: true, restartCount: 0, image: 'nginx', imageID: 'sha256:x', state: { running: { startedAt: '2026-01-01T00:00:00Z' } } }],
      },
    })),
  }));
}

/** Parses per second over at least `ms` of repetitions, after a warm-up. */
function rate(parse: () => unknown, ms = 1500): number {
  for (let i = 0; i < 20; i++) parse();
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < ms) { parse(); n++; }
  return n / ((performance.now() - start) / 1000);
}

export async function benchMqttParse(): Promise<Metric[]> {
  const set = desiredSet(200);
  const status = nodeStatus();
  const statuses = podStatuses(100);
  const setRate = rate(() => parseDesiredPods(set));
  return [
    { metric: 'mqtt_parse_desired_set_per_second', value: setRate, unit: 'sets/s', note: `200 pods, ${(set.length / 1024).toFixed(0)} KiB` },
    { metric: 'mqtt_parse_desired_set_mb_per_second', value: (setRate * set.length) / 1e6, unit: 'MB/s' },
    { metric: 'mqtt_parse_node_status_per_second', value: rate(() => parseNodeStatus(status)), unit: 'msgs/s', note: `${status.length} bytes` },
    { metric: 'mqtt_parse_pod_status_batch_per_second', value: rate(() => parsePodStatus(statuses)), unit: 'batches/s', note: '100 pod statuses' },
  ];
}

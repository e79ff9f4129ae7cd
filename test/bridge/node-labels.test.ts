// A node reports labels about itself, but not those under node-restriction.kubernetes.io/:
// that prefix is the administrator's (it decides, for one, which nodes get ingress keys).
import test from 'ava';
import type { Node } from '../../protocol/kube/types.js';
import type { NodeStatusPayload } from '../../protocol/mqtt/payloads.js';
import { R } from '../../controller/apiserver/client.js';
import { NodeStatusSync } from '../../controller/bridge/node-status-sync.js';
import { NodeTelemetry } from '../../controller/client/node-telemetry.js';
import { startTestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/processes.js';

const silent = { warn: () => {}, info: () => {}, debug: () => {} };

test('labels under node-restriction.kubernetes.io/ reported by a node are not applied', async (t) => {
  const c = await startTestCluster();
  t.teardown(() => c.stop());
  const sync = new NodeStatusSync({ client: c.client, telemetry: new NodeTelemetry(), log: silent });
  const now = new Date().toISOString();
  const res = { cpuCores: 4, memoryBytes: 4e9, pods: 110 };
  const payload: NodeStatusPayload = {
    time: now, bootTime: now, capacity: res, allocatable: res, usage: { cpuCores: 0.1, memoryBytes: 1e8 },
    pressure: { memory: false, disk: false, pid: false },
    nodeInfo: { osImage: 'Debian', kernelVersion: '6', architecture: 'arm64', operatingSystem: 'linux', containerRuntimeVersion: 'podman://5', agentVersion: '0.1.0' },
    addresses: [{ type: 'InternalIP', address: '192.0.2.7' }],
    labels: { 'kubernetes.io/arch': 'arm64', 'node.pikube.io/ingress-proxy': 'on', 'node-restriction.kubernetes.io/ingress': 'true' },
    pods: [],
  };
  sync.availability('pi-07', true);
  sync.status('pi-07', payload);
  const node = await waitFor('the Node registered', () => c.client.get<Node>(R.nodes, undefined, 'pi-07'), 10_000, 20);
  t.is(node.metadata.labels?.['kubernetes.io/arch'], 'arm64');
  t.is(node.metadata.labels?.['node.pikube.io/ingress-proxy'], 'on');
  t.is(node.metadata.labels?.['node-restriction.kubernetes.io/ingress'], undefined);
});

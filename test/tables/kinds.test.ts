import test from 'ava';
import { toTable } from '../../controller/apiserver/tables/index.js';
import type { KubeObject } from '../../protocol/kube/types.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

const NOW = new Date('2025-06-01T12:00:00Z');
const ago = (seconds: number) => rfc3339Seconds(NOW.getTime() - seconds * 1000);

interface Table { kind: string; apiVersion: string; metadata: Record<string, unknown>; columnDefinitions: { name: string; priority: number; type: string; format: string }[]; rows: { cells: unknown[]; object?: any }[] }

function table(group: string, resource: string, objects: KubeObject[]): Table {
  return toTable(group, resource, objects, { resourceVersion: '100', includeObject: 'Metadata', now: NOW }) as Table;
}
function columns(t: Table): string[] {
  return t.columnDefinitions.map((c) => (c.priority > 0 ? `${c.name}*` : c.name));
}

test('a NotReady cordoned node with a role and its wide columns', (t) => {
  const node: KubeObject = {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name: 'pi-2', creationTimestamp: ago(3 * 3600 + 5 * 60), labels: { 'node-role.kubernetes.io/worker': '', 'kubernetes.io/hostname': 'pi-2' } },
    spec: { unschedulable: true },
    status: {
      conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown' }],
      addresses: [{ type: 'Hostname', address: 'pi-2' }, { type: 'InternalIP', address: '192.168.1.12' }],
      nodeInfo: { kubeletVersion: 'v1.32.0-pikube', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.6.51+rpt-rpi-v8', containerRuntimeVersion: 'nerdctl://2.0.0', operatingSystem: 'linux', architecture: 'arm64' },
    },
  };
  const result = table('', 'nodes', [node]);
  t.deepEqual(columns(result), ['Name', 'Status', 'Roles', 'Age', 'Version', 'Internal-IP*', 'External-IP*', 'OS-Image*', 'Kernel-Version*', 'Container-Runtime*']);
  t.deepEqual(result.rows[0]!.cells, ['pi-2', 'NotReady,SchedulingDisabled', 'worker', '3h5m', 'v1.32.0-pikube', '192.168.1.12', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.6.51+rpt-rpi-v8', 'nerdctl://2.0.0']);
});

test('a ready node without roles or reported info', (t) => {
  const node: KubeObject = { metadata: { name: 'pi-1', creationTimestamp: ago(2 * 86400 + 3 * 3600) }, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
  t.deepEqual(table('', 'nodes', [node]).rows[0]!.cells, ['pi-1', 'Ready', '<none>', '2d3h', '', '<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']);
  const silent: KubeObject = { metadata: { name: 'pi-3' } };
  t.is(table('', 'nodes', [silent]).rows[0]!.cells[1], 'Unknown');
  t.is(table('', 'nodes', [silent]).rows[0]!.cells[3], '<unknown>');
});

test('a NodePort service shows port:nodePort/protocol', (t) => {
  const svc: KubeObject = {
    metadata: { name: 'hello', namespace: 'default', creationTimestamp: ago(150) },
    spec: { type: 'NodePort', clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], selector: { app: 'hello' }, ports: [{ port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] },
  };
  const result = table('', 'services', [svc]);
  t.deepEqual(columns(result), ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector*']);
  t.deepEqual(result.rows[0]!.cells, ['hello', 'NodePort', '10.96.0.20', '<none>', '80:30080/TCP,53/UDP', '2m30s', 'app=hello']);
});

test('load balancer services show <pending> then their ingress addresses', (t) => {
  const svc: KubeObject = { metadata: { name: 'lb' }, spec: { type: 'LoadBalancer', clusterIPs: ['10.96.0.9'], ports: [{ port: 443, nodePort: 31443 }] } };
  t.deepEqual(table('', 'services', [svc]).rows[0]!.cells.slice(1, 5), ['LoadBalancer', '10.96.0.9', '<pending>', '443:31443/TCP']);
  svc.status = { loadBalancer: { ingress: [{ ip: '192.168.1.12' }, { ip: '192.168.1.11' }] } };
  t.is(table('', 'services', [svc]).rows[0]!.cells[3], '192.168.1.11,192.168.1.12');
  const headless: KubeObject = { metadata: { name: 'h' }, spec: { clusterIP: 'None', clusterIPs: ['None'] } };
  t.deepEqual(table('', 'services', [headless]).rows[0]!.cells.slice(1, 6), ['ClusterIP', 'None', '<none>', '<none>', '<unknown>']);
});

test('endpoints list three addresses then how many more', (t) => {
  const ep: KubeObject = {
    metadata: { name: 'hello', creationTimestamp: ago(10) },
    subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }, { ip: '10.0.0.3' }, { ip: '10.0.0.4' }], ports: [{ port: 8080 }] }],
  };
  t.deepEqual(table('', 'endpoints', [ep]).rows[0]!.cells, ['hello', '10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:8080 + 1 more...', '10s']);
  t.is(table('', 'endpoints', [{ metadata: { name: 'none' } }]).rows[0]!.cells[1], '<none>');
  t.is(table('', 'endpoints', [{ metadata: { name: 'v6' }, subsets: [{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 80 }] }] }]).rows[0]!.cells[1], '[fd00::1]:80');
});

test('events show the object as kind/name and wide source details', (t) => {
  const ev: KubeObject = {
    metadata: { name: 'web.17f', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', fieldPath: 'spec.containers{httpd}' },
    reason: 'BackOff', type: 'Warning', message: 'Back-off restarting failed container\n', count: 4,
    firstTimestamp: ago(600), lastTimestamp: ago(5), source: { component: 'kubelet', host: 'pi-1' },
  };
  const result = table('', 'events', [ev]);
  t.deepEqual(columns(result), ['Last Seen', 'Type', 'Reason', 'Object', 'Subobject*', 'Source*', 'Message', 'First Seen*', 'Count*', 'Name*']);
  t.deepEqual(result.rows[0]!.cells, ['5s', 'Warning', 'BackOff', 'pod/web', 'spec.containers{httpd}', 'kubelet, pi-1', 'Back-off restarting failed container', '10m', 4, 'web.17f']);
  const fresh: KubeObject = { metadata: { name: 'x' }, involvedObject: { kind: 'Node' }, eventTime: ago(3), reportingController: 'pikube-scheduler', reason: 'Scheduled', type: 'Normal', message: 'ok' };
  t.deepEqual(table('', 'events', [fresh]).rows[0]!.cells, ['3s', 'Normal', 'Scheduled', 'node', '', 'pikube-scheduler', 'ok', '3s', 1, 'x']);
});

test('deployments, replica sets and daemon sets', (t) => {
  const template = { metadata: { labels: { app: 'hello' } }, spec: { containers: [{ name: 'hello', image: 'localhost/busybox:latest' }, { name: 'side', image: 'localhost/side:1' }] } };
  const deploy: KubeObject = {
    metadata: { name: 'hello', creationTimestamp: ago(45 * 86400) },
    spec: { replicas: 3, selector: { matchLabels: { app: 'hello' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'edge'] }] }, template },
    status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
  };
  const d = table('apps', 'deployments', [deploy]);
  t.deepEqual(columns(d), ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers*', 'Images*', 'Selector*']);
  t.deepEqual(d.rows[0]!.cells, ['hello', '2/3', 3, 2, '45d', 'hello,side', 'localhost/busybox:latest,localhost/side:1', 'app=hello,tier in (edge,web)']);

  const rs: KubeObject = { metadata: { name: 'hello-6d4f', creationTimestamp: ago(60) }, spec: { replicas: 3, selector: { matchLabels: { app: 'hello' } }, template }, status: { replicas: 3, readyReplicas: 1 } };
  const r = table('apps', 'replicasets', [rs]);
  t.deepEqual(columns(r), ['Name', 'Desired', 'Current', 'Ready', 'Age', 'Containers*', 'Images*', 'Selector*']);
  t.deepEqual(r.rows[0]!.cells, ['hello-6d4f', 3, 3, 1, '60s', 'hello,side', 'localhost/busybox:latest,localhost/side:1', 'app=hello']);

  const ds: KubeObject = { metadata: { name: 'proxy' }, spec: { selector: {}, template: { spec: { nodeSelector: { 'kubernetes.io/os': 'linux' }, containers: [{ name: 'p', image: 'i' }] } } }, status: { desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 1, updatedNumberScheduled: 2, numberAvailable: 1 } };
  const s = table('apps', 'daemonsets', [ds]);
  t.deepEqual(columns(s), ['Name', 'Desired', 'Current', 'Ready', 'Up-to-date', 'Available', 'Node Selector', 'Age', 'Containers*', 'Images*', 'Selector*']);
  t.deepEqual(s.rows[0]!.cells, ['proxy', 2, 2, 1, 2, 1, 'kubernetes.io/os=linux', '<unknown>', 'p', 'i', '<none>']);
});

test('namespaces, config maps, secrets, service accounts, leases, revisions, slices', (t) => {
  t.deepEqual(table('', 'namespaces', [{ metadata: { name: 'default', creationTimestamp: ago(5) }, status: { phase: 'Active' } }]).rows[0]!.cells, ['default', 'Active', '5s']);
  t.deepEqual(table('', 'configmaps', [{ metadata: { name: 'cfg' }, data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }]).rows[0]!.cells, ['cfg', 3, '<unknown>']);
  t.deepEqual(table('', 'secrets', [{ metadata: { name: 's' }, type: 'kubernetes.io/service-account-token', data: { token: 'eA==' } }]).rows[0]!.cells, ['s', 'kubernetes.io/service-account-token', 1, '<unknown>']);
  t.deepEqual(table('', 'serviceaccounts', [{ metadata: { name: 'default' } }]).rows[0]!.cells, ['default', 0, '<unknown>']);
  t.deepEqual(table('coordination.k8s.io', 'leases', [{ metadata: { name: 'pi-1' }, spec: { holderIdentity: 'pi-1' } }]).rows[0]!.cells, ['pi-1', 'pi-1', '<unknown>']);
  const rev: KubeObject = { metadata: { name: 'proxy-5d', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'proxy', uid: 'u', controller: true }] }, revision: 2 };
  t.deepEqual(table('apps', 'controllerrevisions', [rev]).rows[0]!.cells, ['proxy-5d', 'daemonset.apps/proxy', 2, '<unknown>']);
  const slice: KubeObject = { metadata: { name: 'hello-abc' }, addressType: 'IPv4', ports: [{ port: 8080 }, { name: 'metrics' }], endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2'] }] };
  t.deepEqual(table('discovery.k8s.io', 'endpointslices', [slice]).rows[0]!.cells, ['hello-abc', 'IPv4', '8080,metrics', '10.0.0.1,10.0.0.2', '<unknown>']);
});

test('anything else gets Name and Created At', (t) => {
  const result = table('rbac.authorization.k8s.io', 'roles', [{ metadata: { name: 'reader', creationTimestamp: '2025-05-01T10:00:00Z' } }]);
  t.deepEqual(result.columnDefinitions.map((c) => [c.name, c.type, c.format]), [['Name', 'string', 'name'], ['Created At', 'date', '']]);
  t.deepEqual(result.rows[0]!.cells, ['reader', '2025-05-01T10:00:00Z']);
});

test('table metadata carries resourceVersion, continue and remainingItemCount', (t) => {
  const plain = table('', 'pods', []);
  t.is(plain.kind, 'Table');
  t.is(plain.apiVersion, 'meta.k8s.io/v1');
  t.deepEqual(plain.metadata, { resourceVersion: '100' });
  const paged = toTable('', 'configmaps', [], { resourceVersion: '8', includeObject: 'Metadata', continueToken: 'abc', remainingItemCount: 4 }) as Table;
  t.deepEqual(paged.metadata, { resourceVersion: '8', continue: 'abc', remainingItemCount: 4 });
});

test('a bad includeObject is refused', (t) => {
  t.throws(() => toTable('', 'pods', [], { resourceVersion: '1', includeObject: 'Everything' as never }), { message: /includeObject/ });
});

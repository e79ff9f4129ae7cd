import test from 'ava';
import { PatchError } from '../../controller/apiserver/patch/patch-errors.js';
import { applyStrategicMergePatch } from '../../controller/apiserver/patch/strategic-merge.js';

/** Every key of a value whose name starts with '$' (directives must never be stored). */
function directiveKeys(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => directiveKeys(v, `${path}/${i}`));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => [...(k.startsWith('$') ? [`${path}/${k}`] : []), ...directiveKeys(v, `${path}/${k}`)]);
  }
  return [];
}

function smp(target: unknown, patch: unknown, group: string, kind: string): any {
  const result = applyStrategicMergePatch(target, patch, group, kind);
  if (directiveKeys(result).length > 0) throw new Error(`directives stored: ${directiveKeys(result).join(', ')}`);
  return result;
}

function deployment(): any {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'hello', namespace: 'default', uid: 'd-1', resourceVersion: '40', generation: 1,
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"old":true}\n', 'team': 'lab' },
      labels: { app: 'hello' },
    },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'hello' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'hello' } },
        spec: {
          containers: [{
            name: 'hello',
            image: 'localhost/busybox:latest',
            imagePullPolicy: 'Never',
            command: ['/bin/sh', '-c', 'exec /bin/httpd -f -p 8080 -h /'],
            ports: [{ containerPort: 8080, protocol: 'TCP' }],
            env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }, { name: 'C', value: '3' }],
            volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'cfg', mountPath: '/etc/cfg' }],
            readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 2 },
            resources: { requests: { cpu: '50m', memory: '8Mi' } },
          }],
          volumes: [{ name: 'data', emptyDir: {} }, { name: 'cfg', configMap: { name: 'hello-cfg' } }],
          restartPolicy: 'Always',
        },
      },
    },
    status: { replicas: 3, conditions: [{ type: 'Available', status: 'True' }, { type: 'Progressing', status: 'True' }] },
  };
}

test('kubectl apply of a new image changes only the image and keeps the other container fields', (t) => {
  const live = deployment();
  const patch = {
    metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"new":true}\n' } },
    spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'hello' }], containers: [{ image: 'localhost/busybox:v2', name: 'hello' }] } } },
  };
  const out = smp(live, patch, 'apps', 'Deployment');
  const expected = deployment();
  expected.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] = '{"new":true}\n';
  expected.spec.template.spec.containers[0].image = 'localhost/busybox:v2';
  t.deepEqual(out, expected);
  t.deepEqual(live, deployment(), 'the live object is untouched');
});

test('a container is deleted with $patch: delete, others stay', (t) => {
  const live = deployment();
  live.spec.template.spec.containers.push({ name: 'x', image: 'localhost/sidecar:1' });
  const patch = { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'hello' }], containers: [{ $patch: 'delete', name: 'x' }] } } } };
  const out = smp(live, patch, 'apps', 'Deployment');
  t.deepEqual(out.spec.template.spec.containers, deployment().spec.template.spec.containers);
});

test('env merges by name: change, add, delete, keep, in the order given', (t) => {
  const patch = {
    spec: { template: { spec: {
      '$setElementOrder/containers': [{ name: 'hello' }],
      containers: [{
        name: 'hello',
        '$setElementOrder/env': [{ name: 'A' }, { name: 'D' }, { name: 'C' }],
        env: [{ name: 'A', value: 'one' }, { name: 'D', value: '4' }, { $patch: 'delete', name: 'B' }],
      }],
    } } },
  };
  const out = smp(deployment(), patch, 'apps', 'Deployment');
  t.deepEqual(out.spec.template.spec.containers[0].env, [{ name: 'A', value: 'one' }, { name: 'D', value: '4' }, { name: 'C', value: '3' }]);
  t.is(out.spec.template.spec.containers[0].image, 'localhost/busybox:latest');
});

// Without $setElementOrder upstream puts patch elements first, except that an element the
// server already had ahead of them stays ahead; kubectl apply always sends the order.
test('env without $setElementOrder: upstream interleaving of patch and server elements', (t) => {
  const patch = { spec: { template: { spec: { containers: [{ name: 'hello', env: [{ name: 'Z', value: '26' }, { name: 'B', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } }, value: null }] }] } } } };
  const out = smp(deployment(), patch, 'apps', 'Deployment');
  t.deepEqual(out.spec.template.spec.containers[0].env, [
    { name: 'Z', value: '26' },
    { name: 'A', value: '1' },
    { name: 'B', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    { name: 'C', value: '3' },
  ]);
});

test('$retainKeys on the deployment strategy drops rollingUpdate when switching to Recreate', (t) => {
  const patch = { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } } };
  const out = smp(deployment(), patch, 'apps', 'Deployment');
  t.deepEqual(out.spec.strategy, { type: 'Recreate' });
  const keepAll = smp(deployment(), { spec: { strategy: { $retainKeys: ['rollingUpdate', 'type'], rollingUpdate: { maxSurge: 1 } } } }, 'apps', 'Deployment');
  t.deepEqual(keepAll.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '25%' } });
});

test('$retainKeys on a volume swaps its source', (t) => {
  const patch = { spec: { template: { spec: {
    '$setElementOrder/volumes': [{ name: 'data' }, { name: 'cfg' }],
    volumes: [{ $retainKeys: ['hostPath', 'name'], hostPath: { path: '/srv/data' }, name: 'data' }],
  } } } };
  const out = smp(deployment(), patch, 'apps', 'Deployment');
  t.deepEqual(out.spec.template.spec.volumes, [{ name: 'data', hostPath: { path: '/srv/data' } }, { name: 'cfg', configMap: { name: 'hello-cfg' } }]);
});

test('volumeMounts merge by mountPath, ports by containerPort', (t) => {
  const patch = { spec: { template: { spec: { containers: [{
    name: 'hello',
    volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }, { name: 'data', mountPath: '/data2' }],
    ports: [{ containerPort: 8080, name: 'http' }, { containerPort: 9090, name: 'metrics' }],
  }] } } } };
  const c = smp(deployment(), patch, 'apps', 'Deployment').spec.template.spec.containers[0];
  t.deepEqual(c.volumeMounts, [{ name: 'data', mountPath: '/data', readOnly: true }, { name: 'data', mountPath: '/data2' }, { name: 'cfg', mountPath: '/etc/cfg' }]);
  t.deepEqual(c.ports, [{ containerPort: 8080, protocol: 'TCP', name: 'http' }, { containerPort: 9090, name: 'metrics' }]);
});

test('lists without a merge key are replaced whole', (t) => {
  const patch = { spec: { template: { spec: { containers: [{ name: 'hello', command: ['/bin/true'] }], tolerations: [{ key: 'a', operator: 'Exists' }] } } } };
  const live = deployment();
  live.spec.template.spec.tolerations = [{ key: 'old', operator: 'Exists' }, { key: 'older', operator: 'Exists' }];
  const out = smp(live, patch, 'apps', 'Deployment');
  t.deepEqual(out.spec.template.spec.containers[0].command, ['/bin/true']);
  t.deepEqual(out.spec.template.spec.tolerations, [{ key: 'a', operator: 'Exists' }]);
  const node = { metadata: { name: 'pi-1' }, spec: { taints: [{ key: 'x', effect: 'NoSchedule' }] } };
  t.deepEqual(smp(node, { spec: { taints: [{ key: 'y', effect: 'NoExecute' }] } }, '', 'Node').spec.taints, [{ key: 'y', effect: 'NoExecute' }]);
});

test('$patch: replace on a list and on a map', (t) => {
  const out = smp(deployment(), { spec: { template: { spec: { containers: [{ name: 'only', image: 'i' }, { $patch: 'replace' }] } } } }, 'apps', 'Deployment');
  t.deepEqual(out.spec.template.spec.containers, [{ name: 'only', image: 'i' }]);
  const map = smp(deployment(), { spec: { template: { metadata: { labels: { $patch: 'replace', fresh: 'yes' } } } } }, 'apps', 'Deployment');
  t.deepEqual(map.spec.template.metadata.labels, { fresh: 'yes' });
  const gone = smp(deployment(), { spec: { selector: { $patch: 'delete' } } }, 'apps', 'Deployment');
  t.deepEqual(gone.spec.selector, {});
});

test('null deletes a map key; a null for a missing key is ignored', (t) => {
  const out = smp(deployment(), { metadata: { annotations: { team: null, absent: null }, labels: { tier: 'web' } }, spec: { replicas: null } }, 'apps', 'Deployment');
  t.deepEqual(out.metadata.annotations, { 'kubectl.kubernetes.io/last-applied-configuration': '{"old":true}\n' });
  t.deepEqual(out.metadata.labels, { app: 'hello', tier: 'web' });
  t.false('replicas' in out.spec);
});

test('finalizers: $deleteFromPrimitiveList and set-like merge', (t) => {
  const pod = { metadata: { name: 'p', finalizers: ['a.example/x', 'b.example/y'] }, spec: { containers: [] } };
  const out = smp(pod, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a.example/x'], finalizers: ['c.example/z', 'b.example/y'] } }, '', 'Pod');
  t.deepEqual(out.metadata.finalizers, ['c.example/z', 'b.example/y']);
  const added = smp(pod, { metadata: { finalizers: ['a.example/x', 'd.example/w'] } }, '', 'Pod');
  t.deepEqual(added.metadata.finalizers, ['a.example/x', 'd.example/w', 'b.example/y']);
  const ordered = smp(pod, { metadata: { '$setElementOrder/finalizers': ['a.example/x', 'b.example/y', 'd.example/w'], finalizers: ['d.example/w'] } }, '', 'Pod');
  t.deepEqual(ordered.metadata.finalizers, ['a.example/x', 'b.example/y', 'd.example/w']);
});

test('$setElementOrder keeps server-only elements and reorders the rest', (t) => {
  const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: '1' }, { name: 'injected', image: '2' }, { name: 'b', image: '3' }] } };
  const out = smp(pod, { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }] } }, '', 'Pod');
  // 'injected' was ahead of 'b' on the server, so it stays ahead of it.
  t.deepEqual(out.spec.containers.map((c: any) => c.name), ['injected', 'b', 'a']);
  const appended = smp(pod, { spec: { '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }, { name: 'c' }], containers: [{ name: 'c', image: '4' }] } }, '', 'Pod');
  t.deepEqual(appended.spec.containers.map((c: any) => c.name), ['a', 'injected', 'b', 'c']);
  const mismatched = { spec: { '$setElementOrder/containers': [{ name: 'a' }], containers: [{ name: 'b', image: '4' }] } };
  t.throws(() => applyStrategicMergePatch(pod, mismatched, '', 'Pod'), { instanceOf: PatchError, message: /setElementOrder/ });
});

test('a list that did not exist is created without directives', (t) => {
  const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: '1' }] } };
  const patch = { spec: {
    '$setElementOrder/volumes': [{ name: 'v' }],
    volumes: [{ $retainKeys: ['emptyDir', 'name'], name: 'v', emptyDir: {} }],
    initContainers: [{ name: 'init', image: 'i', env: [{ name: 'X', value: null }] }],
  } };
  const out = smp(pod, patch, '', 'Pod');
  t.deepEqual(out.spec.volumes, [{ name: 'v', emptyDir: {} }]);
  t.deepEqual(out.spec.initContainers, [{ name: 'init', image: 'i', env: [{ name: 'X' }] }]);
});

test('status lists merge by their keys (conditions by type, addresses by type)', (t) => {
  const node = {
    metadata: { name: 'pi-1' },
    status: {
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }, { type: 'MemoryPressure', status: 'False' }],
      addresses: [{ type: 'InternalIP', address: '192.168.1.11' }, { type: 'Hostname', address: 'pi-1' }],
    },
  };
  const out = smp(node, { status: { conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown' }], addresses: [{ type: 'InternalIP', address: '192.168.1.21' }] } }, '', 'Node');
  t.deepEqual(out.status.conditions, [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown' }, { type: 'MemoryPressure', status: 'False' }]);
  t.deepEqual(out.status.addresses, [{ type: 'InternalIP', address: '192.168.1.21' }, { type: 'Hostname', address: 'pi-1' }]);
});

test('service ports merge by port; ownerReferences by uid; service account secrets by name', (t) => {
  const svc = { metadata: { name: 's', ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'a', uid: 'u1' }] }, spec: { type: 'NodePort', ports: [{ port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }] } };
  const out = smp(svc, { metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'b', uid: 'u2' }] }, spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 443, targetPort: 8443 }] } }, '', 'Service');
  t.deepEqual(out.spec.ports, [{ port: 80, targetPort: 9090, nodePort: 30080, protocol: 'TCP' }, { port: 443, targetPort: 8443 }]);
  t.deepEqual(out.metadata.ownerReferences.map((o: any) => o.uid), ['u2', 'u1']);
  const sa = { metadata: { name: 'default' }, secrets: [{ name: 'a' }] };
  t.deepEqual(smp(sa, { secrets: [{ name: 'b' }] }, '', 'ServiceAccount').secrets, [{ name: 'b' }, { name: 'a' }]);
});

test('config maps and other plain kinds merge as maps', (t) => {
  const cm = { metadata: { name: 'c' }, data: { a: '1', b: '2' } };
  t.deepEqual(smp(cm, { data: { b: null, c: '3' } }, '', 'ConfigMap'), { metadata: { name: 'c' }, data: { a: '1', c: '3' } });
  const lease = { metadata: { name: 'pi-1' }, spec: { holderIdentity: 'pi-1', renewTime: 't1' } };
  t.deepEqual(smp(lease, { spec: { renewTime: 't2' } }, 'coordination.k8s.io', 'Lease').spec, { holderIdentity: 'pi-1', renewTime: 't2' });
});

test('bad patches are refused with clear errors and change nothing', (t) => {
  const live = deployment();
  const bad: [unknown, RegExp][] = [
    [[{ op: 'add' }], /must be a JSON object/],
    [{ spec: { template: { spec: { containers: [{ image: 'no-name' }] } } } }, /merge key "name"/],
    [{ spec: { template: { spec: { containers: [{ $patch: 'delete' }] } } } }, /merge key "name"/],
    [{ spec: { template: { spec: { containers: [{ $patch: 'explode', name: 'hello' }] } } } }, /unknown \$patch directive/],
    [{ spec: { $patch: 'explode' } }, /unknown \$patch directive/],
    [{ spec: { strategy: { $retainKeys: ['type'], rollingUpdate: { maxSurge: 1 } } } }, /not in \$retainKeys/],
    [{ spec: { $retainKeys: 'type' } }, /list of field names/],
    [{ spec: { $frobnicate: 1 } }, /unknown patch directive/],
    [{ spec: { template: { spec: { containers: [{ name: 'hello', env: [['A']] }] } } } }, /lists of lists/],
    [{ metadata: { '$deleteFromPrimitiveList/finalizers': 'x' } }, /must be a list/],
  ];
  for (const [patch, message] of bad) {
    t.throws(() => applyStrategicMergePatch(live, patch, 'apps', 'Deployment'), { instanceOf: PatchError, message }, JSON.stringify(patch));
  }
  t.deepEqual(live, deployment());
});

test('the patch itself is never changed', (t) => {
  const patch = { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' }, template: { spec: { '$setElementOrder/containers': [{ name: 'hello' }], containers: [{ name: 'hello', image: 'v3' }] } } } };
  const before = JSON.stringify(patch);
  smp(deployment(), patch, 'apps', 'Deployment');
  t.is(JSON.stringify(patch), before);
});

import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { unknownFields, validateObject, type FieldCause } from '../../controller/apiserver/validation/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string): unknown => parse(readFileSync(path.resolve(here, '../../../test/fixtures', name), 'utf8'));

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const fields = (causes: FieldCause[]): string[] => causes.map((c) => c.field);
const byField = (causes: FieldCause[], field: string): FieldCause | undefined => causes.find((c) => c.field === field);

const goodPod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'default', labels: { app: 'web', 'example.com/tier': 'front' } },
  spec: {
    restartPolicy: 'Always',
    volumes: [{ name: 'data', emptyDir: {} }],
    initContainers: [{ name: 'init', image: 'busybox' }],
    containers: [{
      name: 'web',
      image: 'nginx:1.27',
      imagePullPolicy: 'IfNotPresent',
      ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
      env: [{ name: 'MODE', value: 'prod' }],
      resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } },
      volumeMounts: [{ name: 'data', mountPath: '/data' }],
      livenessProbe: { httpGet: { path: '/', port: 80 } },
    }],
  },
};

const goodDeployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
  },
};

test('the seed invalid pod names metadata.name, spec.containers and spec.restartPolicy', (t) => {
  const causes = validateObject('', 'v1', 'Pod', fixture('invalid-pod.yaml'));
  t.deepEqual(byField(causes, 'metadata.name'), { reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' });
  t.deepEqual(byField(causes, 'spec.containers'), { reason: 'FieldValueRequired', field: 'spec.containers', message: 'Required value' });
  t.deepEqual(byField(causes, 'spec.restartPolicy'), {
    reason: 'FieldValueNotSupported',
    field: 'spec.restartPolicy',
    message: 'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
  });
  t.is(causes.length, 3);
});

test('a good pod has no causes', (t) => {
  t.deepEqual(validateObject('', 'v1', 'Pod', goodPod), []);
  t.deepEqual(unknownFields('', 'v1', 'Pod', goodPod), []);
});

test('generateName stands in for name', (t) => {
  const pod = clone(goodPod) as { metadata: Record<string, unknown> };
  delete pod.metadata.name;
  pod.metadata.generateName = 'web-';
  t.deepEqual(validateObject('', 'v1', 'Pod', pod), []);
});

test('bad names use the upstream wording', (t) => {
  const pod = clone(goodPod);
  pod.metadata.name = 'Bad_Name';
  const causes = validateObject('', 'v1', 'Pod', pod);
  t.is(byField(causes, 'metadata.name')?.message,
    `Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`);
  // Namespaces and services are DNS labels: dots are not allowed there.
  const ns = validateObject('', 'v1', 'Namespace', { metadata: { name: 'a.b' } });
  t.regex(ns[0]!.message, /^Invalid value: "a\.b": a lowercase RFC 1123 label must consist of/);
  t.deepEqual(validateObject('', 'v1', 'Node', { metadata: { name: 'pi-1.lan' } }), []);
});

test('label keys and values are checked', (t) => {
  const pod = clone(goodPod) as { metadata: { labels: Record<string, string> } };
  pod.metadata.labels = { 'bad key': 'x', ok: 'bad value!' };
  const causes = validateObject('', 'v1', 'Pod', pod);
  t.true(causes.every((c) => c.field === 'metadata.labels'));
  t.true(causes.some((c) => c.message.startsWith('Invalid value: "bad key": name part must consist of alphanumeric characters')));
  t.true(causes.some((c) => c.message.startsWith('Invalid value: "bad value!": a valid label must be an empty string or consist of')));
});

test('container rules', (t) => {
  const pod = clone(goodPod) as any;
  pod.spec.initContainers[0].name = 'web';
  pod.spec.containers[0].imagePullPolicy = 'Sometimes';
  pod.spec.containers[0].ports[0].containerPort = 70000;
  pod.spec.containers[0].ports[0].protocol = 'ICMP';
  pod.spec.containers[0].env[0].name = '1BAD';
  pod.spec.containers[0].volumeMounts[0].name = 'missing';
  pod.spec.containers[0].resources.requests.cpu = '2';
  pod.spec.containers[0].livenessProbe = { httpGet: { port: 80 }, exec: { command: ['true'] } };
  pod.spec.containers.push({ name: 'Side_Car' });
  const causes = validateObject('', 'v1', 'Pod', pod);
  t.is(byField(causes, 'spec.containers[0].name')?.message, 'Duplicate value: "web"');
  t.is(byField(causes, 'spec.containers[0].imagePullPolicy')?.message, 'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"');
  t.is(byField(causes, 'spec.containers[0].ports[0].containerPort')?.message, 'Invalid value: 70000: must be between 1 and 65535, inclusive');
  t.is(byField(causes, 'spec.containers[0].ports[0].protocol')?.reason, 'FieldValueNotSupported');
  t.regex(byField(causes, 'spec.containers[0].env[0].name')!.message, /^Invalid value: "1BAD": a valid environment variable name/);
  t.is(byField(causes, 'spec.containers[0].volumeMounts[0].name')?.message, 'Not found: "missing"');
  t.is(byField(causes, 'spec.containers[0].resources.requests[cpu]')?.message, 'Invalid value: "2": must be less than or equal to cpu limit of 1');
  t.is(byField(causes, 'spec.containers[0].livenessProbe.httpGet')?.message, 'Forbidden: may not specify more than 1 handler type');
  t.regex(byField(causes, 'spec.containers[1].name')!.message, /RFC 1123 label/);
  t.is(byField(causes, 'spec.containers[1].image')?.message, 'Required value');
});

test('quantities must parse, and types come from the schema', (t) => {
  const pod = clone(goodPod) as any;
  pod.spec.containers[0].resources.limits.memory = '1Gx';
  pod.spec.containers[0].stdin = 'yes';
  pod.spec.dnsPolicy = 'Sometimes';
  const causes = validateObject('', 'v1', 'Pod', pod);
  t.regex(byField(causes, 'spec.containers[0].resources.limits[memory]')!.message, /^Invalid value: "1Gx": quantities must match/);
  t.deepEqual(byField(causes, 'spec.containers[0].stdin'), { reason: 'FieldValueTypeInvalid', field: 'spec.containers[0].stdin', message: 'Invalid value: "yes": must be of type boolean' });
  t.is(byField(causes, 'spec.dnsPolicy')?.reason, 'FieldValueNotSupported');
});

test('volumes: unique names and exactly one source', (t) => {
  const pod = clone(goodPod) as any;
  pod.spec.volumes = [{ name: 'data', emptyDir: {} }, { name: 'data', hostPath: { path: '/x' }, emptyDir: {} }, { name: 'none' }];
  const causes = validateObject('', 'v1', 'Pod', pod);
  t.is(byField(causes, 'spec.volumes[1].name')?.message, 'Duplicate value: "data"');
  t.is(byField(causes, 'spec.volumes[1].emptyDir')?.reason, 'FieldValueForbidden');
  t.is(byField(causes, 'spec.volumes[2]')?.message, 'Required value: must specify a volume type');
});

test('pod updates may change only images, deadlines and added tolerations', (t) => {
  const old = clone(goodPod);
  const imageOnly = clone(goodPod);
  imageOnly.spec.containers[0]!.image = 'nginx:1.28';
  (imageOnly.metadata.labels as Record<string, string>).extra = 'yes';
  t.deepEqual(validateObject('', 'v1', 'Pod', imageOnly, old), []);

  const tolerated = clone(goodPod) as any;
  tolerated.spec.tolerations = [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }];
  t.deepEqual(validateObject('', 'v1', 'Pod', tolerated, old), []);
  const fewer = clone(goodPod);
  t.is(byField(validateObject('', 'v1', 'Pod', fewer, tolerated), 'spec')?.reason, 'FieldValueForbidden');

  const changed = clone(goodPod);
  changed.spec.restartPolicy = 'Never';
  const causes = validateObject('', 'v1', 'Pod', changed, old);
  t.is(byField(causes, 'spec')?.reason, 'FieldValueForbidden');
  t.regex(byField(causes, 'spec')!.message, /^Forbidden: pod updates may not change fields other than/);

  const renamed = clone(goodPod);
  renamed.metadata.name = 'other';
  t.is(byField(validateObject('', 'v1', 'Pod', renamed, old), 'metadata.name')?.message, 'Invalid value: "other": field is immutable');
});

test('deployment rules', (t) => {
  t.deepEqual(validateObject('apps', 'v1', 'Deployment', goodDeployment), []);
  const d = clone(goodDeployment) as any;
  d.spec.template.metadata.labels = { app: 'other' };
  d.spec.replicas = -1;
  d.spec.strategy = { type: 'BlueGreen' };
  d.spec.template.spec.restartPolicy = 'Never';
  const causes = validateObject('apps', 'v1', 'Deployment', d);
  t.is(byField(causes, 'spec.template.metadata.labels')?.message, 'Invalid value: {"app":"other"}: `selector` does not match template `labels`');
  t.is(byField(causes, 'spec.replicas')?.message, 'Invalid value: -1: must be greater than or equal to 0');
  t.is(byField(causes, 'spec.strategy.type')?.message, 'Unsupported value: "BlueGreen": supported values: "Recreate", "RollingUpdate"');
  t.is(byField(causes, 'spec.template.spec.restartPolicy')?.message, 'Unsupported value: "Never": supported values: "Always"');

  const noSelector = clone(goodDeployment) as any;
  delete noSelector.spec.selector;
  t.is(byField(validateObject('apps', 'v1', 'Deployment', noSelector), 'spec.selector')?.message, 'Required value');

  const moved = clone(goodDeployment) as any;
  moved.spec.selector = { matchLabels: { app: 'web', v: '2' } };
  moved.spec.template.metadata.labels.v = '2';
  t.deepEqual(validateObject('apps', 'v1', 'Deployment', moved), []);
  t.regex(byField(validateObject('apps', 'v1', 'Deployment', moved, goodDeployment), 'spec.selector')!.message, /field is immutable$/);

  const rs = { metadata: { name: 'web-1' }, spec: { selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } } };
  t.deepEqual(validateObject('apps', 'v1', 'ReplicaSet', rs), []);
  const ds = clone(rs) as any;
  ds.spec.updateStrategy = { type: 'Recreate' };
  t.is(byField(validateObject('apps', 'v1', 'DaemonSet', ds), 'spec.updateStrategy.type')?.reason, 'FieldValueNotSupported');
});

test('service rules', (t) => {
  const svc = { metadata: { name: 'web' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }] } };
  t.deepEqual(validateObject('', 'v1', 'Service', svc), []);
  const bad = clone(svc) as any;
  bad.spec.ports = [{ port: 0, nodePort: 80 }, { name: 'b', port: 443, targetPort: 'https' }];
  bad.spec.type = 'NodePort';
  const causes = validateObject('', 'v1', 'Service', bad);
  t.is(byField(causes, 'spec.ports[0].name')?.message, 'Required value');
  t.is(byField(causes, 'spec.ports[0].port')?.message, 'Invalid value: 0: must be between 1 and 65535, inclusive');
  t.is(byField(causes, 'spec.ports[0].nodePort')?.message, 'Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767');
  const noPorts = { metadata: { name: 'web' }, spec: { selector: { app: 'web' } } };
  t.is(byField(validateObject('', 'v1', 'Service', noPorts), 'spec.ports')?.message, 'Required value');
  t.deepEqual(validateObject('', 'v1', 'Service', { metadata: { name: 'db' }, spec: { clusterIP: 'None' } }), []);
  t.deepEqual(validateObject('', 'v1', 'Service', { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.com' } }), []);
  const dupe = { metadata: { name: 'web' }, spec: { ports: [{ name: 'a', port: 1 }, { name: 'a', port: 2 }], type: 'Magic' } };
  const dupeCauses = validateObject('', 'v1', 'Service', dupe);
  t.is(byField(dupeCauses, 'spec.ports[1].name')?.message, 'Duplicate value: "a"');
  t.is(byField(dupeCauses, 'spec.type')?.reason, 'FieldValueNotSupported');
});

test('configmap and secret keys', (t) => {
  t.deepEqual(validateObject('', 'v1', 'ConfigMap', { metadata: { name: 'cfg' }, data: { 'app.conf': 'x', KEY_1: 'y' } }), []);
  const causes = validateObject('', 'v1', 'ConfigMap', { metadata: { name: 'cfg' }, data: { 'bad key': 'x', '..': 'y' } });
  t.deepEqual(fields(causes).sort(), ['data[..]', 'data[bad key]']);
  t.regex(byField(causes, 'data[bad key]')!.message, /a valid config key must consist of alphanumeric characters, '-', '_' or '\.'/);
  t.is(validateObject('', 'v1', 'Secret', { metadata: { name: 's' }, data: { 'a/b': 'eA==' } }).length, 1);
});

test('other served kinds validate against their schemas', (t) => {
  t.deepEqual(validateObject('coordination.k8s.io', 'v1', 'Lease', { metadata: { name: 'node-1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40 } }), []);
  const lease = validateObject('coordination.k8s.io', 'v1', 'Lease', { metadata: { name: 'l' }, spec: { leaseDurationSeconds: 'long' } });
  t.is(byField(lease, 'spec.leaseDurationSeconds')?.reason, 'FieldValueTypeInvalid');
  const slice = validateObject('discovery.k8s.io', 'v1', 'EndpointSlice', { metadata: { name: 'web-abc' }, endpoints: [] });
  t.is(byField(slice, 'addressType')?.message, 'Required value');
  t.deepEqual(validateObject('', 'v1', 'Binding', { metadata: { name: 'web' }, target: { kind: 'Node', name: 'pi-1' } }), []);
  t.deepEqual(validateObject('autoscaling', 'v1', 'Scale', { metadata: { name: 'web' }, spec: { replicas: 3 } }), []);
});

test('a non-object is refused without throwing', (t) => {
  t.is(validateObject('', 'v1', 'Pod', 'nonsense').length, 1);
  t.notThrows(() => validateObject('', 'v1', 'Pod', { metadata: 'x', spec: { containers: 'x', volumes: 3 } }));
});

test('unknownFields reports paths like kubectl strict decoding', (t) => {
  const pod = clone(goodPod) as any;
  pod.spec.containers[0].imagePullPolcy = 'Always';
  pod.spec.foo = 1;
  pod.metadata.bogus = true;
  pod.metadata.annotations = { 'any.key/at-all': 'fine' };
  pod.status = { phase: 'Running', hostIP: '10.0.0.2' };
  t.deepEqual(unknownFields('', 'v1', 'Pod', pod).sort(), ['metadata.bogus', 'spec.containers[0].imagePullPolcy', 'spec.foo']);
  const d = clone(goodDeployment) as any;
  d.spec.template.spec.containers[0].resources = { limits: { cpu: '1' }, limitz: {} };
  t.deepEqual(unknownFields('apps', 'v1', 'Deployment', d), ['spec.template.spec.containers[0].resources.limitz']);
  t.deepEqual(unknownFields('', 'v1', 'ConfigMap', { metadata: { name: 'a' }, data: { anything: 'x' } }), []);
});

test('validation is fast once warmed up', (t) => {
  validateObject('', 'v1', 'Pod', goodPod);
  const rounds = 2000;
  const start = performance.now();
  for (let i = 0; i < rounds; i++) validateObject('', 'v1', 'Pod', goodPod);
  const perCall = (performance.now() - start) / rounds;
  t.true(perCall < 0.5, `${perCall.toFixed(3)} ms per pod`);
});

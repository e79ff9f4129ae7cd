import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ApiError } from '../../controller/apiserver/errors.js';
import { decodeProtobufBody } from '../../controller/apiserver/protobuf/decode-body.js';
import { decodeBody } from '../../controller/apiserver/http/body.js';
import { bool, bytes, entry, envelope, fixed32, int, msg, str, varint } from './proto-writer.js';

// Bodies that kubectl v1.32 sent for its typed create commands (source path: dist/test/protobuf → test/fixtures).
const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../../../test/fixtures/protobuf/${name}.pb`, import.meta.url)));


test('a hand-built Pod: maps, repeated, pointers, inlined structs, int-or-string, quantities', (t) => {
  const metadata = msg(1,
    str(1, 'web'), str(2, ''), str(3, 'apps'), msg(8), // an unset creationTimestamp is an empty message
    entry(11, 'app', str(2, 'web')), entry(11, 'tier', str(2, 'front')),
    entry(12, 'note', str(2, 'a=b')),
    msg(13, str(5, 'apps/v1'), str(1, 'ReplicaSet'), str(3, 'web-1'), str(4, 'u-1'), bool(6, true)),
    int(7, 0));
  const container = msg(2,
    str(1, 'main'), str(2, 'busybox:1.36'), str(3, 'sh'), str(3, '-c'), str(3, 'sleep 1'),
    msg(6, int(3, 8080), str(4, 'TCP'), int(2, 0)),
    msg(7, str(1, 'MODE'), str(2, 'fast')),
    msg(7, str(1, 'POD_IP'), msg(3, msg(1, str(2, 'status.podIP')))),
    msg(8, entry(1, 'cpu', msg(2, str(1, '250m'))), entry(2, 'memory', msg(2, str(1, '64Mi')))),
    msg(10, msg(1, msg(2, str(1, '/healthz'), msg(2, int(1, 1), str(3, 'http')))), int(4, 5)),
    msg(11, msg(1, msg(3, msg(1, int(1, 0), int(2, 8080))))),
    bool(16, false), str(14, ''));
  const spec = msg(2,
    msg(1, str(1, 'scratch'), msg(2, msg(2))), // Volume{name, VolumeSource{emptyDir: {}}}
    container,
    int(4, 0), // terminationGracePeriodSeconds is a pointer: 0 is meant
    bool(21, false), // automountServiceAccountToken is a pointer: false is meant
    bool(11, false), // hostNetwork is a plain bool: false is the default and is left out
    entry(7, 'disk', str(2, 'ssd')),
    msg(14, int(4, 1000), int(4, 2000), bytes(4, [...varint(3000), ...varint(4000)])),
    int(999, 42), str(1000, 'from the future')); // unknown fields are skipped
  const pod = decodeProtobufBody(envelope('v1', 'Pod', [...metadata, ...spec]));
  t.deepEqual(pod, {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: 'web', namespace: 'apps',
      labels: { app: 'web', tier: 'front' }, annotations: { note: 'a=b' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'u-1', controller: true }],
    },
    spec: {
      volumes: [{ name: 'scratch', emptyDir: {} }],
      containers: [{
        name: 'main', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 1'],
        ports: [{ containerPort: 8080, protocol: 'TCP' }],
        env: [{ name: 'MODE', value: 'fast' }, { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
        resources: { limits: { cpu: '250m' }, requests: { memory: '64Mi' } },
        livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
        readinessProbe: { tcpSocket: { port: 8080 } },
      }],
      terminationGracePeriodSeconds: 0,
      automountServiceAccountToken: false,
      nodeSelector: { disk: 'ssd' },
      securityContext: { supplementalGroups: [1000, 2000, 3000, 4000] },
    },
  });
});

test('bytes become base64, Time is RFC 3339, MicroTime keeps microseconds, negative ints survive', (t) => {
  const secret = decodeProtobufBody(envelope('v1', 'Secret', [
    ...msg(1, str(1, 's'), msg(8, int(1, 1700000000), int(2, 999))),
    ...entry(2, 'key', bytes(2, [0, 1, 2, 0xff])), ...entry(2, 'empty', []), ...str(3, 'Opaque'), ...bool(5, true),
  ]));
  t.deepEqual(secret, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', creationTimestamp: '2023-11-14T22:13:20Z' }, data: { key: 'AAEC/w==', empty: '' }, type: 'Opaque', immutable: true });

  const lease = decodeProtobufBody(envelope('coordination.k8s.io/v1', 'Lease', [
    ...msg(1, str(1, 'node-a')),
    ...msg(2, str(1, 'node-a'), int(2, 40), msg(4, int(1, 1700000000), int(2, 123456789)), int(5, 0)),
  ]));
  t.deepEqual(lease.spec, { holderIdentity: 'node-a', leaseDurationSeconds: 40, renewTime: '2023-11-14T22:13:20.123456Z', leaseTransitions: 0 });

  const del = decodeProtobufBody(envelope('v1', 'DeleteOptions', [...int(1, -1n), ...msg(2, str(1, 'uid-1')), ...str(4, 'Foreground'), ...str(5, 'All')]));
  t.deepEqual(del, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: -1, preconditions: { uid: 'uid-1' }, propagationPolicy: 'Foreground', dryRun: ['All'] });
});

test('Go zero time from a careless encoder is left out like an empty one', (t) => {
  const ns = decodeProtobufBody(envelope('v1', 'Namespace', msg(1, str(1, 'x'), msg(8, int(1, -62135596800n)))));
  t.deepEqual(ns, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } });
});

test('an unknown kind is 415 with a message kubectl can show', (t) => {
  const err = t.throws(() => decodeProtobufBody(envelope('flowcontrol.apiserver.k8s.io/v1', 'FlowSchema', msg(1, str(1, 'j')))), { instanceOf: ApiError });
  t.is(err!.code, 415);
  t.is(err!.reason, 'UnsupportedMediaType');
  t.regex(err!.message, /cannot decode kind FlowSchema \(apiVersion flowcontrol.apiserver.k8s.io\/v1\) from protobuf; send it as application\/json/);
  const gz = t.throws(() => decodeProtobufBody(envelope('v1', 'Namespace', [], str(3, 'gzip'))), { instanceOf: ApiError });
  t.is(gz!.code, 415);
});

test('malformed bodies are 400 and say what is wrong', (t) => {
  const cases: [Buffer, RegExp][] = [
    [Buffer.from('{"kind":"Namespace"}'), /missing the "k8s\\0" prefix/],
    [Buffer.concat([envelope('v1', 'Namespace', []), Buffer.from([0x12, 0x05, 0x0a])]), /claims 5 bytes/],
    [envelope('v1', 'Namespace', msg(1, fixed32(1, 7))), /Namespace\.metadata\.name: expected a length-delimited field, got wire type 5/],
    [envelope('v1', 'ConfigMap', msg(1, int(3, 1))), /metadata\.namespace: expected a length-delimited/],
    [envelope('apps/v1', 'Deployment', msg(2, str(1, 'three'))), /spec\.replicas: expected a varint/],
  ];
  for (const [body, message] of cases) {
    const err = t.throws(() => decodeProtobufBody(body), { instanceOf: ApiError });
    t.is(err!.code, 400, String(message));
    t.regex(err!.message, message);
  }
  t.is(t.throws(() => decodeProtobufBody(Buffer.alloc(0)), { instanceOf: ApiError })!.code, 400);
});

test('body.ts routes the protobuf content type to the decoder, keeps JSON and 415 for CBOR', (t) => {
  t.deepEqual(decodeBody(fixture('create-namespace'), 'application/vnd.kubernetes.protobuf'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'capns' } });
  t.deepEqual(decodeBody(Buffer.from('{"a":1}'), 'application/json'), { a: 1 });
  t.is(t.throws(() => decodeBody(Buffer.from([0xa0]), 'application/cbor'), { instanceOf: ApiError })!.code, 415);
});

test('what kubectl sent for its create commands decodes to the JSON it would have sent', (t) => {
  const decode = (name: string) => decodeProtobufBody(fixture(name));
  t.deepEqual(decode('create-namespace'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'capns' } });
  t.deepEqual(decode('create-configmap'), {
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' },
    data: { mode: 'fast', 'app.conf': 'line1\nline2\n' },
    binaryData: { 'blob.bin': Buffer.from([0, 1, 2, 0xff, 0xfe, ...Buffer.from('pikube')]).toString('base64') },
  });
  t.deepEqual(decode('create-secret-generic'), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'capsec' }, data: { pw: Buffer.from('s3cr3t').toString('base64'), x: Buffer.from('y').toString('base64') } });
  const reg = decode('create-secret-docker-registry') as { type: string; data: Record<string, string> };
  t.is(reg.type, 'kubernetes.io/dockerconfigjson');
  t.deepEqual(JSON.parse(Buffer.from(reg.data['.dockerconfigjson']!, 'base64').toString()), { auths: { 'r.example': { username: 'u', password: 'p', auth: Buffer.from('u:p').toString('base64') } } });
  t.deepEqual(decode('create-deployment'), {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'capdep', labels: { app: 'capdep' } },
    spec: {
      replicas: 2, selector: { matchLabels: { app: 'capdep' } },
      template: { metadata: { labels: { app: 'capdep' } }, spec: { containers: [{ name: 'busybox', image: 'busybox', ports: [{ containerPort: 8080 }] }] } },
    },
  });
  t.is((decode('create-deployment-zero-replicas') as { spec: { replicas: number } }).spec.replicas, 0, 'replicas is a pointer: 0 survives');
  t.deepEqual(decode('create-service-clusterip'), {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'capsvc', labels: { app: 'capsvc' } },
    spec: {
      ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }, { name: '443-https', protocol: 'TCP', port: 443, targetPort: 'https' }],
      selector: { app: 'capsvc' }, type: 'ClusterIP',
    },
  });
  t.deepEqual(decode('create-serviceaccount'), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'capsa' } });
  t.deepEqual(decode('create-token'), { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest' });
});

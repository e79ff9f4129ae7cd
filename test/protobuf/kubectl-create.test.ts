// kubectl's typed create commands send Kubernetes protobuf bodies and never fall back to
// JSON: each one against a real controller, then `get -o json` shows what was stored.
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { kubectl, removeDir, startController, type ControllerHandle, type Kubectl } from '../helpers/processes.js';
import { envelope, msg, str } from './proto-writer.js';

let ctrl: ControllerHandle | undefined;
let k: Kubectl;
let work: string;

test.before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pikube-protobuf-'));
  ctrl = await startController();
  k = kubectl(ctrl.kubeconfig);
});

test.after.always(async () => {
  if (ctrl) {
    await ctrl.kill();
    removeDir(ctrl.dir);
  }
  if (k) removeDir(k.home);
  if (work) removeDir(work);
});

type Obj = any;
const getJson = async (...args: string[]): Promise<Obj> => JSON.parse((await k(['get', ...args, '-o', 'json'])).stdout);
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

test.serial('create namespace (and --dry-run=server stores nothing)', async (t) => {
  t.is((await k(['create', 'namespace', 'shop'])).stdout.trim(), 'namespace/shop created');
  const ns = await getJson('namespace', 'shop');
  t.is(ns.kind, 'Namespace');
  t.is(ns.metadata.name, 'shop');
  t.truthy(ns.metadata.uid);
  t.is(ns.status?.phase, 'Active');

  t.regex((await k(['create', 'namespace', 'ghost', '--dry-run=server'])).stdout, /namespace\/ghost created \(server dry run\)/);
  const missing = await k(['get', 'namespace', 'ghost'], { reject: false });
  t.not(missing.exitCode, 0);
  t.regex(missing.stderr, /not found/);
});

test.serial('create configmap --from-literal --from-file, text and binary', async (t) => {
  writeFileSync(join(work, 'app.conf'), 'listen 8080\nworkers 2\n');
  const blob = Buffer.from([0, 1, 2, 0xfe, 0xff]);
  writeFileSync(join(work, 'blob.bin'), blob);
  await k(['create', 'configmap', 'settings', '-n', 'shop', '--from-literal=mode=fast', '--from-literal=empty=', `--from-file=${join(work, 'app.conf')}`, `--from-file=raw=${join(work, 'blob.bin')}`]);
  const cm = await getJson('configmap', 'settings', '-n', 'shop');
  t.is(cm.metadata.namespace, 'shop');
  t.deepEqual(cm.data, { mode: 'fast', empty: '', 'app.conf': 'listen 8080\nworkers 2\n' });
  t.deepEqual(cm.binaryData, { raw: b64(blob) });
});

test.serial('create secret generic, tls and docker-registry', async (t) => {
  await k(['create', 'secret', 'generic', 'db', '--from-literal=user=admin', '--from-literal=password=s3 cr3t', '--type=Opaque']);
  const db = await getJson('secret', 'db');
  t.is(db.type, 'Opaque');
  t.deepEqual(db.data, { user: b64('admin'), password: b64('s3 cr3t') });

  const crt = join(work, 'tls.crt');
  const key = join(work, 'tls.key');
  await execa('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', crt, '-days', '1', '-subj', '/CN=shop.test']);
  await k(['create', 'secret', 'tls', 'shop-tls', `--cert=${crt}`, `--key=${key}`]);
  const tls = await getJson('secret', 'shop-tls');
  t.is(tls.type, 'kubernetes.io/tls');
  t.regex(Buffer.from(tls.data['tls.crt'], 'base64').toString(), /BEGIN CERTIFICATE/);
  t.regex(Buffer.from(tls.data['tls.key'], 'base64').toString(), /BEGIN PRIVATE KEY/);

  await k(['create', 'secret', 'docker-registry', 'regcred', '--docker-server=registry.lan:5000', '--docker-username=pi', '--docker-password=raspberry']);
  const reg = await getJson('secret', 'regcred');
  t.is(reg.type, 'kubernetes.io/dockerconfigjson');
  const auths = JSON.parse(Buffer.from(reg.data['.dockerconfigjson'], 'base64').toString()).auths;
  t.deepEqual(auths['registry.lan:5000'], { username: 'pi', password: 'raspberry', auth: b64('pi:raspberry') });
});

test.serial('create deployment --image --replicas=2 --port=8080, and --replicas=0', async (t) => {
  await k(['create', 'deployment', 'web', '--image=busybox', '--replicas=2', '--port=8080']);
  const d = await getJson('deployment', 'web');
  t.is(d.apiVersion, 'apps/v1');
  t.deepEqual(d.metadata.labels, { app: 'web' });
  t.is(d.spec.replicas, 2);
  t.deepEqual(d.spec.selector, { matchLabels: { app: 'web' } });
  t.deepEqual(d.spec.template.metadata.labels, { app: 'web' });
  const [c] = d.spec.template.spec.containers;
  t.is(c.name, 'busybox');
  t.is(c.image, 'busybox');
  t.is(c.ports[0].containerPort, 8080);
  t.is(c.ports[0].protocol, 'TCP');

  await k(['create', 'deployment', 'idle', '--image=busybox', '--replicas=0', '--', 'sleep', '3600']);
  const idle = await getJson('deployment', 'idle');
  t.is(idle.spec.replicas, 0, 'an explicit zero is kept, not defaulted to 1');
  t.deepEqual(idle.spec.template.spec.containers[0].command, ['sleep', '3600']);
});

test.serial('create service clusterip / nodeport, expose deployment', async (t) => {
  await k(['create', 'service', 'clusterip', 'api', '--tcp=80:8080', '--tcp=443:https']);
  const api = await getJson('service', 'api');
  t.is(api.spec.type, 'ClusterIP');
  t.deepEqual(api.spec.selector, { app: 'api' });
  t.deepEqual(api.spec.ports.map((p: Obj) => [p.name, p.port, p.targetPort, p.protocol]), [['80-8080', 80, 8080, 'TCP'], ['443-https', 443, 'https', 'TCP']]);

  await k(['create', 'service', 'nodeport', 'edge', '--tcp=80:8080', '--node-port=30080']);
  const edge = await getJson('service', 'edge');
  t.is(edge.spec.type, 'NodePort');
  t.is(edge.spec.ports[0].nodePort, 30080);

  t.regex((await k(['expose', 'deployment', 'web', '--port=80', '--target-port=8080', '--name=web-svc'])).stdout, /service\/web-svc exposed/);
  const web = await getJson('service', 'web-svc');
  t.deepEqual(web.spec.selector, { app: 'web' });
  t.deepEqual([web.spec.ports[0].port, web.spec.ports[0].targetPort], [80, 8080]);
});

test.serial('create serviceaccount', async (t) => {
  await k(['create', 'serviceaccount', 'builder', '-n', 'shop']);
  const sa = await getJson('serviceaccount', 'builder', '-n', 'shop');
  t.is(sa.kind, 'ServiceAccount');
  t.is(sa.metadata.namespace, 'shop');
});

test.serial('run', async (t) => {
  await k(['run', 'probe', '--image=busybox', '--labels=role=probe', '--env=MODE=once', '--port=9000', '--restart=Never', '--', 'sleep', '60']);
  const pod = await getJson('pod', 'probe');
  t.deepEqual(pod.metadata.labels, { role: 'probe' });
  const [c] = pod.spec.containers;
  t.deepEqual([c.image, c.args, c.env, c.ports[0].containerPort], ['busybox', ['sleep', '60'], [{ name: 'MODE', value: 'once' }], 9000]);
  t.is(pod.spec.restartPolicy, 'Never');
});

test.serial('scale, label, annotate, patch, set image, delete (JSON bodies) still work after protobuf creates', async (t) => {
  await k(['scale', 'deployment', 'web', '--replicas=3']);
  t.is((await getJson('deployment', 'web')).spec.replicas, 3);
  await k(['label', 'configmap', 'settings', '-n', 'shop', 'tier=backend']);
  await k(['annotate', 'configmap', 'settings', '-n', 'shop', 'owner=pi']);
  await k(['patch', 'configmap', 'settings', '-n', 'shop', '-p', '{"data":{"mode":"slow"}}']);
  const cm = await getJson('configmap', 'settings', '-n', 'shop');
  t.is(cm.metadata.labels.tier, 'backend');
  t.is(cm.metadata.annotations.owner, 'pi');
  t.is(cm.data.mode, 'slow');
  await k(['set', 'image', 'deployment/web', 'busybox=busybox:1.36']);
  t.is((await getJson('deployment', 'web')).spec.template.spec.containers[0].image, 'busybox:1.36');
  await k(['delete', 'pod', 'probe', '--grace-period=0', '--force']);
  await k(['delete', 'secret', 'db']);
  t.not((await k(['get', 'secret', 'db'], { reject: false })).exitCode, 0);
});

test.serial('a protobuf body of a kind the server cannot decode is a clear 415', async (t) => {
  const body = join(work, 'job.pb');
  writeFileSync(body, envelope('flowcontrol.apiserver.k8s.io/v1', 'FlowSchema', msg(1, str(1, 'nightly'))));
  const r = await execa('curl', ['-sk', '--max-time', '10', '-w', '\n%{http_code}', '-H', `Authorization: Bearer ${ctrl!.token}`,
    '-H', 'Content-Type: application/vnd.kubernetes.protobuf', '--data-binary', `@${body}`, `${ctrl!.apiUrl}/api/v1/namespaces/default/configmaps`]);
  const [json, code] = r.stdout.split('\n');
  t.is(code, '415');
  const status = JSON.parse(json!);
  t.is(status.reason, 'UnsupportedMediaType');
  t.regex(status.message, /cannot decode kind FlowSchema \(apiVersion flowcontrol.apiserver.k8s.io\/v1\) from protobuf/);
  t.not((await k(['get', 'configmap', 'nightly'], { reject: false })).exitCode, 0, 'nothing was stored');
});

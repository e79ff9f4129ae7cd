// The first contact with pikube, as a user has it: stock kubectl with the kubeconfig the
// controller wrote, a fresh HOME, strict client-side validation and TLS verification on,
// driving the project's own example manifests against a real controller process.
import test from 'ava';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { kubectl, removeDir, startController, waitFor, type ControllerHandle, type Kubectl } from '../helpers/processes.js';
import { ApiClient } from '../helpers/api-client.js';

const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples');
const example = (name: string) => join(EXAMPLES, name);

let ctrl: ControllerHandle | undefined;
let k: Kubectl;
let api: ApiClient;

test.before(async () => {
  ctrl = await startController();
  k = kubectl(ctrl.kubeconfig);
  api = new ApiClient(ctrl.kubeconfig);
});

test.after.always(async () => {
  api?.close();
  if (ctrl) {
    await ctrl.kill();
    removeDir(ctrl.dir);
  }
  if (k) removeDir(k.home);
});

const podNames = async (): Promise<string[]> => {
  const r = await api.get('/api/v1/namespaces/default/pods');
  return (r.body.items as { metadata: { name: string } }[]).map((p) => p.metadata.name).sort();
};

/** Splits a kubectl table into rows of whitespace-separated cells. */
const rows = (out: string) => out.trim().split('\n').map((l) => l.trim().split(/\s+/));

test.serial('create -f pod-definition.yaml, get pods, -o wide', async (t) => {
  const created = await k(['create', '-f', example('pod-definition.yaml')]);
  t.is(created.stdout.trim(), 'pod/web created');

  const list = rows((await k(['get', 'pods'])).stdout);
  t.deepEqual(list[0], ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
  const web = list.find((r) => r[0] === 'web');
  t.truthy(web, 'web is listed');
  t.deepEqual(web!.slice(0, 4), ['web', '0/1', 'Pending', '0']);

  const wide = rows((await k(['get', 'pods', '-o', 'wide'])).stdout);
  t.true(wide[0]!.includes('IP'), `wide header: ${wide[0]!.join(' ')}`);
  t.true(wide[0]!.includes('NODE'));
  const webWide = wide.find((r) => r[0] === 'web')!;
  // No agent: not scheduled, no address yet.
  t.is(webWide[wide[0]!.indexOf('IP')], '<none>');
  t.is(webWide[wide[0]!.indexOf('NODE')], '<none>');
});

test.serial('get pods -w shows a pod another client creates', async (t) => {
  const home = k.home;
  const child = spawn('kubectl', ['--kubeconfig', ctrl!.kubeconfig, 'get', 'pods', '-w'], { env: { HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  try {
    await waitFor('the initial listing of the watch', () => /^web\s+0\/1\s+Pending/m.test(out), 30_000);
    const name = `watched-${Math.random().toString(36).slice(2, 8)}`;
    const r = await api.post('/api/v1/namespaces/default/pods', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name },
      spec: { containers: [{ name: 'c', image: 'localhost/busybox:latest' }] },
    });
    t.is(r.status, 201, r.text);
    await waitFor(`${name} in the kubectl watch output`, () => new RegExp(`^${name}\\s+0/1\\s+Pending`, 'm').test(out), 30_000)
      .catch((e) => { throw new Error(`${(e as Error).message}\nstdout:\n${out}\nstderr:\n${err}`); });
    t.pass();
    t.is(child.exitCode, null, 'the watch is still streaming');
    t.is((await api.delete(`/api/v1/namespaces/default/pods/${name}`)).status, 200);
  } finally {
    child.kill('SIGKILL');
  }
});

test.serial('describe pod web ends with its Events', async (t) => {
  // The scheduler records an event for the unschedulable pod (there is no node).
  const out = await waitFor('an event in describe', async () => {
    const d = (await k(['describe', 'pod', 'web'])).stdout;
    return /^Events:\s*\n\s+Type\s+Reason/m.test(d) ? d : false;
  }, 30_000);
  t.regex(out, /^Name:\s+web$/m);
  t.regex(out, /^Namespace:\s+default$/m);
  const sections = out.split('\n').filter((l) => /^[A-Z][A-Za-z -]*:/.test(l));
  t.regex(sections[sections.length - 1]!, /^Events:/, 'Events is the last section');
  t.regex(out.slice(out.indexOf('\nEvents:')), /default-scheduler/);
});

test.serial('apply deployment.yaml: created, unchanged, configured with generation 2', async (t) => {
  const first = await k(['apply', '-f', example('deployment.yaml')]);
  t.regex(first.stdout, /^deployment\.apps\/hello created$/m);
  t.regex(first.stdout, /^service\/hello created$/m);

  const second = await k(['apply', '-f', example('deployment.yaml')]);
  t.regex(second.stdout, /^deployment\.apps\/hello unchanged$/m);
  t.regex(second.stdout, /^service\/hello unchanged$/m);

  const manifest = readFileSync(example('deployment.yaml'), 'utf8');
  const changed = manifest.replace('image: localhost/busybox:latest', 'image: localhost/busybox:v2');
  t.not(changed, manifest);
  const third = await k(['apply', '-f', '-'], { input: changed });
  t.regex(third.stdout, /^deployment\.apps\/hello configured$/m);
  t.regex(third.stdout, /^service\/hello unchanged$/m);
  const gen = await k(['get', 'deployment', 'hello', '-o', 'jsonpath={.metadata.generation}']);
  t.is(gen.stdout.trim(), '2');
  const image = await k(['get', 'deployment', 'hello', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
  t.is(image.stdout.trim(), 'localhost/busybox:v2');
});

test.serial('scale, label and -l, get all', async (t) => {
  const scaled = await k(['scale', 'deploy', 'hello', '--replicas=5']);
  t.is(scaled.stdout.trim(), 'deployment.apps/hello scaled');
  t.is((await k(['get', 'deploy', 'hello', '-o', 'jsonpath={.spec.replicas}'])).stdout.trim(), '5');

  const labeled = await k(['label', 'pod', 'web', 'tier=front']);
  t.is(labeled.stdout.trim(), 'pod/web labeled');
  const selected = rows((await k(['get', 'pods', '-l', 'tier=front'])).stdout);
  t.deepEqual(selected.slice(1).map((r) => r[0]), ['web']);
  const none = await k(['get', 'pods', '-l', 'tier=back']);
  t.regex(none.stderr, /No resources found in default namespace/);

  const all = (await waitFor('the deployment controller to create pods', async () => {
    const out = (await k(['get', 'all'])).stdout;
    return /^pod\/hello-/m.test(out) ? out : false;
  }, 30_000));
  t.regex(all, /^deployment\.apps\/hello\s/m);
  t.regex(all, /^service\/hello\s+NodePort/m);
  t.regex(all, /^service\/kubernetes\s+ClusterIP/m);
  t.regex(all, /^replicaset\.apps\/hello-/m);
  t.regex(all, /^pod\/web\s/m);
});

test.serial('version shows the server', async (t) => {
  const v = await k(['version']);
  t.regex(v.stdout, /^Server Version: v\d+\.\d+\.\d+/m);
});

test.serial('invalid-pod.yaml is refused naming every field; nothing is stored', async (t) => {
  const before = await podNames();
  const r = await k(['create', '-f', example('invalid-pod.yaml')], { reject: false });
  t.not(r.exitCode, 0);
  t.regex(r.stderr, /is invalid/);
  t.regex(r.stderr, /metadata\.name: Required value/);
  t.regex(r.stderr, /spec\.containers: Required value/);
  t.regex(r.stderr, /spec\.restartPolicy: Unsupported value: "Sometimes"/);
  t.deepEqual(await podNames(), before);
});

test.serial('a misspelt field is refused as unknown; nothing is stored', async (t) => {
  const manifest = readFileSync(example('pod-definition.yaml'), 'utf8')
    .replace('name: web', 'name: misspelt')
    .replace('imagePullPolicy:', 'imagePullPolcy:');
  const r = await k(['create', '-f', '-'], { input: manifest, reject: false });
  t.not(r.exitCode, 0);
  t.regex(r.stderr, /unknown field "spec\.containers\[0\]\.imagePullPolcy"/);
  t.is((await api.get('/api/v1/namespaces/default/pods/misspelt')).status, 404);
});

test.serial('no token, a wrong token: 401; anonymous health and version', async (t) => {
  const url = `${ctrl!.apiUrl}/api/v1/namespaces/default/pods`;
  const curl = async (args: string[]) => (await execa('curl', ['-s', '--cacert', join(ctrl!.dir, 'pki', 'ca.crt'), '-o', '/dev/null', '-w', '%{http_code}', ...args], { reject: false })).stdout;
  t.is(await curl([url]), '401');
  t.is(await curl(['-H', 'Authorization: Bearer not-the-token', url]), '401');
  t.is(await curl(['-H', `Authorization: Bearer ${ctrl!.token}`, url]), '200');
  t.is(await curl([`${ctrl!.apiUrl}/healthz`]), '200');
  t.is(await curl([`${ctrl!.apiUrl}/version`]), '200');
  const anon = await api.post('/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'anon' } }, { token: null });
  t.is(anon.status, 401);
  t.is((await api.get('/api/v1/namespaces/default/configmaps/anon')).status, 404);
});

test.serial('a body over 3 MiB: 413; malformed JSON: 400 with the position; nothing stored', async (t) => {
  const big = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'too-big' }, data: { blob: 'x'.repeat(3 * 1024 * 1024 + 16) } };
  const r413 = await api.post('/api/v1/namespaces/default/configmaps', big);
  t.is(r413.status, 413);
  t.is(r413.body.reason, 'RequestEntityTooLarge');

  const r400 = await api.request('POST', '/api/v1/namespaces/default/configmaps', { raw: '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"malformed"' });
  t.is(r400.status, 400);
  t.is(r400.body.kind, 'Status');
  t.regex(r400.body.message, /position \d+|line \d+/);

  for (const name of ['too-big', 'malformed']) t.is((await api.get(`/api/v1/namespaces/default/configmaps/${name}`)).status, 404, name);
});

test.serial('delete pod web (unbound: removed at once)', async (t) => {
  const r = await k(['delete', 'pod', 'web']);
  t.is(r.stdout.trim(), 'pod "web" deleted');
  t.is((await api.get('/api/v1/namespaces/default/pods/web')).status, 404);
  const got = await k(['get', 'pod', 'web'], { reject: false });
  t.regex(got.stderr, /pods "web" not found/);
});

// The pod workers against real podman and real containers (busybox-static image): the
// seed pod serves HTTP on its pod IP, two containers share localhost, exec, logs, crash
// loop, ErrImageNeverPull and graceful deletion. Everything created is labelled with a
// node name unique to this run and removed at the end.
import test from 'ava';
import { execa } from 'execa';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { PodmanRuntime } from '../../agent/runtime/podman.js';
import { LABEL } from '../../agent/pods/container-labels.js';
import type { Pod } from '../../protocol/kube/types.js';
import { ensureBusyboxImage, BUSYBOX_IMAGE } from '../helpers/podman-image.js';
import { harness, desired, set, waitFor, waitStatus, request, output, type Harness } from './harness.js';

const NODE = `pkt-${randomBytes(4).toString('hex')}`;
const rt = new PodmanRuntime();
const podmanPresent = (await execa('podman', ['version'], { reject: false }).catch(() => ({ exitCode: 1 }))).exitCode === 0;
// In CI a missing podman is a failure, never a skip.
const ptest = podmanPresent || process.env['CI'] === 'true' ? test.serial : test.serial.skip;

function fixture(name: string): Pod {
  const path = fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url));
  const p = parse(readFileSync(path, 'utf8')) as Pod;
  p.metadata.uid = randomUUID();
  p.metadata.namespace ??= 'default';
  p.metadata.generation = 1;
  p.spec.nodeName = NODE;
  return p;
}

function busyboxPod(name: string, spec: Partial<Pod['spec']> & { containers: Pod['spec']['containers'] }): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: randomUUID(), generation: 1 }, spec: { nodeName: NODE, ...spec } };
}

function httpStatus(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get({ host, port, path: '/', timeout: 2000 }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function podmanIds(args: string[]): Promise<string[]> {
  const r = await execa('podman', args, { reject: false });
  return String(r.stdout).split('\n').filter(Boolean);
}

let h: Harness;

test.before(async () => {
  if (!podmanPresent && process.env['CI'] !== 'true') return;
  await ensureBusyboxImage();
  h = harness(rt, { nodeName: NODE, relistMs: 500, resyncMs: 5000, backoffBaseMs: 1000 });
  await h.manager.start();
});

test.after.always(async () => {
  await h?.manager.stop();
  const label = `label=${LABEL.node}=${NODE}`;
  for (const id of await podmanIds(['ps', '-aq', '--filter', label])) await execa('podman', ['rm', '-f', '-t', '0', id], { reject: false });
  for (const id of await podmanIds(['pod', 'ps', '-q', '--filter', label])) await execa('podman', ['pod', 'rm', '-f', id], { reject: false });
  h?.cleanup();
});

const pods: Pod[] = [];
async function run(...add: Pod[]): Promise<void> {
  for (const p of add) p.spec.terminationGracePeriodSeconds = 2; // keeps deletion short; PID 1 here ignores SIGTERM
  pods.push(...add);
  await h.manager.setDesired(set(pods.length, ...pods.map((p) => desired(p))));
}

ptest('the seed pod becomes Running with a pod IP that answers HTTP', async (t) => {
  const web = fixture('pod-definition.yaml');
  await run(web);
  const s = await waitStatus(h, web.metadata.uid!, 'Running', (s) => s.phase === 'Running' && s.containerStatuses?.[0]?.ready === true, 60_000);
  t.truthy(s.podIP);
  t.regex(s.containerStatuses![0]!.containerID!, /^podman:\/\/[0-9a-f]{64}$/);
  t.is(s.qosClass, 'Burstable');
  const code = await waitFor('HTTP answer', () => httpStatus(s.podIP!, 8080).catch(() => undefined), 15_000, 200);
  t.true(code >= 200 && code < 500, `HTTP ${code}`);
  // the sandbox is a podman pod carrying the pod's hostname
  const hostname = await request(h.manager, { op: 'exec', transaction: 'hn', namespace: 'default', pod: 'web', uid: web.metadata.uid!, container: 'httpd', command: ['hostname'], stdin: false, tty: false });
  t.is(output(hostname).trim(), 'web');
});

ptest('two containers of a pod share localhost', async (t) => {
  const pair = fixture('two-containers.yaml');
  await run(pair);
  await waitStatus(h, pair.metadata.uid!, 'Running', (s) => s.phase === 'Running', 60_000);
  const text = await waitFor('client reached server', async () => {
    const chunks = await request(h.manager, { op: 'logs', transaction: `l-${Date.now()}`, namespace: 'default', pod: 'pair', uid: pair.metadata.uid!, container: 'client', follow: false, timestamps: false });
    const out = output(chunks);
    return out.includes('reached-server') ? out : undefined;
  }, 20_000, 500);
  t.regex(text, /reached-server/);
});

ptest('exec returns the exit code and takes stdin in order', async (t) => {
  const web = pods[0]!;
  const base = { namespace: 'default', pod: 'web', uid: web.metadata.uid!, container: 'httpd', tty: false };
  const exit = await request(h.manager, { op: 'exec', transaction: 'x1', ...base, command: ['sh', '-c', 'echo out; echo err >&2; exit 7'], stdin: false });
  t.is(exit.at(-1)!.exitCode, 7);
  t.is(output(exit, 'stdout'), 'out\n');
  t.is(output(exit, 'stderr'), 'err\n');
  const cat = request(h.manager, { op: 'exec', transaction: 'x2', ...base, command: ['cat'], stdin: true });
  // out of order on purpose: seq 1 before seq 0
  h.manager.handleRequest({ op: 'exec-input', transaction: 'x2', seq: 1, data: Buffer.from('world\n').toString('base64'), eof: true }, () => undefined);
  h.manager.handleRequest({ op: 'exec-input', transaction: 'x2', seq: 0, data: Buffer.from('hello ').toString('base64') }, () => undefined);
  const chunks = await cat;
  t.is(output(chunks), 'hello world\n');
  t.is(chunks.at(-1)!.exitCode, 0);
});

ptest('a restarted agent adopts the running containers without restarting them', async (t) => {
  const list = async () => (await rt.list({ [LABEL.node]: NODE })).filter((c) => c.state === 'running').map((c) => c.id).sort();
  const before = await list();
  t.true(before.length >= 3);
  await h.manager.stop();
  h.latest.clear();
  h.manager = h.make();
  await h.manager.start();
  for (const p of pods) await waitStatus(h, p.metadata.uid!, `${p.metadata.name} Running`, (s) => s.phase === 'Running', 30_000);
  t.deepEqual(await list(), before);
  t.true([...h.latest.values()].every((u) => u.status!.containerStatuses!.every((c) => c.restartCount === 0)));
});

ptest('a crashing container loops in CrashLoopBackOff and keeps its previous logs', async (t) => {
  const crash = busyboxPod('crash', { restartPolicy: 'Always', containers: [{ name: 'c', image: BUSYBOX_IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', 'echo boom; exit 1'] }] });
  await run(crash);
  const s = await waitStatus(h, crash.metadata.uid!, 'CrashLoopBackOff', (s) => s.containerStatuses?.[0]?.state.waiting?.reason === 'CrashLoopBackOff' && s.containerStatuses[0].restartCount >= 1, 60_000);
  t.is(s.containerStatuses![0]!.lastState.terminated?.exitCode, 1);
  t.regex(s.containerStatuses![0]!.state.waiting!.message!, /^back-off \d+s restarting failed container=c pod=crash_default\(/);
  const prev = await request(h.manager, { op: 'logs', transaction: 'prev', namespace: 'default', pod: 'crash', uid: crash.metadata.uid!, container: 'c', follow: false, timestamps: false, previous: true });
  t.is(output(prev), 'boom\n');
});

ptest('an absent image with pull policy Never is ErrImageNeverPull', async (t) => {
  const p = busyboxPod('never', { containers: [{ name: 'c', image: 'localhost/not-here:1', imagePullPolicy: 'Never' }] });
  await run(p);
  const s = await waitStatus(h, p.metadata.uid!, 'ErrImageNeverPull', (s) => s.containerStatuses?.[0]?.state.waiting?.reason === 'ErrImageNeverPull', 30_000);
  t.is(s.containerStatuses![0]!.state.waiting!.message, 'Container image "localhost/not-here:1" is not present with pull policy of Never');
});

ptest('graceful deletion removes every container and the sandbox', async (t) => {
  const uids = pods.map((p) => p.metadata.uid!);
  // the seed pod terminating with a short grace (busybox httpd as PID 1 ignores SIGTERM)
  const web = pods[0]!;
  web.metadata.deletionTimestamp = new Date().toISOString();
  web.metadata.deletionGracePeriodSeconds = 1;
  await h.manager.setDesired(set(pods.length + 1, desired(web)));
  for (const uid of uids) await waitFor(`pod ${uid} gone`, () => h.latest.get(uid)?.gone, 60_000, 100);
  t.deepEqual(await podmanIds(['ps', '-aq', '--filter', `label=${LABEL.node}=${NODE}`]), []);
  t.deepEqual(await podmanIds(['pod', 'ps', '-q', '--filter', `label=${LABEL.node}=${NODE}`]), []);
  t.true(h.events.some((e) => e.reason === 'Killing' && e.involvedObject.name === 'web'));
});

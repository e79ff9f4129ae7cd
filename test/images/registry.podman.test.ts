// Images from a real registry (Debian's docker-registry, TLS from a test CA, htpasswd
// auth) through the compiled controller, a real podman agent and two simulated agents
// posing as an arm64 and an armv7 board; stock kubectl throughout.
import test from 'ava';
import { execa } from 'execa';
import type { Node, Pod } from '../../protocol/kube/types.js';
import { kubectl, removeDir, startAgent, startController, waitFor, type AgentHandle, type ControllerHandle, type Kubectl } from '../helpers/processes.js';
import { arm64Busybox, busyboxRootfs, REGISTRY_PASSWORD, REGISTRY_USER, startTestRegistry, type TestRegistry } from '../helpers/test-registry.js';
import { getPod, removeNodeContainers, uniqueNodeName } from '../e2e/e2e-helpers.js';

const NODE = uniqueNodeName('img-podman');
const ARM64 = uniqueNodeName('img-arm64');
const ARMV7 = uniqueNodeName('img-armv7');
let reg: TestRegistry;
let ctrl: ControllerHandle | undefined;
const agents: AgentHandle[] = [];
let k: Kubectl;
const images: Record<string, string> = {};

async function apply(obj: unknown, ns = 'default'): Promise<void> {
  await k(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify(obj) });
}

function pod(name: string, image: string, spec: Partial<Pod['spec']> = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: { terminationGracePeriodSeconds: 1, ...spec, containers: [{ name: 'c', image, command: ['/bin/sleep', '3600'] }] },
  };
}

async function waitRunning(name: string, ns = 'default', timeoutMs = 120_000): Promise<Pod> {
  return waitFor(`pod ${name} Running`, async () => {
    const r = await k(['get', 'pod', name, '-n', ns, '-o', 'json'], { reject: false });
    const p = r.exitCode === 0 ? JSON.parse(r.stdout) as Pod : undefined;
    return p?.status?.phase === 'Running' ? p : undefined;
  }, timeoutMs, 500);
}

async function events(name: string, ns = 'default'): Promise<string> {
  return (await k(['get', 'events', '-n', ns, '--field-selector', `involvedObject.name=${name}`, '-o', 'custom-columns=REASON:.reason,MESSAGE:.message', '--no-headers'])).stdout;
}

async function nodeReady(name: string): Promise<void> {
  await waitFor(`node ${name} Ready`, async () => {
    const r = await k(['get', 'node', name, '--no-headers'], { reject: false });
    return r.exitCode === 0 && r.stdout.split(/\s+/)[1] === 'Ready';
  }, 90_000, 500);
}

test.before(async () => {
  reg = await startTestRegistry();
  const amd = await busyboxRootfs('/usr/bin/busybox');
  const arm = await busyboxRootfs(await arm64Busybox());
  images['bb'] = `${await reg.push('lab/bb:1', amd)}`;
  images['fresh'] = `${await reg.push('lab/fresh:1', await busyboxRootfs('/usr/bin/busybox', { fillerBytes: 1_000_000 }))}`;
  images['amd64'] = `${await reg.push('lab/bb-amd64:1', await busyboxRootfs('/usr/bin/busybox'))}`;
  images['arm64'] = `${await reg.push('lab/bb-arm64:1', arm, { arch: 'arm64' })}`;
  // platform metadata only: this one runs on the simulated armv7 board
  images['armv7'] = `${await reg.push('lab/bb-armv7:1', amd, { arch: 'arm', variant: 'v7' })}`;
  images['multi'] = await reg.pushIndex('lab/multi:1', [images['amd64']!, images['arm64']!]);
  ctrl = await startController({ args: ['--registries-config', reg.registriesYaml] });
  k = kubectl(ctrl.kubeconfig);
  agents.push(startAgent(ctrl, { nodeName: NODE, runtime: 'podman', args: ['--registries-config', reg.registriesYaml] }));
  await nodeReady(NODE);
  await k(['create', 'secret', 'docker-registry', 'regcred', `--docker-server=${reg.host}`, `--docker-username=${REGISTRY_USER}`, `--docker-password=${REGISTRY_PASSWORD}`]);
});

test.after.always(async () => {
  for (const a of agents) await a.kill();
  await ctrl?.kill();
  await removeNodeContainers(NODE);
  // the registry images this run pulled into podman's store
  for (const ref of Object.values(images)) await execa('podman', ['rmi', ref], { reject: false });
  await reg?.stop();
  if (ctrl) removeDir(ctrl.dir);
  for (const a of agents) removeDir(a.dir);
  if (k) removeDir(k.home);
});

test.serial('the ServiceAccount\'s pull secret reaches the pod; Pulling, then Pulled with duration and size', async (t) => {
  await k(['patch', 'serviceaccount', 'default', '-p', JSON.stringify({ imagePullSecrets: [{ name: 'regcred' }] })]);
  await apply(pod('via-sa', images['bb']!));
  const p = await waitRunning('via-sa');
  t.deepEqual(p.spec.imagePullSecrets, [{ name: 'regcred' }], 'admission copied the account\'s secrets');
  // the Pulled event waits for the image's size, which is read while the container starts
  const ev = await waitFor('Pulled event', async () => { const e = await events('via-sa'); return /Pulled/.test(e) ? e : undefined; }, 30_000, 500);
  t.regex(ev, /Pulling\s+Pulling image "127\.0\.0\.1:\d+\/lab\/bb:1"/);
  t.regex(ev, /Pulled\s+Successfully pulled image "127\.0\.0\.1:\d+\/lab\/bb:1" in [\d.]+m?s \([\d.]+m?s including waiting\)\. Image size: \d+ bytes\./);
});

test.serial('without credentials: ErrImagePull, then ImagePullBackOff with the registry\'s reason', async (t) => {
  await k(['create', 'namespace', 'nocreds']);
  const p = pod('no-secret', images['bb']!);
  p.spec.containers[0]!.imagePullPolicy = 'Always';
  await apply(p, 'nocreds');
  const seen = new Set<string>();
  const waiting = await waitFor('ImagePullBackOff', async () => {
    const cur = JSON.parse((await k(['get', 'pod', 'no-secret', '-n', 'nocreds', '-o', 'json'])).stdout) as Pod;
    const w = cur.status?.containerStatuses?.[0]?.state.waiting;
    if (w?.reason) seen.add(w.reason);
    return w?.reason === 'ImagePullBackOff' ? w : undefined;
  }, 90_000, 300);
  t.true(seen.has('ErrImagePull'), [...seen].join(','));
  t.regex(waiting.message ?? '', /unauthorized/i);
  const ev = await events('no-secret', 'nocreds');
  t.regex(ev, /Failed\s+Failed to pull image ".*lab\/bb:1": .*unauthorized/i);
  t.regex(ev, /Failed\s+Error: ErrImagePull/);
  t.regex(ev, /BackOff\s+Back-off pulling image/);
  const described = (await k(['describe', 'pod', 'no-secret', '-n', 'nocreds'])).stdout;
  t.regex(described, /ImagePullBackOff/);
  t.regex(described, /unauthorized/i);
});

test.serial('three pods of a new image: one pull (each blob served once), all Running', async (t) => {
  for (const i of [1, 2, 3]) await apply(pod(`many-${i}`, images['fresh']!, { imagePullSecrets: [{ name: 'regcred' }] }));
  for (const i of [1, 2, 3]) await waitRunning(`many-${i}`);
  const log = await reg.log();
  // the runtime's requests (the controller reads the manifest and config too, as pikube-controller)
  const blobGets = log.split('\n').filter((l) => /"GET \/v2\/lab\/fresh\/blobs\/sha256:[0-9a-f]+ HTTP\/[\d.]+" 200/.test(l) && l.includes('containers/'));
  t.true(log.includes('pikube-controller'), 'the controller read the image');
  const distinct = new Set(blobGets.map((l) => /blobs\/(sha256:[0-9a-f]+)/.exec(l)![1]));
  t.true(distinct.size >= 2, `config and layer fetched:\n${blobGets.join('\n')}`);
  t.is(blobGets.length, distinct.size, 'no blob fetched twice');
});

test.serial('a manifest list with amd64 and arm64 runs here; the Node lists its images with sizes', async (t) => {
  await apply(pod('multi', images['multi']!, { imagePullSecrets: [{ name: 'regcred' }] }));
  await waitRunning('multi');
  const node = await waitFor('status.images', async () => {
    const n = JSON.parse((await k(['get', 'node', NODE, '-o', 'json'])).stdout) as Node;
    return n.status?.images?.some((i) => i.names.some((x) => x.includes('/lab/fresh'))) ? n : undefined;
  }, 60_000, 1000);
  const fresh = node.status!.images!.find((i) => i.names.some((x) => x.includes('/lab/fresh')))!;
  t.true((fresh.sizeBytes ?? 0) > 1_000_000, JSON.stringify(fresh));
  t.deepEqual([...node.status!.images!].sort((a, b) => (b.sizeBytes ?? 0) - (a.sizeBytes ?? 0)), node.status!.images!, 'biggest first');
});

test.serial('placement by platform: arm64-only to the arm64 board, armv7-only to the armv7 board only, no fit stays Pending naming the platforms', async (t) => {
  agents.push(startAgent(ctrl!, { nodeName: ARM64, runtime: 'simulated', env: { PIKUBE_SIMULATED_ARCH: 'arm64' } }));
  agents.push(startAgent(ctrl!, { nodeName: ARMV7, runtime: 'simulated', env: { PIKUBE_SIMULATED_ARCH: 'arm/v7' } }));
  await nodeReady(ARM64);
  await nodeReady(ARMV7);
  const armv7Node = JSON.parse((await k(['get', 'node', ARMV7, '-o', 'json'])).stdout) as Node;
  t.is(armv7Node.metadata.labels?.['kubernetes.io/arch'], 'arm');
  t.is(armv7Node.metadata.labels?.['pikube.io/arch-variant'], 'v7');

  for (const i of [1, 2, 3]) await apply(pod(`arm64-${i}`, images['arm64']!, { imagePullSecrets: [{ name: 'regcred' }] }));
  for (const i of [1, 2, 3]) {
    const p = await waitRunning(`arm64-${i}`);
    t.is(p.spec.nodeName, ARM64);
  }
  await apply({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'armv7' },
    spec: { replicas: 4, selector: { matchLabels: { app: 'armv7' } }, template: { metadata: { labels: { app: 'armv7' } }, spec: { imagePullSecrets: [{ name: 'regcred' }], containers: [{ name: 'c', image: images['armv7'], command: ['/bin/sleep', '3600'] }] } } },
  });
  const placed = await waitFor('armv7 pods placed', async () => {
    const list = JSON.parse((await k(['get', 'pods', '-l', 'app=armv7', '-o', 'json'])).stdout) as { items: Pod[] };
    return list.items.length === 4 && list.items.every((p) => p.spec.nodeName) ? list.items : undefined;
  }, 60_000, 500);
  // the simulated boards pull as nerdctl does (containerd's strict matcher): arm64 takes no armv7 image
  t.true(placed.every((p) => p.spec.nodeName === ARMV7), placed.map((p) => p.spec.nodeName).join(','));

  // the amd64 board cordoned: an amd64-only image has nowhere to go
  await k(['cordon', NODE]);
  await apply(pod('amd64-only', images['amd64']!, { imagePullSecrets: [{ name: 'regcred' }] }));
  const message = await waitFor('FailedScheduling', async () => {
    const ev = await events('amd64-only');
    return /FailedScheduling/.test(ev) ? ev : undefined;
  }, 60_000, 500);
  t.regex(message, /2 node\(s\) didn't match the platforms of image "127\.0\.0\.1:\d+\/lab\/bb-amd64:1" \(linux\/amd64\)/);
  t.regex(message, /1 node\(s\) were unschedulable/);
  t.falsy((await getPod(k, 'amd64-only'))?.spec.nodeName);
  await k(['uncordon', NODE]);
  const p = await waitRunning('amd64-only');
  t.is(p.spec.nodeName, NODE);
});

// Image garbage collection and disk pressure on a real, small filesystem: the agent's
// podman keeps its own store on a 64 MiB tmpfs (podman's shared store is not touched),
// images come from the test registry. Unused images go least recently used first,
// images of running pods never; DiskPressure and its taint come and go with the space.
import test from 'ava';
import { execa } from 'execa';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Node, Pod } from '../../protocol/kube/types.js';
import { kubectl, removeDir, startAgent, startController, waitFor, type AgentHandle, type ControllerHandle, type Kubectl } from '../helpers/processes.js';
import { busyboxRootfs, REGISTRY_PASSWORD, REGISTRY_USER, startTestRegistry, type TestRegistry } from '../helpers/test-registry.js';
import { uniqueNodeName } from '../e2e/e2e-helpers.js';
import { TmpfsPodmanStore } from '../helpers/tmpfs-podman-store.js';

const NODE = uniqueNodeName('img-gc');
let reg: TestRegistry;
let ctrl: ControllerHandle | undefined;
let agent: AgentHandle | undefined;
let k: Kubectl;
const store = new TmpfsPodmanStore('pikube-imagefs-');
const mnt = store.dir;
const refs: string[] = [];
const podman = (args: string[]) => store.podman(args);

function pod(name: string, image: string): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: { terminationGracePeriodSeconds: 0, imagePullSecrets: [{ name: 'regcred' }], containers: [{ name: 'c', image, command: ['/bin/sleep', '3600'] }] },
  };
}

async function runPod(name: string, image: string): Promise<void> {
  await k(['apply', '-f', '-'], { input: JSON.stringify(pod(name, image)) });
  await waitFor(`${name} Running`, async () => (await k(['get', 'pod', name, '-o', 'jsonpath={.status.phase}'], { reject: false })).stdout === 'Running', 120_000, 500);
}

async function storeImages(): Promise<string> {
  return (await podman(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout;
}

function removedOrder(): string[] {
  const log = readFileSync(join(agent!.dir, 'agent.log'), 'utf8');
  return log.split('\n').filter((l) => l.includes('removed unused image')).map((l) => String(JSON.parse(l).image));
}

async function nodeState(): Promise<{ pressure?: string; taint: boolean }> {
  const n = JSON.parse((await k(['get', 'node', NODE, '-o', 'json'])).stdout) as Node;
  return {
    pressure: n.status?.conditions?.find((c) => c.type === 'DiskPressure')?.status,
    taint: (n.spec?.taints ?? []).some((t) => t.key === 'node.kubernetes.io/disk-pressure' && t.effect === 'NoSchedule'),
  };
}

test.before(async () => {
  await store.mount();
  reg = await startTestRegistry();
});

// set-up in steps: each stays well inside the test runner's inactivity timeout on a busy machine
test.serial('five images of about 8 MB each in the registry', async (t) => {
  // a static busybox and 6 MB that do not compress
  for (const i of [1, 2, 3, 4, 5]) refs.push(await reg.push(`gc/img${i}:1`, await busyboxRootfs('/usr/bin/busybox', { fillerBytes: 6_000_000 })));
  t.is(refs.length, 5);
});

test.serial('an agent with its podman store on the 64 MiB tmpfs joins', async (t) => {
  ctrl = await startController();
  k = kubectl(ctrl.kubeconfig);
  agent = startAgent(ctrl, {
    nodeName: NODE, runtime: 'podman',
    args: [
      '--podman-root', mnt, '--registries-config', reg.registriesYaml,
      '--image-gc-high-threshold', '60', '--image-gc-low-threshold', '40', '--image-minimum-gc-age', '0s', '--image-gc-period', '1s',
      // a soft threshold with a long grace period: the condition without evictions
      '--eviction-hard', '', '--eviction-soft', 'imagefs.available<15%', '--eviction-soft-grace-period', 'imagefs.available=1h',
      '--eviction-pressure-transition-period', '20s',
    ],
  });
  await waitFor(`node ${NODE} Ready`, async () => {
    const r = await k(['get', 'node', NODE, '--no-headers'], { reject: false });
    return r.exitCode === 0 && r.stdout.split(/\s+/)[1] === 'Ready';
  }, 150_000, 500);
  await k(['create', 'secret', 'docker-registry', 'regcred', `--docker-server=${reg.host}`, `--docker-username=${REGISTRY_USER}`, `--docker-password=${REGISTRY_PASSWORD}`]);
  t.pass();
});

test.after.always(async () => {
  await agent?.kill();
  await ctrl?.kill();
  await store.remove();
  await reg?.stop();
  if (ctrl) removeDir(ctrl.dir);
  if (agent) removeDir(agent.dir);
  if (k) removeDir(k.home);
});

// one pod per step: img1 stays in use; img2..img4 each run, then are left unused, in that order
test.serial('a pod of img1 keeps running', async (t) => {
  await runPod('keep', refs[0]!);
  t.pass();
});

for (const i of [1, 2, 3]) {
  test.serial(`a pod of img${i + 1} runs and is deleted; below the high threshold its image stays`, async (t) => {
    await runPod(`p${i}`, refs[i]!);
    await k(['delete', 'pod', `p${i}`, '--wait=true']);
    await waitFor(`p${i} gone`, async () => (await k(['get', 'pod', `p${i}`], { reject: false })).exitCode !== 0, 120_000, 500);
    t.deepEqual(removedOrder(), [], 'nothing removed below the high threshold');
  });
}

test.serial('above the high threshold unused images go, least recently used first; a running pod\'s image stays', async (t) => {
  await runPod('last', refs[4]!); // pushes usage above 60 %
  const removed = await waitFor('image GC', () => (removedOrder().length ? removedOrder() : undefined), 60_000, 500);
  t.true(removed[0]!.includes('/gc/img2'), removed.join(','));
  if (removed[1]) t.true(removed[1].includes('/gc/img3'), removed.join(','));
  const left = await storeImages();
  t.true(left.includes('/gc/img1'), `running pod's image kept:\n${left}`);
  t.true(left.includes('/gc/img5'), `running pod's image kept:\n${left}`);
  t.false(left.includes('/gc/img2'), left);
  const st = await execa('df', ['--output=pcent', mnt]);
  t.true(Number(/(\d+)%/.exec(st.stdout)![1]) <= 60, st.stdout);
});

test.serial('DiskPressure and its taint while the image filesystem is full, gone once space is back', async (t) => {
  t.deepEqual(await nodeState(), { pressure: 'False', taint: false });
  // files of our own: first past the high threshold, where collection takes the unused image,
  // then to 4 MiB free (below imagefs.available<15 %) with nothing left to collect
  const fill = async (name: string, leaveBytes: number) => {
    const avail = Number((await execa('df', ['-B1', '--output=avail', mnt])).stdout.split('\n')[1]);
    await execa('dd', ['if=/dev/zero', `of=${join(mnt, name)}`, 'bs=1M', `count=${Math.max(1, Math.floor((avail - leaveBytes) / (1024 * 1024)))}`], { reject: false });
  };
  await fill('filler1', 20 * 1024 * 1024);
  await waitFor('unused image collected', async () => !(await storeImages()).includes('/gc/img4'), 60_000, 500);
  await fill('filler2', 4 * 1024 * 1024);
  await waitFor('DiskPressure', async () => { const s = await nodeState(); return s.pressure === 'True' && s.taint ? s : undefined; }, 60_000, 500);
  const left = await storeImages();
  t.true(left.includes('/gc/img1') && left.includes('/gc/img5'), `images of running pods survive pressure:\n${left}`);
  // the soft threshold's grace period (1 h) holds evictions off
  t.deepEqual(await k(['get', 'pods', '-o', 'jsonpath={.items[*].status.phase}']).then((r) => r.stdout.split(' ').filter((p) => p !== 'Running')), [], 'no pod was evicted');
  rmSync(join(mnt, 'filler1'));
  rmSync(join(mnt, 'filler2'));
  await waitFor('DiskPressure clears', async () => { const s = await nodeState(); return s.pressure === 'False' && !s.taint ? s : undefined; }, 120_000, 500);
  t.pass();
});

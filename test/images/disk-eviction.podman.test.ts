// Eviction under disk pressure on a real, small filesystem: the agent's podman keeps its
// store on a 64 MiB tmpfs, two real pods run from a registry image, and one of them fills
// its writable layer past the agent's imagefs.available threshold. The agent evicts the
// pod using the disk (not the older, quiet one) as the kubelet does: phase Failed, reason
// Evicted with upstream's message, a DisruptionTarget condition and an Evicted event; its
// containers go, the space comes back, and DiskPressure clears. While the condition holds,
// a new pod sent straight to the node is refused, as the kubelet's admission refuses it.
import test from 'ava';
import { execa } from 'execa';
import type { Node, Pod } from '../../protocol/kube/types.js';
import { kubectl, removeDir, startAgent, startController, waitFor, type AgentHandle, type ControllerHandle, type Kubectl } from '../helpers/processes.js';
import { busyboxRootfs, REGISTRY_PASSWORD, REGISTRY_USER, startTestRegistry, type TestRegistry } from '../helpers/test-registry.js';
import { uniqueNodeName } from '../e2e/e2e-helpers.js';
import { TmpfsPodmanStore } from '../helpers/tmpfs-podman-store.js';

const NODE = uniqueNodeName('evict');
let reg: TestRegistry;
let ctrl: ControllerHandle | undefined;
let agent: AgentHandle | undefined;
let k: Kubectl;
let image = '';
const store = new TmpfsPodmanStore('pikube-evictfs-');
const mnt = store.dir;
const podman = (args: string[]) => store.podman(args);

function pod(name: string, script: string, extra: Partial<Pod['spec']> = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: { terminationGracePeriodSeconds: 30, imagePullSecrets: [{ name: 'regcred' }], ...extra, containers: [{ name: 'c', image, command: ['/bin/sh', '-c', script] }] },
  };
}

async function getPod(name: string): Promise<Pod | undefined> {
  const r = await k(['get', 'pod', name, '-o', 'json'], { reject: false });
  return r.exitCode === 0 ? JSON.parse(r.stdout) as Pod : undefined;
}

async function diskPressure(): Promise<string | undefined> {
  const n = JSON.parse((await k(['get', 'node', NODE, '-o', 'json'])).stdout) as Node;
  return n.status?.conditions?.find((c) => c.type === 'DiskPressure')?.status;
}

test.before(async () => {
  await store.mount();
  reg = await startTestRegistry();
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

test.serial('an agent with its podman store on a 64 MiB tmpfs and imagefs.available<40% joins', async (t) => {
  image = await reg.push('evict/bb:1', await busyboxRootfs('/usr/bin/busybox'));
  ctrl = await startController();
  k = kubectl(ctrl.kubeconfig);
  agent = startAgent(ctrl, {
    nodeName: NODE, runtime: 'podman',
    args: [
      '--podman-root', mnt, '--registries-config', reg.registriesYaml, '--image-gc-high-threshold', '95',
      '--eviction-hard', 'imagefs.available<40%', '--eviction-pressure-transition-period', '40s',
    ],
  });
  await waitFor(`node ${NODE} Ready`, async () => {
    const r = await k(['get', 'node', NODE, '--no-headers'], { reject: false });
    return r.exitCode === 0 && r.stdout.split(/\s+/)[1] === 'Ready';
  }, 150_000, 500);
  await k(['create', 'secret', 'docker-registry', 'regcred', `--docker-server=${reg.host}`, `--docker-username=${REGISTRY_USER}`, `--docker-password=${REGISTRY_PASSWORD}`]);
  t.is(await diskPressure(), 'False');
});

test.serial('the pod filling the disk is evicted, the quiet one keeps running, and the space comes back', async (t) => {
  await k(['apply', '-f', '-'], { input: JSON.stringify(pod('calm', 'exec /bin/sleep 3600')) });
  await waitFor('calm Running', async () => (await getPod('calm'))?.status?.phase === 'Running', 120_000, 500);
  // ~36 MiB in the container's writable layer: the store's filesystem drops below 40 % free
  await k(['apply', '-f', '-'], { input: JSON.stringify(pod('hog', '/bin/busybox dd if=/dev/zero of=/fill bs=1M count=36 2>/dev/null; exec /bin/sleep 3600')) });
  const hog = await waitFor('hog evicted', async () => {
    const p = await getPod('hog');
    return p?.status?.phase === 'Failed' ? p : undefined;
  }, 120_000, 500);
  t.is(hog.status?.reason, 'Evicted');
  t.regex(hog.status?.message ?? '', /^The node was low on resource: ephemeral-storage\. Threshold quantity: \d+(Ki|Mi)?, available: \d+(Ki|Mi)?\. Container c was using \d+(Ki|Mi)?, request is 0, has larger consumption of ephemeral-storage\. $/);
  const disruption = hog.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
  t.is(disruption?.status, 'True');
  t.is(disruption?.reason, 'TerminationByKubelet');
  // (the table's STATUS shows the killed container's reason, Error, as upstream's printer does)
  const described = (await k(['describe', 'pod', 'hog'])).stdout;
  t.regex(described, /Status:\s+Failed\nReason:\s+Evicted\nMessage:\s+The node was low on resource: ephemeral-storage/, described);
  const events = (await k(['get', 'events', '--field-selector', 'involvedObject.name=hog', '-o', 'jsonpath={range .items[*]}{.reason}{"\\n"}{end}'])).stdout;
  t.true(events.split('\n').includes('Evicted'), events);
  t.is((await getPod('calm'))?.status?.phase, 'Running', 'the pod using no disk is not evicted');
  t.is(await diskPressure(), 'True');
  // the evicted pod's containers are removed: its bytes are free again
  await waitFor('hog containers removed', async () => !(await podman(['ps', '-a', '--format', '{{.Names}}'])).stdout.includes('hog'), 60_000, 500);
  const df = await execa('df', ['--output=pcent', mnt]);
  t.true(Number(/(\d+)%/.exec(df.stdout)![1]) < 60, df.stdout);
});

test.serial('under DiskPressure a new pod sent to the node is refused; the condition clears after the transition period', async (t) => {
  t.is(await diskPressure(), 'True');
  // bound directly, past the scheduler and its taint filter, as a pod that raced the taint would be
  await k(['apply', '-f', '-'], { input: JSON.stringify(pod('late', 'exec /bin/sleep 3600', { nodeName: NODE })) });
  const late = await waitFor('late refused', async () => {
    const p = await getPod('late');
    return p?.status?.phase === 'Failed' ? p : undefined;
  }, 60_000, 500);
  t.is(late.status?.reason, 'Evicted');
  t.is(late.status?.message, 'Pod was rejected: The node had condition: [DiskPressure]. ');
  t.is((await podman(['ps', '-a', '--format', '{{.Names}}'])).stdout.includes('late'), false, 'nothing of the refused pod was started');
  await waitFor('DiskPressure clears', async () => (await diskPressure()) === 'False', 120_000, 1000);
  t.is((await getPod('calm'))?.status?.phase, 'Running');
});

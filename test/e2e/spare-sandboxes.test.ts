// pikube agent --sandbox-pool 1 with real podman and stock kubectl: a new pod starts in the
// spare (its podman pod is the spare), with its own hostname, hosts file and cluster DNS;
// a pod with a host port gets a pod of its own; deleting pods leaves only the next spare,
// and a stopped agent leaves none. Bad values of the flag are refused with one line.
import test from 'ava';
import { execa } from 'execa';
import { SPARE_OWNER_LABEL } from '../../agent/runtime/podman.js';
import { BUSYBOX_IMAGE } from '../helpers/podman-image.js';
import { CLI, waitFor, type Kubectl } from '../helpers/processes.js';
import { startPodmanCluster, type PodmanCluster } from './podman-cluster.js';
import { POD_UID_LABEL, getPod, uniqueNodeName } from './e2e-helpers.js';

const NODE = uniqueNodeName('e2e-spares');
let cluster: PodmanCluster | undefined;
let k: Kubectl;

/** podman pods that are this node's spares, given to a pod or not. */
async function spares(opts: { running?: boolean } = {}): Promise<string[]> {
  const r = await execa('podman', ['pod', 'ps', '-q', '--no-trunc', '--filter', `label=${SPARE_OWNER_LABEL}=${NODE}`, ...(opts.running ? ['--filter', 'status=running'] : [])], { reject: false });
  return r.stdout.split('\n').filter(Boolean).sort();
}

/** The podman pod the pod's app container runs in. */
async function podmanPodOf(uid: string): Promise<string> {
  const r = await execa('podman', ['ps', '-a', '--no-trunc', '--filter', `label=${POD_UID_LABEL}=${uid}`, '--format', '{{.Pod}}']);
  return r.stdout.split('\n').filter(Boolean)[0] ?? '';
}

function sleeper(name: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: BUSYBOX_IMAGE, imagePullPolicy: 'Never', command: ['sleep', '3600'], ...extra }] },
  });
}

async function running(name: string): Promise<NonNullable<Awaited<ReturnType<typeof getPod>>>> {
  let pod: Awaited<ReturnType<typeof getPod>>;
  await waitFor(`${name} Running`, async () => (pod = await getPod(k, name))?.status?.phase === 'Running', 60_000, 300);
  return pod!;
}

test.before(async () => {
  cluster = await startPodmanCluster(NODE, { agentArgs: ['--sandbox-pool', '1'] });
  ({ k } = cluster);
});

test.after.always(async () => {
  await cluster?.stop();
});

test.serial('a new pod runs in the spare with its own hostname, hosts file and cluster DNS', async (t) => {
  await waitFor('a spare', async () => (await spares({ running: true })).length === 1, 60_000, 300);
  const [spare] = await spares();
  await k(['create', '-f', '-'], { input: sleeper('db') });
  const pod = await running('db');
  t.is(await podmanPodOf(pod.metadata!.uid!), spare, 'the pod took the spare');
  t.is((await k(['exec', 'db', '--', 'hostname'])).stdout.trim(), 'db');
  const hosts = (await k(['exec', 'db', '--', 'cat', '/etc/hosts'])).stdout;
  t.true(hosts.includes(`${pod.status!.podIP}\tdb`), hosts);
  const resolv = (await k(['exec', 'db', '--', 'cat', '/etc/resolv.conf'])).stdout;
  t.regex(resolv, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local$/m);
  await waitFor('the next spare', async () => (await spares({ running: true })).length === 2, 60_000, 300);
});

test.serial('a pod whose spare dies gets a new sandbox at once, not at the next periodic relist', async (t) => {
  const before = await getPod(k, 'db');
  const sandbox = await podmanPodOf(before!.metadata!.uid!);
  const infra = (await execa('podman', ['pod', 'inspect', sandbox, '--format', '{{.InfraContainerID}}'])).stdout.trim();
  await execa('podman', ['kill', infra]);
  const t0 = Date.now();
  await waitFor('db in a new sandbox', async () => {
    const now = await podmanPodOf(before!.metadata!.uid!);
    return now !== sandbox && (await getPod(k, 'db'))?.status?.phase === 'Running' && (await execa('podman', ['ps', '-q', '--filter', `pod=${now}`, '--filter', `label=${POD_UID_LABEL}=${before!.metadata!.uid!}`])).stdout.trim() !== '';
  }, 30_000, 300);
  t.true(Date.now() - t0 < 30_000);
  t.is((await k(['exec', 'db', '--', 'hostname'])).stdout.trim(), 'db');
  await waitFor('db\'s sandbox and one free spare, nothing else', async () => (await spares()).length === 2 && (await spares({ running: true })).length === 2, 60_000, 300);
});

test.serial('a pod with a host port gets a podman pod of its own', async (t) => {
  const free = await spares();
  await k(['create', '-f', '-'], { input: sleeper('web', { ports: [{ containerPort: 8080, hostPort: 18000 + Math.floor(Math.random() * 2000) }] }) });
  const pod = await running('web');
  t.false(free.includes(await podmanPodOf(pod.metadata!.uid!)));
  t.deepEqual(await spares(), free, 'the spare is left for the next pod');
});

test.serial('deleted pods leave only the free spare; a stopped agent removes it', async (t) => {
  await k(['delete', 'pod', 'db', 'web', '--timeout=60s']);
  await waitFor('one spare left', async () => (await spares()).length === 1, 30_000, 300);
  const code = await cluster!.agent.stop();
  t.is(code, 0);
  t.deepEqual(await spares(), []);
});

test.serial('bad --sandbox-pool values are refused with one line', async (t) => {
  for (const [args, message] of [
    [['--sandbox-pool', 'two', '--runtime', 'podman'], /--sandbox-pool must be a whole number from 0 to 16, got "two"/],
    [['--sandbox-pool', '1', '--runtime', 'simulated'], /--sandbox-pool needs --runtime podman/],
  ] as const) {
    const r = await execa(process.execPath, [CLI, 'agent', '--mqtt-url', 'mqtt://127.0.0.1:1', ...args], { reject: false });
    t.not(r.exitCode, 0);
    t.regex(r.stderr, message);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

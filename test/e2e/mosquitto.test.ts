// The core flow against Debian's mosquitto configured by `pikube mosquitto-config`: the
// controller uses it as an external broker, a podman agent joins through it and runs the
// seed pod (Running, logs, exec); a second agent joins mosquitto's TLS listener with only
// the K10 token. Then the broker's rules, with mosquitto's own clients:
// node A's credentials can neither publish B's status nor read B's desired state, and
// anonymous or wrong-password clients are refused.
import test from 'ava';
import { execa } from 'execa';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBusyboxImage } from '../helpers/podman-image.js';
import { CLI, freePort, kubectl, removeDir, startAgent, startController, waitFor, type AgentHandle, type ControllerHandle, type Kubectl } from '../helpers/processes.js';
import { examplePath, getPod, httpStatus, removeNodeContainers, uniqueNodeName } from './e2e-helpers.js';

const NODE_A = uniqueNodeName('e2e-mosq-a');
const NODE_B = uniqueNodeName('e2e-mosq-b');
const CONTROLLER_USER = 'pikube-controller';

async function ensureMosquitto(): Promise<string> {
  const find = () => ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find(existsSync);
  const haveClients = async () => (await execa('sh', ['-c', 'command -v mosquitto_pub && command -v mosquitto_sub'], { reject: false })).exitCode === 0;
  if (!find() || !(await haveClients())) {
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    const install = () => execa('apt-get', ['install', '-y', 'mosquitto', 'mosquitto-clients'], { reject: false, env });
    if ((await install()).exitCode !== 0) { await execa('apt-get', ['update'], { env }); await execa('apt-get', ['install', '-y', 'mosquitto', 'mosquitto-clients'], { env }); }
  }
  const bin = find();
  if (!bin) throw new Error('mosquitto is not installed and could not be installed');
  return bin;
}

const dir = mkdtempSync(join(tmpdir(), 'pikube-e2e-mosq-'));
let port = 0;
let tlsPort = 0;
let mosquitto: ChildProcess | undefined;
let mosquittoLog = '';
let ctrl: ControllerHandle | undefined;
let agentA: AgentHandle | undefined;
let agentB: AgentHandle | undefined;
let k: Kubectl;

function mqttUrl(): string {
  return `mqtt://127.0.0.1:${port}`;
}

function controllerPassword(): string {
  return readFileSync(join(dir, 'mqtt-controller-password'), 'utf8').trim();
}

function nodeCredentials(agent: AgentHandle): { username: string; password: string } {
  return JSON.parse(readFileSync(join(agent.dir, 'credentials.json'), 'utf8')) as { username: string; password: string };
}

/** mosquitto_sub for a while; resolves with what it printed (`topic payload` lines) and its exit code. */
async function subscribe(topic: string, auth: string[], seconds: number, extra: string[] = []): Promise<{ out: string; code: number; err: string }> {
  const r = await execa('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-i', `e2e-sub-${Math.random().toString(36).slice(2, 8)}`, ...auth, '-t', topic, '-v', '-W', String(seconds), ...extra], { reject: false });
  return { out: String(r.stdout), code: r.exitCode ?? -1, err: String(r.stderr) };
}

async function publish(topic: string, message: string, auth: string[]): Promise<{ code: number; err: string }> {
  const r = await execa('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-i', `e2e-pub-${Math.random().toString(36).slice(2, 8)}`, ...auth, '-q', '1', '-t', topic, '-m', message], { reject: false, timeout: 10_000 });
  return { code: r.exitCode ?? -1, err: String(r.stderr) };
}

const asUser = (u: { username: string; password: string }) => ['-u', u.username, '-P', u.password];

test.before(async () => {
  const bin = await ensureMosquitto();
  await ensureBusyboxImage();
  port = await freePort();
  tlsPort = await freePort();
  const cfg = await execa(process.execPath, [CLI, 'mosquitto-config', '--data-dir', dir, '--listen', `127.0.0.1:${port}`, '--tls-listen', `127.0.0.1:${tlsPort}`], { reject: false });
  if (cfg.exitCode !== 0) throw new Error(`mosquitto-config failed: ${cfg.stderr}`);
  const conf = join(dir, 'mosquitto', 'mosquitto.conf');
  mosquitto = spawn(bin, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  mosquitto.stdout!.on('data', (d) => { mosquittoLog += d; });
  mosquitto.stderr!.on('data', (d) => { mosquittoLog += d; });
  await waitFor('mosquitto listening', async () => {
    if (mosquitto!.exitCode !== null) throw new Error(`mosquitto exited: ${mosquittoLog}`);
    return (await execa('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-u', CONTROLLER_USER, '-P', controllerPassword(), '-t', 'x/y', '-W', '1', '-C', '1'], { reject: false })).stderr.includes('refused') ? false : true;
  }, 15_000, 200);
  ctrl = await startController({ dir, args: ['--mqtt-url', mqttUrl()] });
  agentA = startAgent(ctrl, { nodeName: NODE_A, runtime: 'podman', mqttUrl: mqttUrl() });
  // Node B joins mosquitto's TLS listener with nothing but the K10 token.
  agentB = startAgent({ mqttUrl: `mqtts://127.0.0.1:${tlsPort}`, joinToken: ctrl.secureJoinToken }, { nodeName: NODE_B, runtime: 'simulated' });
  k = kubectl(ctrl.kubeconfig);
  for (const node of [NODE_A, NODE_B]) {
    await waitFor(`node ${node} Ready through mosquitto`, async () => {
      const r = await k(['get', 'node', node, '--no-headers'], { reject: false });
      return r.exitCode === 0 && r.stdout.split(/\s+/)[1] === 'Ready';
    }, 60_000, 500);
  }
});

test.after.always(async () => {
  await agentA?.kill();
  await agentB?.kill();
  await ctrl?.kill();
  if (mosquitto && mosquitto.exitCode === null) {
    mosquitto.kill('SIGKILL');
    await new Promise((r) => mosquitto!.once('exit', r));
  }
  await removeNodeContainers(NODE_A);
  removeDir(dir);
  if (agentA) removeDir(agentA.dir);
  if (agentB) removeDir(agentB.dir);
  if (k) removeDir(k.home);
});

test.serial('the seed pod runs through mosquitto: Running with a pod IP, HTTP, logs and exec', async (t) => {
  // the seed pod goes to the podman node; node B (simulated) is cordoned off for it
  await k(['cordon', NODE_B]);
  await k(['create', '-f', examplePath('pod-definition.yaml')]);
  const pod = await waitFor('web Running', async () => {
    const p = await getPod(k, 'web');
    return p?.status?.phase === 'Running' && p.status.podIP && p.status.containerStatuses?.[0]?.ready ? p : undefined;
  }, 90_000, 500);
  t.is(pod.spec.nodeName, NODE_A);
  t.is(await waitFor('HTTP answer', () => httpStatus(pod.status!.podIP!, 8080).catch(() => undefined), 20_000, 300), 200);
  const logs = await waitFor('logs', async () => { const o = (await k(['logs', 'web'])).stdout; return o.trim() ? o : undefined; }, 20_000, 500);
  t.true(logs.length > 0);
  t.is((await k(['exec', 'web', '--', 'echo', 'hi'])).stdout, 'hi');
  t.is((await k(['exec', 'web', '--', 'sh', '-c', 'exit 3'], { reject: false })).exitCode, 3);
  await k(['delete', 'pod', 'web', '--grace-period=1']);
});

test.serial("node A's credentials can neither publish B's status nor read B's desired state", async (t) => {
  // B has a desired set with a pod in it (the simulated runtime runs it)
  await k(['uncordon', NODE_B]);
  await k(['run', 'on-b', '--image=busybox', '--restart=Never', `--overrides={"spec":{"nodeName":"${NODE_B}"}}`, '--', 'sleep', '3600']);
  await waitFor('on-b Running', async () => (await getPod(k, 'on-b'))?.status?.phase === 'Running', 60_000, 500);
  const a = nodeCredentials(agentA!);
  t.is(a.username, NODE_A);
  const controller = { username: CONTROLLER_USER, password: controllerPassword() };

  // control: A reads its own retained desired state, the controller reads B's
  const own = await subscribe(`pikube/v1/nodes/${NODE_A}/pods`, asUser(a), 3, ['-C', '1']);
  t.true(own.out.startsWith(`pikube/v1/nodes/${NODE_A}/pods {`), own.out + own.err);
  const bAsController = await subscribe(`pikube/v1/nodes/${NODE_B}/pods`, asUser(controller), 3, ['-C', '1']);
  t.true(bAsController.out.includes('on-b'), bAsController.out + bAsController.err);

  // A asks for B's desired state, directly and by wildcard: nothing of B's arrives
  const direct = await subscribe(`pikube/v1/nodes/${NODE_B}/pods`, asUser(a), 3);
  t.false(direct.out.includes(NODE_B), direct.out);
  const wildcard = await subscribe('pikube/v1/nodes/+/pods', asUser(a), 3);
  t.false(wildcard.out.includes(`nodes/${NODE_B}/`), wildcard.out);
  t.false(wildcard.out.includes('on-b'), wildcard.out);

  // A publishes a forged status for B: the controller never sees it
  const watcher = execa('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-i', 'e2e-watch-b', ...asUser(controller), '-t', `pikube/v1/nodes/${NODE_B}/status`, '-v', '-W', '5'], { reject: false });
  await new Promise((r) => setTimeout(r, 800));
  await publish(`pikube/v1/nodes/${NODE_B}/status`, JSON.stringify({ forged: 'by-node-a' }), asUser(a));
  const watched = await watcher;
  t.false(String(watched.stdout).includes('by-node-a'), String(watched.stdout));
  // and B stays as its own agent reports it
  const node = JSON.parse((await k(['get', 'node', NODE_B, '-o', 'json'])).stdout) as { status: { conditions: { type: string; status: string }[] } };
  t.is(node.status.conditions.find((c) => c.type === 'Ready')?.status, 'True');
  await k(['delete', 'pod', 'on-b', '--grace-period=0', '--force'], { reject: false });
});

test.serial('anonymous and wrong-password clients are refused', async (t) => {
  const anon = await publish(`pikube/v1/nodes/${NODE_A}/status`, '{}', []);
  t.not(anon.code, 0);
  t.regex(anon.err, /not authori[sz]ed|refused/i);
  const anonSub = await subscribe('#', [], 2);
  t.not(anonSub.code, 0);
  t.is(anonSub.out, '');
  t.regex(anonSub.err, /not authori[sz]ed|refused/i);
  const wrong = await publish(`pikube/v1/nodes/${NODE_A}/status`, '{}', ['-u', NODE_A, '-P', 'not-the-password']);
  t.not(wrong.code, 0);
  t.regex(wrong.err, /not authori[sz]ed|refused/i);
  const wrongController = await subscribe('#', ['-u', CONTROLLER_USER, '-P', 'not-the-password'], 2);
  t.not(wrongController.code, 0);
  t.is(wrongController.out, '');
});

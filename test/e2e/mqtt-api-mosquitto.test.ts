// The Kubernetes API over MQTT with Debian's mosquitto as the broker, set up by
// `pikube mosquitto-config`: users made with `pikube user add --mqtt` get mosquitto
// passwords and ACL blocks the controller keeps current (reloading mosquitto), the
// gateway answers through mosquitto, users keep to their own topics under `pikube/` and
// share the home lab's, and `pikube user revoke` ends a user's login and connection.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { verifyMosquittoPassword } from '../../controller/broker/mosquitto-config.js';
import { startMosquitto, subscribe, MOSQUITTO_BINARY, type MosquittoHandle } from '../helpers/mosquitto.js';
import { CLI, freePort, kubectl, removeDir, startAgent, startController, waitFor, type AgentHandle, type ControllerHandle, type Kubectl } from '../helpers/processes.js';

if (!MOSQUITTO_BINARY && process.env.CI === 'true') throw new Error('mosquitto is required in CI (apt-get install -y mosquitto)');

const suffix = randomBytes(3).toString('hex');
const NODE = `mqm-${suffix}`;
const dir = mkdtempSync(join(tmpdir(), 'pikube-mqtt-mosq-'));
let port = 0;
let mosquitto: MosquittoHandle | undefined;
let ctrl: ControllerHandle | undefined;
let agent: AgentHandle | undefined;
let k: Kubectl;
const passwords = new Map<string, string>();

const auth = (user: string) => ['-h', '127.0.0.1', '-p', String(port), '-u', user, '-P', passwords.get(user)!];

async function addUser(name: string): Promise<void> {
  const r = await execa(process.execPath, [CLI, 'user', 'add', name, '--mqtt', '--data-dir', dir]);
  passwords.set(name, r.stdout.trim().split('\n').at(-1)!);
}

async function canLogIn(user: string): Promise<boolean> {
  return (await execa('mosquitto_pub', [...auth(user), '-t', `home/${suffix}/probe`, '-q', '1', '-m', 'x'], { reject: false })).exitCode === 0;
}

/** Sends one request as `user` and returns its answer. */
async function ask(user: string, request: Record<string, unknown>): Promise<any> {
  const sub = await subscribe([...auth(user), '-t', `pikube/v1/api/response/${user}/${request.id}`, '-C', '1', '-W', '15', '-q', '1']);
  await execa('mosquitto_pub', [...auth(user), '-t', `pikube/v1/api/request/${user}`, '-q', '1', '-m', JSON.stringify(request)]);
  await sub.done;
  return JSON.parse(sub.lines().join('\n'));
}

test.before(async () => {
  if (!MOSQUITTO_BINARY) return;
  port = await freePort();
  await execa(process.execPath, [CLI, 'mosquitto-config', '--data-dir', dir, '--listen', `127.0.0.1:${port}`]);
  mosquitto = await startMosquitto(join(dir, 'mosquitto', 'mosquitto.conf'), port);
  const url = `mqtt://127.0.0.1:${port}`;
  ctrl = await startController({ dir, args: ['--mqtt-url', url] });
  k = kubectl(ctrl.kubeconfig);
  agent = startAgent(ctrl, { nodeName: NODE, mqttUrl: url });
  await waitFor('node Ready through mosquitto', async () => (await k(['get', 'node', NODE, '--no-headers'], { reject: false })).stdout.includes(' Ready'), 60_000, 500);
  await k(['create', 'deployment', 'hello', '--image=localhost/busybox:latest', '--replicas=1', '--', '/bin/sleep', '3600']);
  await k(['create', 'rolebinding', 'auto-edit', '--clusterrole=edit', '--user=auto', '-n', 'default']);
  // Added while the controller runs: it writes them to mosquitto's files and reloads it.
  await addUser('auto');
  await addUser('other');
  await waitFor('both users let in by mosquitto', async () => (await canLogIn('auto')) && (await canLogIn('other')), 15_000, 300);
});

test.after.always(async () => {
  await agent?.kill();
  await ctrl?.kill();
  await mosquitto?.kill();
  removeDir(dir);
  if (agent) removeDir(agent.dir);
  if (k) removeDir(k.home);
});

test.serial('user add --mqtt stores a $7$ hash; mosquitto-config writes it and the user ACL, and keeps joined nodes', async (t) => {
  if (!MOSQUITTO_BINARY) return t.fail('mosquitto is not installed');
  const passwd = () => readFileSync(join(dir, 'mosquitto', 'passwd'), 'utf8');
  const line = passwd().split('\n').find((l) => l.startsWith('auto:'))!;
  t.true(verifyMosquittoPassword(line, passwords.get('auto')!));
  t.false(verifyMosquittoPassword(line, passwords.get('other')!));
  // Written again from scratch, the files hold the same users and the joined node.
  await execa(process.execPath, [CLI, 'mosquitto-config', '--data-dir', dir, '--listen', `127.0.0.1:${port}`]);
  t.true(passwd().split('\n').includes(line));
  t.true(passwd().split('\n').some((l) => l.startsWith(`${NODE}:$7$`)));
  const acl = readFileSync(join(dir, 'mosquitto', 'acl'), 'utf8');
  t.regex(acl, /^user auto\ntopic write pikube\/v1\/api\/request\/auto\ntopic read pikube\/v1\/api\/response\/auto\/#$/m);
  t.regex(acl, /^user other\n/m);
});

test.serial('an edit user scales a Deployment through mosquitto and gets the Scale object', async (t) => {
  if (!MOSQUITTO_BINARY) return t.fail('mosquitto is not installed');
  const answer = await ask('auto', { id: 's1', verb: 'patch', group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default', name: 'hello', subresource: 'scale', patchType: 'merge', body: { spec: { replicas: 3 } } });
  t.is(answer.code, 200);
  t.like(answer.object, { kind: 'Scale', spec: { replicas: 3 } });
  await waitFor('3 replicas', async () => (await k(['get', 'deploy', 'hello', '-o', 'jsonpath={.spec.replicas}'])).stdout === '3', 15_000);
  const forbidden = await ask('auto', { id: 'd1', verb: 'delete', version: 'v1', resource: 'nodes', name: NODE });
  t.is(forbidden.code, 403);
});

test.serial("under pikube/ a user sees only its own answers; it shares the home lab's topics", async (t) => {
  if (!MOSQUITTO_BINARY) return t.fail('mosquitto is not installed');
  // auto listens to everything it may: the cluster's retained state is there to be seen if allowed.
  const [everything, othersAnswers] = await Promise.all([
    subscribe([...auth('auto'), '-t', '#', '-v', '-W', '4']),
    subscribe([...auth('other'), '-t', 'pikube/v1/api/response/other/#', '-v', '-W', '4']),
  ]);
  await execa('mosquitto_pub', [...auth('other'), '-t', 'pikube/v1/api/request/other', '-q', '1', '-m', JSON.stringify({ id: 'o1', verb: 'get', version: 'v1', resource: 'nodes', name: NODE })]);
  // auto tries to speak for other: mosquitto drops it, so no answer reaches other.
  await execa('mosquitto_pub', [...auth('auto'), '-t', 'pikube/v1/api/request/other', '-q', '1', '-m', JSON.stringify({ id: 'forged', verb: 'get', version: 'v1', resource: 'nodes', name: NODE })], { reject: false });
  await execa('mosquitto_pub', [...auth('auto'), '-t', `home/${suffix}/lamp`, '-q', '1', '-r', '-m', 'on']);
  await everything.done;
  const seen = everything.lines();
  t.true(seen.some((l) => l === `home/${suffix}/lamp on`), seen.join('\n'));
  t.deepEqual(seen.filter((l) => l.startsWith('pikube/')), [], 'nothing of the cluster, nor other\'s answer');
  await othersAnswers.done;
  const theirs = othersAnswers.lines();
  t.is(theirs.length, 1, theirs.join('\n'));
  t.true(theirs[0]!.startsWith('pikube/v1/api/response/other/o1 '));
  // The home lab's topic, published by auto, is other's to read too.
  const lamp = await execa('mosquitto_sub', [...auth('other'), '-t', `home/${suffix}/lamp`, '-C', '1', '-W', '5']);
  t.is(String(lamp.stdout).trim(), 'on');
  // A node's desired state is not auto's to write either: the agent's view stays intact.
  await execa('mosquitto_pub', [...auth('auto'), '-t', `pikube/v1/nodes/${NODE}/status`, '-q', '1', '-m', '{"forged":true}'], { reject: false });
  const controllerSees = await subscribe(['-h', '127.0.0.1', '-p', String(port), '-u', 'pikube-controller', '-P', readFileSync(join(dir, 'mqtt-controller-password'), 'utf8').trim(), '-t', `pikube/v1/nodes/${NODE}/status`, '-v', '-W', '3']);
  await execa('mosquitto_pub', [...auth('auto'), '-t', `pikube/v1/nodes/${NODE}/status`, '-q', '1', '-m', '{"forged":true}'], { reject: false });
  await controllerSees.done;
  t.false(controllerSees.lines().some((l) => l.includes('forged')));
});

test.serial('a retained request runs once, live; after a controller restart its stored copy is dropped and cleared', async (t) => {
  if (!MOSQUITTO_BINARY) return t.fail('mosquitto is not installed');
  await execa('mosquitto_pub', [...auth('auto'), '-t', 'pikube/v1/api/request/auto', '-q', '1', '-r', '-m', JSON.stringify({ id: 'r1', verb: 'scale', group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default', name: 'hello', body: { replicas: 4 } })]);
  await waitFor('4 replicas', async () => (await k(['get', 'deploy', 'hello', '-o', 'jsonpath={.spec.replicas}'])).stdout === '4', 15_000);
  await k(['scale', 'deploy', 'hello', '--replicas=2']);
  await ctrl!.kill();
  ctrl = await ctrl!.restart();
  await waitFor('stored request dropped', () => /dropped a retained MQTT API request/.test(ctrl!.log()), 15_000);
  t.is((await k(['get', 'deploy', 'hello', '-o', 'jsonpath={.spec.replicas}'])).stdout, '2');
  const controllerAuth = ['-h', '127.0.0.1', '-p', String(port), '-u', 'pikube-controller', '-P', readFileSync(join(dir, 'mqtt-controller-password'), 'utf8').trim()];
  const stored = await execa('mosquitto_sub', [...controllerAuth, '-t', 'pikube/v1/api/request/auto', '-W', '2'], { reject: false });
  t.is(String(stored.stdout), '', 'the retained request was cleared');
});

test.serial('after pikube user revoke the login fails and the open connection is dropped', async (t) => {
  if (!MOSQUITTO_BINARY) return t.fail('mosquitto is not installed');
  const live = (await subscribe([...auth('auto'), '-i', `auto-dashboard-${suffix}`, '-t', `home/${suffix}/#`, '-W', '60'])).done;
  const revokedAt = Date.now();
  await execa(process.execPath, [CLI, 'user', 'revoke', 'auto', '--data-dir', dir]);
  await waitFor('auto refused', async () => !(await canLogIn('auto')), 10_000, 200);
  const ended = await Promise.race([live, new Promise<undefined>((r) => setTimeout(() => r(undefined), 10_000))]);
  t.truthy(ended, 'the live connection was dropped by the reload');
  t.true(Date.now() - revokedAt < 10_000);
  const refused = await execa('mosquitto_pub', [...auth('auto'), '-t', `home/${suffix}/x`, '-m', '1'], { reject: false });
  t.not(refused.exitCode, 0);
  t.regex(String(refused.stderr), /not authori[sz]ed|refused/i);
  t.false(readFileSync(join(dir, 'mosquitto', 'passwd'), 'utf8').split('\n').some((l) => l.startsWith('auto:')));
  t.notRegex(readFileSync(join(dir, 'mosquitto', 'acl'), 'utf8'), /^user auto$/m);
  // The other user is untouched.
  t.true(await canLogIn('other'));
  t.regex(ctrl!.log(), /mosquitto reloaded: MQTT API users changed/);
});

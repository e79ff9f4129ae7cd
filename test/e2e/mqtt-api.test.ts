// The Kubernetes API over MQTT with Debian's mosquitto clients against the embedded
// broker: a user made with `pikube user add --mqtt` and an `edit` RoleBinding scales a
// Deployment; RBAC refuses it a node deletion with upstream's words; a malformed request
// gets a 400 naming the field; another user's answers stay closed; a watch streams events.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { subscribe } from '../helpers/mosquitto.js';
import { CLI, kubectl, removeDir, startAgent, startController, waitFor, type AgentHandle, type ControllerHandle, type Kubectl } from '../helpers/processes.js';

const suffix = randomBytes(3).toString('hex');
const NODE = `mq-${suffix}`;
let ctrl: ControllerHandle;
let agent: AgentHandle;
let k: Kubectl;
const passwords = new Map<string, string>();

async function addUser(name: string): Promise<string> {
  const r = await execa(process.execPath, [CLI, 'user', 'add', name, '--mqtt', '--data-dir', ctrl.dir]);
  const password = r.stdout.trim().split('\n').at(-1)!;
  passwords.set(name, password);
  // The broker takes the new login on its next read of the users: wait for it.
  await waitFor(`${name} to log in`, async () => (await execa('mosquitto_pub', [...auth(name), '-t', `home/${suffix}/probe`, '-m', 'x'], { reject: false })).exitCode === 0, 10_000);
  return password;
}

const auth = (user: string) => ['-h', '127.0.0.1', '-p', String(ctrl.mqttPort), '-u', user, '-P', passwords.get(user)!];

/** Sends one request as `user` and returns the answers on its response topic (count of them). */
async function ask(user: string, request: Record<string, unknown>, count = 1): Promise<any[]> {
  const sub = await subscribe([...auth(user), '-t', `pikube/v1/api/response/${user}/${request.id}`, '-C', String(count), '-W', '15', '-q', '1']);
  await execa('mosquitto_pub', [...auth(user), '-t', `pikube/v1/api/request/${user}`, '-q', '1', '-m', JSON.stringify(request)]);
  await sub.done;
  return sub.lines().map((l) => JSON.parse(l));
}

test.before(async () => {
  ctrl = await startController();
  k = kubectl(ctrl.kubeconfig);
  agent = startAgent(ctrl, { nodeName: NODE });
  await waitFor('node Ready', async () => (await k(['get', 'node', NODE, '--no-headers'], { reject: false })).stdout.includes(' Ready'), 60_000);
  await k(['create', 'deployment', 'hello', '--image=localhost/busybox:latest', '--replicas=1', '--', '/bin/sleep', '3600']);
  await addUser('auto');
  await addUser('other');
  await k(['create', 'rolebinding', 'auto-edit', '--clusterrole=edit', '--user=auto', '-n', 'default']);
});

test.after.always(async () => {
  await agent?.kill();
  await ctrl?.kill();
  if (agent) removeDir(agent.dir);
  if (ctrl) removeDir(ctrl.dir);
  if (k) removeDir(k.home);
});

test.serial('an edit user scales a Deployment over MQTT and gets the Scale object', async (t) => {
  const [answer] = await ask('auto', { id: 's1', verb: 'patch', group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default', name: 'hello', subresource: 'scale', patchType: 'merge', body: { spec: { replicas: 3 } } });
  t.is(answer.code, 200);
  t.like(answer.object, { kind: 'Scale', spec: { replicas: 3 } });
  await waitFor('3 replicas', async () => (await k(['get', 'deploy', 'hello', '-o', 'jsonpath={.spec.replicas}'])).stdout === '3', 15_000);
  const [viaScaleVerb] = await ask('auto', { id: 's2', verb: 'scale', group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default', name: 'hello', body: { replicas: 2 } });
  t.is(viaScaleVerb.code, 200);
  t.is(viaScaleVerb.object.spec.replicas, 2);
});

test.serial('RBAC applies: deleting a node is 403 with upstream wording, and the node stays', async (t) => {
  const [answer] = await ask('auto', { id: 'd1', verb: 'delete', version: 'v1', resource: 'nodes', name: NODE });
  t.is(answer.code, 403);
  t.is(answer.status.message, `nodes "${NODE}" is forbidden: User "auto" cannot delete resource "nodes" in API group "" at the cluster scope`);
  t.is((await k(['get', 'node', NODE, '-o', 'name'])).stdout.trim(), `node/${NODE}`);
});

test.serial('a malformed request is a 400 naming the field', async (t) => {
  const [answer] = await ask('auto', { id: 'b1', verb: 'explode' });
  t.is(answer.code, 400);
  t.regex(answer.status.message, /request\.verb/);
});

test.serial("another user's answers cannot be read", async (t) => {
  const snoop = await subscribe([...auth('auto'), '-t', 'pikube/v1/api/response/other/#', '-C', '1', '-W', '5']);
  await execa('mosquitto_pub', [...auth('other'), '-t', 'pikube/v1/api/request/other', '-q', '1', '-m', JSON.stringify({ id: 'o1', verb: 'get', version: 'v1', resource: 'nodes', name: NODE })]);
  await snoop.done;
  t.deepEqual(snoop.lines(), []);
  // and nobody may speak for another user
  const forged = await execa('mosquitto_pub', [...auth('auto'), '-t', 'pikube/v1/api/request/other', '-q', '1', '-m', '{}'], { reject: false });
  t.not(forged.exitCode, 0);
});

test.serial('a watch over MQTT streams the changes until cancelled', async (t) => {
  // A watch from now on first lists what exists: its ADDED says the watch is open.
  await k(['create', 'configmap', 'watched', '--from-literal=a=1']);
  const sub = await subscribe([...auth('auto'), '-t', 'pikube/v1/api/response/auto/w1', '-C', '3', '-W', '20']);
  await execa('mosquitto_pub', [...auth('auto'), '-t', 'pikube/v1/api/request/auto', '-q', '1', '-m', JSON.stringify({ id: 'w1', verb: 'watch', version: 'v1', resource: 'configmaps', namespace: 'default', name: 'watched' })]);
  await waitFor('the watch to be open', () => sub.lines().length > 0, 10_000);
  await k(['patch', 'configmap', 'watched', '-p', '{"data":{"a":"2"}}']);
  await k(['delete', 'configmap', 'watched']);
  await sub.done;
  const events = sub.lines().map((l) => JSON.parse(l));
  t.deepEqual(events.map((e) => e.event?.type), ['ADDED', 'MODIFIED', 'DELETED']);
  const [cancelled] = await ask('auto', { id: 'w1', verb: 'cancel' });
  t.like(cancelled, { code: 200, done: true });
});

test.serial('a revoked user is cut off at once: its live connection is dropped and its watches end', async (t) => {
  await addUser('leaver');
  await k(['create', 'rolebinding', 'leaver-view', '--clusterrole=view', '--user=leaver', '-n', 'default']);
  // A dashboard's open watch, on a connection that stays up.
  const sub = await subscribe([...auth('leaver'), '-i', 'leaver-dashboard', '-t', 'pikube/v1/api/response/leaver/#', '-q', '1', '-W', '60']);
  await k(['create', 'configmap', 'present', '--from-literal=a=1']);
  await execa('mosquitto_pub', [...auth('leaver'), '-t', 'pikube/v1/api/request/leaver', '-q', '1', '-m', JSON.stringify({ id: 'lw', verb: 'watch', version: 'v1', resource: 'configmaps', namespace: 'default' })]);
  await waitFor('the watch streams', () => sub.lines().some((l) => l.includes('"present"')), 10_000);

  const revokedAt = Date.now();
  await execa(process.execPath, [CLI, 'user', 'revoke', 'leaver', '--data-dir', ctrl.dir]);
  const ended = await sub.done;
  const after = Date.now() - revokedAt;
  t.true(after < 5_000, `the connection was dropped ${after} ms after the revocation`);
  t.not(ended.exitCode, 0, 'mosquitto_sub lost its connection before its -W time-out');
  await waitFor('watch ended', () => /"user":"leaver","watches":1,"msg":"watches of a revoked MQTT user ended"/.test(ctrl.log()), 5_000);
  t.regex(ctrl.log(), /MQTT connections of revoked users dropped/);
  // and it cannot come back
  const again = await execa('mosquitto_pub', [...auth('leaver'), '-t', 'home/x', '-m', '1'], { reject: false });
  t.not(again.exitCode, 0);
  t.regex(String(again.stderr), /not authori[sz]ed|refused/i);
});

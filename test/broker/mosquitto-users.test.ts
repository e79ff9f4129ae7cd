// The MQTT API users' side of mosquitto's files: who is written (and who not), that a
// sync rewrites only when users.json changed, that revoking takes a user out while nodes
// and the cluster's own users stay, and that the ACL's denials cover every level of the
// base topic the cluster uses.
import test from 'ava';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Topics } from '../../protocol/mqtt/topics.js';
import { issueMqttPassword } from '../../controller/auth/mqtt-users.js';
import { revokeUser, updateUsers } from '../../controller/auth/user-certificates.js';
import { loadControllerPassword } from '../../controller/broker/credentials.js';
import { addNodeToMosquitto, verifyMosquittoPassword, writeMosquittoConfig } from '../../controller/broker/mosquitto-config.js';
import { CLUSTER_LEVELS, renderApiUserAcl, syncMosquittoApiUsers } from '../../controller/broker/mosquitto-users.js';
import { NodePasswords } from '../../controller/broker/node-passwords.js';
import { stateTopic } from '../../controller/homeassistant/homeassistant-topics.js';
import { cordonCommandTopic, workloadCommandTopic } from '../../controller/homeassistant/control-topics.js';
import { tempDir } from './helpers.js';

const topics = new Topics();

function addRecord(dir: string, name: string, extra: { expires?: string } = {}): void {
  updateUsers(dir, (f) => { f.users[name] = { groups: [], serials: [], ...extra }; });
}

test('sync writes unexpired MQTT users with a $7$ hash, takes revoked ones out, keeps nodes and the cluster\'s users', async (t) => {
  const dir = await tempDir('pikube-mosq-users-');
  await writeMosquittoConfig({ dataDir: dir, nodes: ['node-a'] });
  await mkdir(join(dir, 'pki'));
  const passwdPath = join(dir, 'mosquitto', 'passwd');
  const controllerLine = (await readFile(passwdPath, 'utf8')).split('\n').find((l) => l.startsWith('pikube-controller:'))!;

  for (const name of ['alice', 'bob', 'carol', 'dave', 'pikube-controller', 'node-x']) addRecord(dir, name);
  const alice = issueMqttPassword(dir, 'alice');
  issueMqttPassword(dir, 'bob');
  issueMqttPassword(dir, 'pikube-controller');
  issueMqttPassword(dir, 'node-x');
  new NodePasswords(dir).issue('node-x'); // joined as a node: the node keeps the name
  updateUsers(dir, (f) => { f.users.bob!.expires = new Date(Date.now() - 1000).toISOString(); });
  issueMqttPassword(dir, 'carol');
  updateUsers(dir, (f) => { delete f.users.carol!.mosquittoPassword; }); // made before hashes were kept

  const first = await syncMosquittoApiUsers(dir, topics);
  t.like(first, { changed: true, users: ['alice'], added: ['alice'], removed: [], unhashed: ['carol'] });
  const lines = (await readFile(passwdPath, 'utf8')).split('\n');
  t.true(verifyMosquittoPassword(lines.find((l) => l.startsWith('alice:'))!, alice));
  t.true(lines.includes(controllerLine), 'the controller keeps its own password');
  t.true(verifyMosquittoPassword(controllerLine, await loadControllerPassword(dir)));
  t.true(lines.some((l) => l.startsWith('node-a:')));
  t.false(lines.some((l) => /^(bob|carol|dave|node-x):/.test(l)));
  t.regex(await readFile(join(dir, 'mosquitto', 'acl'), 'utf8'), /^user alice$/m);

  t.false((await syncMosquittoApiUsers(dir, topics)).changed, 'nothing to write when users.json is unchanged');

  revokeUser(dir, 'alice');
  const after = await syncMosquittoApiUsers(dir, topics);
  t.like(after, { changed: true, users: [], removed: ['alice'] });
  const left = (await readFile(passwdPath, 'utf8')).split('\n');
  t.false(left.some((l) => l.startsWith('alice:')));
  t.true(left.includes(controllerLine));
  t.true(left.some((l) => l.startsWith('node-a:')));
  t.notRegex(await readFile(join(dir, 'mosquitto', 'acl'), 'utf8'), /^user alice$/m);

  // A user whose name a node then joins under: the node's line stays, the user's goes.
  addRecord(dir, 'pi-05');
  issueMqttPassword(dir, 'pi-05');
  t.like(await syncMosquittoApiUsers(dir, topics), { users: ['pi-05'] });
  const nodePassword = new NodePasswords(dir).issue('pi-05')!;
  await addNodeToMosquitto(dir, 'pi-05', nodePassword).catch(() => undefined); // no mosquitto to reload here
  t.like(await syncMosquittoApiUsers(dir, topics), { users: [] });
  t.true(verifyMosquittoPassword((await readFile(passwdPath, 'utf8')).split('\n').find((l) => l.startsWith('pi-05:'))!, nodePassword));
});

test('a user block denies every level of the base the cluster uses, and the other users\' topics', (t) => {
  const acl = renderApiUserAcl(topics, ['alice', 'bob']);
  const block = acl.split('\n\n').find((b) => b.startsWith('user alice'))!.split('\n');
  const denied = block.filter((l) => l.startsWith('topic deny ')).map((l) => l.slice('topic deny '.length));
  t.true(denied.includes('pikube/v1/api/request/bob'));
  t.true(denied.includes('pikube/v1/api/response/bob/#'));
  t.false(denied.some((f) => f.includes('alice')));
  t.is(block.at(-1), 'topic readwrite #');
  // Every topic the cluster builds under <base>/v1/, other than the API's, sits in a denied level.
  const built = [
    topics.status('n1'), topics.pods('n1'), topics.request('n1', 'logs'), topics.response('n1', 'logs'), topics.ingress('n1'),
    topics.services(), topics.clusterConfig(), topics.joinRequest('n1'), topics.joinResponse('n1'),
    stateTopic(topics, 'n1'), cordonCommandTopic(topics, 'n1'), workloadCommandTopic(topics, 'deployment', 'default', 'web', 'replicas'),
  ];
  for (const topic of built) {
    const level = topic.split('/')[2] as (typeof CLUSTER_LEVELS)[number];
    t.true(CLUSTER_LEVELS.includes(level), topic);
    t.true(denied.includes(`pikube/v1/${level}/#`), topic);
  }
});

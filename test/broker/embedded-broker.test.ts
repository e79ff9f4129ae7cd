import test from 'ava';
import { EmbeddedBroker, parseHostPort } from '../../controller/broker/embedded-broker.js';
import { BrokerCredentials, createJoinToken, ensureJoinToken } from '../../controller/broker/credentials.js';
import { JoinService } from '../../controller/broker/join-service.js';
import { MqttLink, MqttRefusedError } from '../../protocol/mqtt/link.js';
import { Topics } from '../../protocol/mqtt/topics.js';
import { obtainCredentials } from '../../agent/join.js';
import { adoptJoinedNodes } from '../../controller/broker/forget-deleted-nodes.js';
import { brokerPropertyTests } from './broker-properties.js';
import { connectLink, record, sleep, tempDir, waitUntil } from './helpers.js';

brokerPropertyTests(test, 'aedes', async () => {
  const dataDir = await tempDir();
  const broker = await EmbeddedBroker.start({ listen: '127.0.0.1:0', credentials: await BrokerCredentials.load(dataDir) });
  // node-a and node-b joined in the days of derived passwords: the controller adopts them.
  await adoptJoinedNodes(['node-a', 'node-b'], dataDir);
  return { url: broker.url, dataDir, close: () => broker.close() };
});

test('a client id belongs to its identity: no node takes another\'s, nobody takes the controller\'s', async (t) => {
  const { broker, controller, credentials } = await startBroker();
  t.teardown(async () => { await controller.end(); await broker.close(); });
  const pa = credentials.provisionNode('pi-a');
  const pb = credentials.provisionNode('pi-b');
  const victim = await connectLink(broker.url, { username: 'pi-b', password: pb, clientId: 'pikube-agent-pi-b' });
  t.teardown(() => victim.end());
  let drops = 0;
  victim.on('offline', () => drops++);
  for (const clientId of ['pikube-agent-pi-b', 'pikube-controller-1', 'join-pi-b', 'pikube-agent-pi-a-b']) {
    await t.throwsAsync(new MqttLink({ url: broker.url, clientId, username: 'pi-a', password: pa, reconnectPeriodMs: 0 }).start({ timeoutMs: 3000 }), { instanceOf: MqttRefusedError }, clientId);
  }
  await sleep(300);
  t.true(victim.connected);
  t.is(drops, 0);
  // Its own id, and suffixed ones, work.
  const own = await connectLink(broker.url, { username: 'pi-a', password: pa, clientId: 'pikube-agent-pi-a:extra' });
  await own.end();
});

const topics = new Topics();

async function startBroker() {
  const dataDir = await tempDir();
  const credentials = await BrokerCredentials.load(dataDir);
  const broker = await EmbeddedBroker.start({ listen: '127.0.0.1:0', credentials });
  const controller = await connectLink(broker.url, { username: 'pikube-controller', password: credentials.controllerPassword });
  return { dataDir, credentials, broker, controller };
}

test('parseHostPort understands host:port, [v6]:port and :port', (t) => {
  t.deepEqual(parseHostPort('127.0.0.1:1883'), { host: '127.0.0.1', port: 1883 });
  t.deepEqual(parseHostPort('[::1]:8883'), { host: '::1', port: 8883 });
  t.deepEqual(parseHostPort(':1883'), { host: '0.0.0.0', port: 1883 });
  for (const bad of ['1883', 'host', 'host:99999', 'host:', 'a:b:c']) t.throws(() => parseHostPort(bad), undefined, bad);
});

test('a joining client may only use its own join topics', async (t) => {
  const { dataDir, broker, controller } = await startBroker();
  t.teardown(async () => { await controller.end(); await broker.close(); });
  const token = await ensureJoinToken(dataDir);
  const joiner = await connectLink(broker.url, { username: 'pikube-join', password: token, clientId: 'join-node-x' });
  t.teardown(() => joiner.end());
  await t.throwsAsync(joiner.subscribe(topics.joinResponse('node-y'), () => {}), { message: /refused/ });
  await t.throwsAsync(joiner.subscribe(topics.cluster(), () => {}), { message: /refused/ });
  await joiner.subscribe(topics.joinResponse('node-x'), () => {});
  const seen = await record(controller, topics.allJoinRequests());
  await joiner.publish(topics.joinRequest('node-x'), { token, nonce: '1' });
  await waitUntil(() => seen.length === 1);
  // A joiner must not pose as another joiner, nor as a node.
  void joiner.publish(topics.joinRequest('node-y'), { token, nonce: '2' }).catch(() => undefined);
  await sleep(500);
  t.is(seen.length, 1);
  // Client ids that are not join-<valid node name> are refused outright.
  await t.throwsAsync(new MqttLink({ url: broker.url, clientId: 'join-Bad_Name', username: 'pikube-join', password: token }).start({ timeoutMs: 3000 }), { instanceOf: MqttRefusedError });
  await t.throwsAsync(new MqttLink({ url: broker.url, clientId: 'someone', username: 'pikube-join', password: token }).start({ timeoutMs: 3000 }), { instanceOf: MqttRefusedError });
});

test('a node may read cluster-wide topics and its own requests, and nothing of the controller', async (t) => {
  const { broker, controller, credentials } = await startBroker();
  t.teardown(async () => { await controller.end(); await broker.close(); });
  const node = await connectLink(broker.url, { username: 'pi-1', password: credentials.provisionNode('pi-1') });
  t.teardown(() => node.end());
  const got = await record(node, topics.cluster());
  const requests = await record(node, topics.nodeRequests('pi-1'));
  await t.throwsAsync(node.subscribe(topics.allNodes('status'), () => {}), { message: /refused/ });
  await t.throwsAsync(node.subscribe('#', () => {}), { message: /refused/ });
  await t.throwsAsync(node.subscribe(topics.nodeRequests('pi-2'), () => {}), { message: /refused/ });
  await controller.publish(topics.services(), { generation: 1, services: [] });
  await controller.publish(topics.request('pi-1', 'logs'), { op: 'cancel', transaction: 't' });
  await controller.publish(topics.request('pi-2', 'logs'), { op: 'cancel', transaction: 'other' });
  await waitUntil(() => got.length === 1 && requests.length === 1);
  await sleep(300);
  t.is(requests.length, 1);
  t.is(JSON.parse(requests[0]!.payload.toString()).transaction, 't');
});

test('tokens with a TTL work for joining until they expire', async (t) => {
  const { dataDir, broker, controller } = await startBroker();
  const service = new JoinService({ link: controller, dataDir });
  await service.start();
  t.teardown(async () => { await service.stop(); await controller.end(); await broker.close(); });
  const { token } = await createJoinToken(dataDir, 3600);
  const creds = await obtainCredentials({ mqttUrl: broker.url, nodeName: 'ttl-node', joinToken: token, dataDir: await tempDir('pikube-agent-'), timeoutMs: 5000 });
  t.is(creds.username, 'ttl-node');
});

test('the join service answers refusals for reserved or invalid names, and drops garbage', async (t) => {
  const { dataDir, broker, controller } = await startBroker();
  const service = new JoinService({ link: controller, dataDir });
  await service.start();
  t.teardown(async () => { await service.stop(); await controller.end(); await broker.close(); });
  const token = await ensureJoinToken(dataDir);
  // The controller may publish anywhere, so use it to fake requests the broker would refuse from joiners.
  const answers = await record(controller, `${topics.root}/join/+/response`);
  await controller.publish(topics.joinRequest('pikube-controller'), { token, nonce: 'n1' });
  await controller.publish(topics.joinRequest('Bad_Name'), { token, nonce: 'n2' });
  await controller.publish(topics.joinRequest('good'), { token: 'zzzzzz.zzzzzzzzzzzzzzzz', nonce: 'n3' });
  await controller.publish(topics.joinRequest('good'), { nonsense: true });
  await controller.publish(topics.joinRequest('good'), { token, nonce: 'n4' });
  await waitUntil(() => answers.length === 4);
  const byNonce = Object.fromEntries(answers.map((a) => { const p = JSON.parse(a.payload.toString()); return [p.nonce, p]; }));
  t.false(byNonce.n1.ok);
  t.false(byNonce.n2.ok);
  t.regex(byNonce.n3.error, /invalid or expired join token/);
  t.true(byNonce.n4.ok);
  t.is(byNonce.n4.username, 'good');
});

test('a node over its limits is dropped: 20 retained 5 MB messages are refused and none is kept', async (t) => {
  t.timeout(180_000);
  const { broker, controller, credentials } = await startBroker();
  t.teardown(async () => { await controller.end(); await broker.close(); });
  const password = credentials.provisionNode('pi-big');
  const big = Buffer.alloc(5 * 1024 * 1024, 'x');
  const rssBefore = process.memoryUsage().rss;
  let refused = 0;
  for (let i = 0; i < 20; i++) {
    const node = await connectLink(broker.url, { username: 'pi-big', password, reconnectPeriodMs: 0 });
    const closed = new Promise<void>((resolve) => node.once('close', () => resolve()));
    // No PUBACK comes for a refused message: wait for the broker to close the connection.
    void node.publish(topics.status('pi-big'), big, { retain: true, qos: 1 }).catch(() => undefined);
    await Promise.race([closed, sleep(8000)]);
    if (!node.connected) refused++;
    await node.end().catch(() => undefined);
  }
  t.is(refused, 20);
  // Nothing of it was retained: a late subscriber gets no status for the node.
  const seen = await record(controller, topics.status('pi-big'));
  await sleep(300);
  t.is(seen.length, 0);
  // Small retained messages still work, up to the node's retained-bytes cap.
  const node = await connectLink(broker.url, { username: 'pi-big', password });
  t.true(await node.publish(topics.status('pi-big'), { ok: true }, { retain: true, qos: 1 }));
  await waitUntil(() => seen.length === 1);
  await node.end();
  t.log(`test process RSS ${Math.round((process.memoryUsage().rss - rssBefore) / 1048576)} MB above where it started`);
});

test('the 51st failed login in a minute from one address is refused even with the right token, and logged', async (t) => {
  t.timeout(120_000);
  const dataDir = await tempDir();
  const credentials = await BrokerCredentials.load(dataDir);
  const warnings: string[] = [];
  const logger = { info() {}, warn: (_o: object, m: string) => { warnings.push(m); } };
  const broker = await EmbeddedBroker.start({ listen: '127.0.0.1:0', credentials, logger });
  t.teardown(() => broker.close());
  const token = await ensureJoinToken(dataDir);
  for (let i = 0; i < 50; i++) {
    await t.throwsAsync(new MqttLink({ url: broker.url, clientId: 'join-guess', username: 'pikube-join', password: `aaaaaa.${String(i).padStart(16, '0')}`, reconnectPeriodMs: 0 }).start({ timeoutMs: 3000 }), { instanceOf: MqttRefusedError });
  }
  await t.throwsAsync(new MqttLink({ url: broker.url, clientId: 'join-guess', username: 'pikube-join', password: token, reconnectPeriodMs: 0 }).start({ timeoutMs: 3000 }), { instanceOf: MqttRefusedError });
  t.is(warnings.filter((w) => /locked out/.test(w)).length, 1);
});

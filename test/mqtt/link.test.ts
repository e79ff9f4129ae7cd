import test from 'ava';
import { spawn, execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { EmbeddedBroker } from '../../controller/broker/embedded-broker.js';
import { BrokerCredentials } from '../../controller/broker/credentials.js';
import { MqttLink } from '../../protocol/mqtt/link.js';
import { Topics } from '../../protocol/mqtt/topics.js';
import { connectLink, freePort, record, sleep, tempDir, waitUntil } from '../broker/helpers.js';

const topics = new Topics();

async function setup(listen = '127.0.0.1:0') {
  const dataDir = await tempDir('pikube-link-');
  const credentials = await BrokerCredentials.load(dataDir);
  const broker = await EmbeddedBroker.start({ listen, credentials });
  const controller = await connectLink(broker.url, { username: 'pikube-controller', password: credentials.controllerPassword });
  return { dataDir, credentials, broker, controller };
}

test('publishes JSON, counts messages and bytes, clears retained topics with an empty payload', async (t) => {
  const { broker, controller, credentials } = await setup();
  t.teardown(async () => { await controller.end(); await broker.close(); });
  const node = await connectLink(broker.url, { username: 'pi-1', password: credentials.provisionNode('pi-1') });
  t.teardown(() => node.end());
  const seen = await record(controller, topics.status('pi-1'));
  t.true(await node.publish(topics.status('pi-1'), { a: 1 }, { retain: true, qos: 1 }));
  await waitUntil(() => seen.length === 1);
  t.deepEqual(JSON.parse(seen[0]!.payload.toString()), { a: 1 });
  t.is(node.counters.messagesSent, 1);
  t.is(node.counters.bytesSent, 7);
  t.true(controller.counters.messagesReceived >= 1);
  t.true(controller.counters.bytesReceived >= 7);

  // Retained: a late subscriber gets it; after clearing, it does not.
  const late = await connectLink(broker.url, { username: 'pikube-controller', password: credentials.controllerPassword });
  t.teardown(() => late.end());
  const lateSeen = await record(late, topics.status('pi-1'));
  await waitUntil(() => lateSeen.length === 1);
  await node.publish(topics.status('pi-1'), '', { retain: true });
  const later = await connectLink(broker.url, { username: 'pikube-controller', password: credentials.controllerPassword });
  t.teardown(() => later.end());
  const laterSeen = await record(later, topics.status('pi-1'));
  await sleep(300);
  t.is(laterSeen.length, 0);
});

test('neither the broker nor a link builds mqtt-packet\'s table of 65,536 number Buffers', async (t) => {
  const { broker, controller, credentials } = await setup();
  t.teardown(async () => { await controller.end(); await broker.close(); });
  const node = await connectLink(broker.url, { username: 'pi-1', password: credentials.provisionNode('pi-1') });
  t.teardown(() => node.end());
  const seen = await record(controller, topics.status('pi-1'));
  await node.publish(topics.status('pi-1'), { a: 1 }, { qos: 1 });
  await waitUntil(() => seen.length === 1);
  // the table the encoder fills at its first packet unless told not to (the same module instance)
  const numbers = createRequire(createRequire(import.meta.url).resolve('mqtt-packet'))('./numbers.js') as { cache: Record<number, Buffer> };
  t.is(Object.keys(numbers.cache).length, 0);
});

test('refuses to publish to wildcard topics, and rejects bad options', async (t) => {
  const { broker, controller } = await setup();
  t.teardown(async () => { await controller.end(); await broker.close(); });
  await t.throwsAsync(controller.publish('pikube/v1/nodes/+/pods', {}), { message: /wildcards/ });
  await t.throwsAsync(controller.publish('pikube/#', {}), { message: /wildcards/ });
  t.is(controller.counters.messagesSent, 0);
  t.throws(() => new MqttLink({ url: 'http://x', clientId: 'c' }), { message: /mqtt:\/\// });
  t.throws(() => new MqttLink({ url: 'mqtt://x', clientId: '' }), { message: /clientId/ });
});

test('one failing handler does not stop the others', async (t) => {
  const { broker, controller, credentials } = await setup();
  t.teardown(async () => { await controller.end(); await broker.close(); });
  const errors: Error[] = [];
  controller.on('error', (e) => errors.push(e));
  await controller.subscribe(topics.allNodes('events'), () => { throw new Error('handler bug'); });
  const seen = await record(controller, topics.allNodes('events'));
  const node = await connectLink(broker.url, { username: 'pi-2', password: credentials.provisionNode('pi-2') });
  t.teardown(() => node.end());
  await node.publish(topics.events('pi-2'), { events: [] });
  await waitUntil(() => seen.length === 1);
  t.is(errors[0]?.message, 'handler bug');
});

test('reconnects after the broker restarts, resubscribes, re-announces online and runs onConnect', async (t) => {
  const port = await freePort();
  const listen = `127.0.0.1:${port}`;
  const { dataDir, broker, controller, credentials } = await setup(listen);
  const node = new MqttLink({
    url: broker.url, clientId: 'pikube-agent-pi-3', username: 'pi-3', password: credentials.provisionNode('pi-3'),
    availabilityTopic: topics.availability('pi-3'), reconnectPeriodMs: 200,
  });
  let connects = 0;
  node.onConnect(() => { connects++; });
  const events: string[] = [];
  for (const e of ['connect', 'offline', 'reconnect', 'close'] as const) node.on(e, () => events.push(e));
  await node.start({ timeoutMs: 5000 });
  t.true(node.connected);
  const requests = await record(node, topics.nodeRequests('pi-3'));
  t.is(connects, 1);

  await controller.end();
  await broker.close();
  await waitUntil(() => !node.connected, 5000, 'link to notice the broker is gone');
  t.true(events.includes('close'));

  const broker2 = await EmbeddedBroker.start({ listen, credentials: await BrokerCredentials.load(dataDir) });
  const controller2 = await connectLink(broker2.url, { username: 'pikube-controller', password: credentials.controllerPassword });
  t.teardown(async () => { await node.end(); await controller2.end(); await broker2.close(); });
  const availability = await record(controller2, topics.availability('pi-3'));
  await waitUntil(() => connects === 2, 5000, 'reconnect');
  t.true(events.includes('reconnect'));
  await waitUntil(() => availability.some((m) => JSON.parse(m.payload.toString()).state === 'online'), 5000, 'online');
  await controller2.publish(topics.request('pi-3', 'logs'), { op: 'cancel', transaction: 'x' });
  await waitUntil(() => requests.length === 1, 5000, 'request after resubscription');

  // end() says offline itself (retained) before the clean disconnect.
  await node.end();
  await waitUntil(() => availability.some((m) => JSON.parse(m.payload.toString()).state === 'offline'), 5000, 'offline');
  t.false(node.connected);
});

test('ifConnected drops heartbeats while offline instead of queueing them', async (t) => {
  const port = await freePort();
  const { broker, controller, credentials } = await setup(`127.0.0.1:${port}`);
  const node = await connectLink(broker.url, { username: 'pi-4', password: credentials.provisionNode('pi-4') });
  await controller.end();
  await broker.close();
  await waitUntil(() => !node.connected);
  t.false(await node.publish(topics.status('pi-4'), { x: 1 }, { ifConnected: true }));
  t.is(node.counters.messagesSent, 0);
  await node.end();
});

test('the broker publishes the retained offline Will when an agent process dies', async (t) => {
  const { broker, controller, credentials } = await setup();
  t.teardown(async () => { await controller.end(); await broker.close(); });
  const availability = await record(controller, topics.availability('pi-5'));
  const script = fileURLToPath(new URL('./fixtures/availability-client.js', import.meta.url));
  const child = spawn(process.execPath, [script, broker.url, 'pi-5', credentials.provisionNode('pi-5'), topics.availability('pi-5')], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { child.kill('SIGKILL'); });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
    child.once('exit', (code) => reject(new Error(`client exited with ${code}`)));
  });
  await waitUntil(() => availability.some((m) => JSON.parse(m.payload.toString()).state === 'online'));
  child.kill('SIGKILL');
  await waitUntil(() => availability.length >= 2 && JSON.parse(availability.at(-1)!.payload.toString()).state === 'offline', 5000, 'Will');
  // Retained: a newcomer reads offline too.
  const late = await connectLink(broker.url, { username: 'pikube-controller', password: credentials.controllerPassword });
  t.teardown(() => late.end());
  const lateSeen = await record(late, topics.availability('pi-5'));
  await waitUntil(() => lateSeen.length === 1);
  t.deepEqual(JSON.parse(lateSeen[0]!.payload.toString()), { state: 'offline' });
});

test('connects over TLS with a CA, and refuses an unknown CA', async (t) => {
  const dir = await tempDir('pikube-tls-');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`], { stdio: 'ignore' });
  const cert = await readFile(`${dir}/cert.pem`);
  const key = await readFile(`${dir}/key.pem`);
  const dataDir = await tempDir('pikube-link-');
  const credentials = await BrokerCredentials.load(dataDir);
  const broker = await EmbeddedBroker.start({ listen: '127.0.0.1:0', tls: { listen: '127.0.0.1:0', cert, key }, credentials });
  t.teardown(() => broker.close());
  t.regex(broker.tlsUrl!, /^mqtts:\/\/127\.0\.0\.1:\d+$/);
  const link = await connectLink(broker.tlsUrl!, { username: 'pikube-controller', password: credentials.controllerPassword, ca: cert });
  t.true(link.connected);
  await link.end();
  const untrusted = new MqttLink({ url: broker.tlsUrl!, clientId: 'u', username: 'pikube-controller', password: credentials.controllerPassword });
  await t.throwsAsync(untrusted.start({ timeoutMs: 1500 }), { message: /could not connect/ });
});

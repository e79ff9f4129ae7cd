// The security properties every pikube broker must have, run against the embedded aedes
// broker and against a real mosquitto with the generated configuration.
import type { TestFn } from 'ava';
import { MqttLink, MqttRefusedError } from '../../protocol/mqtt/link.js';
import { Topics } from '../../protocol/mqtt/topics.js';
import { JoinService } from '../../controller/broker/join-service.js';
import { CONTROLLER_USERNAME, ensureJoinToken, loadClusterSecret, deriveNodePassword, loadControllerPassword } from '../../controller/broker/credentials.js';
import { obtainCredentials, JoinError } from '../../agent/join.js';
import { connectLink, record, sleep, tempDir, waitUntil } from './helpers.js';

export interface BrokerUnderTest {
  url: string;
  dataDir: string;
  /** 'mosquitto' when the join service must add nodes to mosquitto. */
  externalBroker?: 'mosquitto';
  close(): Promise<void>;
}

const topics = new Topics();
let ids = 0;

async function controllerLink(b: BrokerUnderTest): Promise<MqttLink> {
  return connectLink(b.url, { username: CONTROLLER_USERNAME, password: await loadControllerPassword(b.dataDir), clientId: `controller-${++ids}` });
}

async function nodeLink(b: BrokerUnderTest, node: string): Promise<MqttLink> {
  const password = deriveNodePassword(await loadClusterSecret(b.dataDir), node);
  return connectLink(b.url, { username: node, password, clientId: `pikube-agent-${node}:${++ids}` });
}

/** Registers the shared tests; `start` brings up a fresh broker whose data dir already knows node-a and node-b. */
export function brokerPropertyTests(test: TestFn, name: string, start: () => Promise<BrokerUnderTest>): void {
  const open: MqttLink[] = [];
  const track = (l: MqttLink) => { open.push(l); return l; };
  let broker: BrokerUnderTest;

  test.before(async () => { broker = await start(); });
  test.after.always(async () => {
    for (const l of open) await l.end().catch(() => undefined);
    await broker?.close();
  });

  test.serial(`${name}: anonymous clients are refused`, async (t) => {
    const link = new MqttLink({ url: broker.url, clientId: 'anon' });
    const err = await t.throwsAsync(link.start({ timeoutMs: 5000 }), { instanceOf: MqttRefusedError });
    t.true(err!.code === 5 || err!.code === 4, `refusal code ${err!.code}`);
  });

  test.serial(`${name}: wrong passwords are refused`, async (t) => {
    for (const [username, clientId] of [['node-a', 'a'], [CONTROLLER_USERNAME, 'c'], ['pikube-join', 'join-node-z']] as const) {
      const link = new MqttLink({ url: broker.url, clientId, username, password: 'wrong-password' });
      await t.throwsAsync(link.start({ timeoutMs: 5000 }), { instanceOf: MqttRefusedError }, username);
    }
    // The right password for another node does not work either.
    const bPassword = deriveNodePassword(await loadClusterSecret(broker.dataDir), 'node-b');
    await t.throwsAsync(new MqttLink({ url: broker.url, clientId: 'x', username: 'node-a', password: bPassword }).start({ timeoutMs: 5000 }), { instanceOf: MqttRefusedError });
  });

  test.serial(`${name}: a node cannot publish under another node's topics`, async (t) => {
    const controller = track(await controllerLink(broker));
    const seen = await record(controller, topics.allNodes('status'));
    const a = track(await nodeLink(broker, 'node-a'));
    await a.publish(topics.status('node-a'), { mine: true }, { qos: 1 });
    await waitUntil(() => seen.some((m) => m.topic === topics.status('node-a')), 5000, 'own status');
    // Not awaited: a broker may drop the publication or the connection.
    void a.publish(topics.status('node-b'), { forged: true }, { qos: 1 }).catch(() => undefined);
    void a.publish(topics.pods('node-a'), { generation: 99, pods: [] }, { qos: 1 }).catch(() => undefined);
    const podsSeen = await record(controller, topics.pods('node-a'));
    await sleep(800);
    t.false(seen.some((m) => m.topic === topics.status('node-b')), 'forged status must not arrive');
    t.is(podsSeen.length, 0, 'a node must not write its own desired state');
  });

  test.serial(`${name}: a node never receives another node's retained desired state`, async (t) => {
    const controller = track(await controllerLink(broker));
    await controller.publish(topics.pods('node-b'), { generation: 1, pods: [], secret: 'for-b' }, { retain: true, qos: 1 });
    await controller.publish(topics.pods('node-a'), { generation: 1, pods: [] }, { retain: true, qos: 1 });
    const a = track(await nodeLink(broker, 'node-a'));
    const got: string[] = [];
    // Try to read B's desired state directly and by wildcard; a broker may refuse the subscription or filter deliveries.
    for (const filter of [topics.pods('node-b'), topics.allNodes('pods'), `${topics.root}/nodes/#`]) {
      await a.subscribe(filter, (topic) => got.push(topic)).catch(() => undefined);
    }
    await a.subscribe(topics.pods('node-a'), (topic) => got.push(`own:${topic}`));
    await waitUntil(() => got.includes(`own:${topics.pods('node-a')}`), 5000, "node-a's own retained pods");
    await sleep(500);
    t.false(got.includes(topics.pods('node-b')), `received: ${got.join(', ')}`);
    // Clear the retained messages again.
    await controller.publish(topics.pods('node-b'), '', { retain: true });
    await controller.publish(topics.pods('node-a'), '', { retain: true });
  });

  test.serial(`${name}: joining with a bad token fails, a good one gives working credentials`, async (t) => {
    const controller = track(await controllerLink(broker));
    const service = new JoinService({ link: controller, dataDir: broker.dataDir, externalBroker: broker.externalBroker });
    await service.start();
    const agentDir = await tempDir('pikube-agent-');
    const err = await t.throwsAsync(obtainCredentials({
      mqttUrl: broker.url, nodeName: 'node-new', joinToken: 'aaaaaa.bbbbbbbbbbbbbbbb', dataDir: agentDir, timeoutMs: 5000,
    }), { instanceOf: JoinError });
    t.regex(err!.message, /refused/);

    if (broker.externalBroker === 'mosquitto') {
      // Not in mosquitto's password file yet: even the right password is refused until the join.
      const early = new MqttLink({ url: broker.url, clientId: 'node-new-early', username: 'node-new', password: deriveNodePassword(await loadClusterSecret(broker.dataDir), 'node-new') });
      await t.throwsAsync(early.start({ timeoutMs: 5000 }), { instanceOf: MqttRefusedError });
    }
    const joinToken = await ensureJoinToken(broker.dataDir);
    const creds = await obtainCredentials({ mqttUrl: broker.url, nodeName: 'node-new', joinToken, dataDir: agentDir, timeoutMs: 10_000 });
    t.is(creds.username, 'node-new');
    // A second call reuses the saved credentials without asking (a bogus token would fail otherwise).
    t.deepEqual(await obtainCredentials({ mqttUrl: broker.url, nodeName: 'node-new', joinToken: 'bogus', dataDir: agentDir }), creds);

    // The credentials work: the new node publishes its status and the controller sees it.
    const seen = await record(controller, topics.status('node-new'));
    const node = track(await connectLink(broker.url, { username: creds.username, password: creds.password, clientId: 'pikube-agent-node-new' }));
    await node.publish(topics.status('node-new'), { hello: 1 }, { qos: 1 });
    await waitUntil(() => seen.length === 1, 5000, 'status of the joined node');
    t.pass();
    await service.stop();
  });
}

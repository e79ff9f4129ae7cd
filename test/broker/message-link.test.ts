// One contract, two links: the controller's network client (MqttLink) and its in-process
// link to the embedded broker (InProcessLink) must look the same to the bridge, the join
// service and the rest. Every case runs against both, with a real node client on the
// other side of a real embedded broker.
import test from 'ava';
import { EmbeddedBroker } from '../../controller/broker/embedded-broker.js';
import { BrokerCredentials } from '../../controller/broker/credentials.js';
import { InProcessLink } from '../../controller/broker/in-process-link.js';
import type { MessageLink } from '../../protocol/mqtt/link.js';
import { Topics } from '../../protocol/mqtt/topics.js';
import { connectLink, sleep, tempDir, waitUntil } from './helpers.js';

const topics = new Topics();

interface Setup { link: MessageLink; node: MessageLink; close(): Promise<void> }

const LINKS: Record<string, (broker: EmbeddedBroker, credentials: BrokerCredentials) => Promise<MessageLink>> = {
  'network client': (broker, credentials) => connectLink(broker.url, { username: 'pikube-controller', password: credentials.controllerPassword }),
  'in process': async (broker) => new InProcessLink(broker.port()),
};

async function setUp(kind: string): Promise<Setup> {
  const credentials = await BrokerCredentials.load(await tempDir());
  const broker = await EmbeddedBroker.start({ listen: '127.0.0.1:0', credentials });
  const link = await LINKS[kind]!(broker, credentials);
  const node = await connectLink(broker.url, { username: 'pi-a', password: credentials.provisionNode('pi-a'), clientId: 'pikube-agent-pi-a' });
  return { link, node, close: async () => { await node.end(); await link.end(); await broker.close(); } };
}

type Got = { topic: string; body: string; retain: boolean }[];
const recorder = (got: Got) => (topic: string, payload: Buffer, info: { retain: boolean }) => got.push({ topic, body: payload.toString(), retain: info.retain });

for (const kind of Object.keys(LINKS)) {
  test(`${kind}: a node's messages reach the subscriber, live ones without retain; what the link publishes reaches the node`, async (t) => {
    const s = await setUp(kind);
    t.teardown(() => s.close());
    const got: Got = [];
    await s.link.subscribe(topics.allNodes('status'), recorder(got));
    await s.node.publish(topics.status('pi-a'), { n: 1 }, { retain: true });
    await waitUntil(() => got.length === 1, 5000, 'the status');
    t.deepEqual(got, [{ topic: topics.status('pi-a'), body: '{"n":1}', retain: false }]);
    t.true(s.link.connected);

    const toNode: Got = [];
    await s.node.subscribe(topics.pods('pi-a'), recorder(toNode));
    t.true(await s.link.publish(topics.pods('pi-a'), { generation: 1, pods: [] }, { retain: true }));
    await waitUntil(() => toNode.length === 1, 5000, 'the desired set');
    t.is(toNode[0]!.body, '{"generation":1,"pods":[]}');
    t.is(s.link.counters.messagesSent, 1);
    t.is(s.link.counters.messagesReceived, 1);
  });

  test(`${kind}: a subscription is sent the stored messages it matches, marked retain; a cleared topic is not`, async (t) => {
    const s = await setUp(kind);
    t.teardown(() => s.close());
    await s.node.publish(topics.status('pi-a'), { stored: true }, { retain: true });
    await s.link.publish(topics.pods('pi-b'), { generation: 2, pods: [] }, { retain: true });
    await s.link.publish(topics.pods('pi-b'), '', { retain: true });
    const got: Got = [];
    await s.link.subscribe(topics.allNodes('status'), recorder(got));
    const desired: Got = [];
    await s.link.subscribe(topics.allNodes('pods'), recorder(desired));
    await waitUntil(() => got.length === 1, 5000, 'the stored status');
    await sleep(200);
    t.deepEqual(got, [{ topic: topics.status('pi-a'), body: '{"stored":true}', retain: true }]);
    t.deepEqual(desired, []);
  });

  test(`${kind}: unsubscribing one handler keeps the others; the last one ends delivery; a throwing handler harms no other`, async (t) => {
    const s = await setUp(kind);
    t.teardown(() => s.close());
    const errors: Error[] = [];
    s.link.on('error', (err) => errors.push(err));
    const a: Got = [];
    const b: Got = [];
    const filter = topics.allNodes('status');
    const offThrower = await s.link.subscribe(filter, () => { throw new Error('broken handler'); });
    const offA = await s.link.subscribe(filter, recorder(a));
    const offB = await s.link.subscribe(filter, recorder(b));
    await s.node.publish(topics.status('pi-a'), { n: 1 });
    await waitUntil(() => a.length === 1 && b.length === 1, 5000, 'both handlers');
    t.true(errors.some((e) => e.message === 'broken handler'));
    await offThrower();
    await offA();
    await s.node.publish(topics.status('pi-a'), { n: 2 });
    await waitUntil(() => b.length === 2, 5000, 'the second status');
    t.is(a.length, 1);
    await offB();
    await s.node.publish(topics.status('pi-a'), { n: 3 });
    await sleep(300);
    t.is(b.length, 2);
  });

  test(`${kind}: after end() nothing is delivered, a publish is refused, and one that may be dropped is`, async (t) => {
    const s = await setUp(kind);
    t.teardown(() => s.close());
    const got: Got = [];
    await s.link.subscribe(topics.allNodes('status'), recorder(got));
    await s.link.end();
    t.false(s.link.connected);
    await s.node.publish(topics.status('pi-a'), { n: 1 });
    await sleep(300);
    t.deepEqual(got, []);
    t.false(await s.link.publish(topics.pods('pi-a'), {}, { ifConnected: true }));
    await t.throwsAsync(s.link.publish(topics.pods('pi-a'), { x: 1 }, { qos: 1 }).then((sent) => { if (!sent) throw new Error('dropped'); }));
    await t.throwsAsync(s.link.publish('pikube/v1/nodes/+/pods', {}), { message: /wildcards/ });
  });
}

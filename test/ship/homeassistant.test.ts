// Home Assistant discovery against real Debian Mosquitto: a controller with --homeassistant
// on an external broker, two simulated agents, and a subscriber logged in as Home
// Assistant's own MQTT user (so the generated ACL is exercised too).
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { writeMosquittoConfig, HOMEASSISTANT_PASSWORD_FILE } from '../../controller/broker/mosquitto-config.js';
import { discoveryMessages } from '../../controller/homeassistant/node-discovery.js';
import { HOMEASSISTANT_USERNAME, haNodeId } from '../../controller/homeassistant/homeassistant-topics.js';
import { HomeAssistantPublisher } from '../../controller/homeassistant/publisher.js';
import { SharedInformers } from '../../controller/client/shared-informers.js';
import { R } from '../../controller/apiserver/client.js';
import { pino } from 'pino';
import { startTestCluster } from '../helpers/cluster.js';
import { MqttLink } from '../../protocol/mqtt/link.js';
import { Topics } from '../../protocol/mqtt/topics.js';
import { CLI, freePort, kubectl, startAgent, startController, waitFor, type AgentHandle, type ControllerHandle } from '../helpers/processes.js';

const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find(existsSync);
if (!MOSQUITTO && process.env.CI === 'true') throw new Error('mosquitto is required in CI (apt-get install -y mosquitto)');

const suffix = randomBytes(3).toString('hex');
const NODES = [`ha-a-${suffix}`, `ha-b-${suffix}`];
const OBJECTS = ['sensor/cpu', 'sensor/memory', 'sensor/pods', 'binary_sensor/online'];
const configTopic = (node: string, o: string) => `homeassistant/${o.split('/')[0]}/${haNodeId(node)}/${o.split('/')[1]}/config`;

let mosquitto: ChildProcess | undefined;
let controller: ControllerHandle | undefined;
const agents: AgentHandle[] = [];
const links: MqttLink[] = [];
const dirs: string[] = [];

test.after.always(async () => {
  for (const l of links) await l.end().catch(() => undefined);
  for (const a of agents) await a.kill();
  await controller?.kill();
  if (mosquitto && mosquitto.exitCode === null) {
    mosquitto.kill('SIGKILL');
    await new Promise((r) => mosquitto!.once('exit', r));
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function startMosquitto(conf: string, port: number): Promise<ChildProcess> {
  const child = spawn(MOSQUITTO!, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  await waitFor('mosquitto to listen', async () => {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${stderr}`);
    return new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
  }, 10_000, 50);
  return child;
}

interface Received { topic: string; body: string; at: number }

/** Home Assistant's side: its own MQTT user, recording everything it is allowed to see. */
async function homeAssistant(url: string, password: string): Promise<{ link: MqttLink; got: Received[] }> {
  const link = new MqttLink({ url, clientId: `ha-${suffix}-${links.length}`, username: HOMEASSISTANT_USERNAME, password, reconnectPeriodMs: 200 });
  links.push(link);
  await link.start({ timeoutMs: 5000 });
  const got: Received[] = [];
  const rec = (topic: string, payload: Buffer) => got.push({ topic, body: payload.toString('utf8'), at: Date.now() });
  await link.subscribe('homeassistant/#', rec);
  await link.subscribe('pikube/v1/homeassistant/#', rec);
  await link.subscribe('pikube/v1/nodes/+/availability', rec);
  return { link, got };
}

const latest = (got: Received[], topic: string) => got.filter((m) => m.topic === topic).pop();

test('discovery configs appear for each node, follow Home Assistant restarts and vanish with the node', async (t) => {
  if (!MOSQUITTO) return t.fail('mosquitto is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'pikube-ha-'));
  dirs.push(dir);
  const port = await freePort();
  const files = await writeMosquittoConfig({ dataDir: dir, listen: `127.0.0.1:${port}`, homeassistant: true });
  t.regex(readFileSync(files.acl, 'utf8'), /^user home_assistant\ntopic readwrite homeassistant\/#$/m);
  mosquitto = await startMosquitto(files.conf, port);
  const mqttUrl = `mqtt://127.0.0.1:${port}`;
  controller = await startController({ dir, args: ['--mqtt-url', mqttUrl, '--homeassistant', '--homeassistant-user', 'ha-bot'] });
  for (const nodeName of NODES) agents.push(startAgent(controller, { nodeName, mqttUrl }));
  const k = kubectl(controller.kubeconfig);
  await waitFor('both nodes Ready', async () => {
    const out = (await k(['get', 'nodes', '--no-headers'], { reject: false })).stdout;
    return NODES.every((n) => new RegExp(`^${n}\\s+Ready\\b`, 'm').test(out));
  }, 90_000, 500);

  const haPassword = readFileSync(join(dir, HOMEASSISTANT_PASSWORD_FILE), 'utf8').trim();
  const ha = await homeAssistant(mqttUrl, haPassword);
  await waitFor('retained discovery configs and state for both nodes', () =>
    NODES.every((n) => OBJECTS.every((o) => latest(ha.got, configTopic(n, o))?.body)
      && latest(ha.got, `pikube/v1/homeassistant/${n}/state`) && latest(ha.got, `pikube/v1/nodes/${n}/availability`)), 30_000);

  for (const node of NODES) {
    const id = haNodeId(node);
    for (const o of OBJECTS) {
      const config = JSON.parse(latest(ha.got, configTopic(node, o))!.body);
      t.is(config.unique_id, `${id}_${o.split('/')[1]}`);
      t.deepEqual(config.device.identifiers, [id]);
      t.is(config.device.name, node);
      t.is(config.device.manufacturer, 'pikube');
      t.truthy(config.origin?.name);
      t.is(config.availability[0].topic, `pikube/v1/nodes/${node}/availability`);
      t.truthy(config.value_template);
      t.is(config.state_topic, o === 'binary_sensor/online' ? `pikube/v1/nodes/${node}/availability` : `pikube/v1/homeassistant/${node}/state`);
    }
    // The simulated board reports no temperature, so there is no temperature sensor.
    t.is(latest(ha.got, configTopic(node, 'sensor/temperature')), undefined);
    const state = JSON.parse(latest(ha.got, `pikube/v1/homeassistant/${node}/state`)!.body);
    t.is(typeof state.cpu_percent, 'number');
    t.true(state.memory_percent > 0 && state.memory_percent <= 100);
    t.is(state.pods_running, 0);
    // Home Assistant can read the state its binary sensor and availability point at.
    t.is(JSON.parse(latest(ha.got, `pikube/v1/nodes/${node}/availability`)!.body).state, 'online');
  }

  // Controls: a cordon switch per node, and a replicas number and a restart button for an
  // annotated Deployment; commands run as --homeassistant-user, within its RBAC rights.
  for (const node of NODES) {
    const sw = await waitFor(`cordon switch of ${node}`, () => latest(ha.got, `homeassistant/switch/${haNodeId(node)}/cordon/config`)?.body, 10_000);
    t.like(JSON.parse(sw), { command_topic: `pikube/v1/homeassistant/${node}/cordon/set`, state_topic: `pikube/v1/homeassistant/${node}/cordon/state` });
  }
  await execa(process.execPath, [CLI, 'user', 'add', 'ha-bot', '--data-dir', dir]);
  await k(['create', 'rolebinding', 'ha-bot-edit', '--clusterrole=edit', '--user=ha-bot', '-n', 'default']);
  await k(['create', 'deployment', 'lamp', '--image=localhost/busybox:latest', '--replicas=1', '--', '/bin/sleep', '3600']);
  await k(['annotate', 'deployment', 'lamp', 'pikube.io/homeassistant=true']);
  const numberTopic = 'homeassistant/number/pikube_deployment_default_lamp/replicas/config';
  const number = JSON.parse(await waitFor('replicas number', () => latest(ha.got, numberTopic)?.body, 10_000));
  // each entity's config is its own retained topic, published on its own
  await waitFor('restart button', () => latest(ha.got, 'homeassistant/button/pikube_deployment_default_lamp/restart/config')?.body, 10_000);
  await execa('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-u', HOMEASSISTANT_USERNAME, '-P', haPassword, '-q', '1', '-t', number.command_topic, '-m', '3']);
  await waitFor('lamp scaled to 3 from Home Assistant', async () => (await k(['get', 'deploy', 'lamp', '-o', 'jsonpath={.spec.replicas}'])).stdout === '3', 15_000);
  await k(['scale', 'deployment', 'lamp', '--replicas=2']);
  const scaledAt = Date.now();
  await waitFor('state topic follows kubectl scale', () => ha.got.some((m) => m.topic === number.state_topic && m.at >= scaledAt && JSON.parse(m.body).replicas === 2), 5_000, 50);
  t.true(Date.now() - scaledAt < 1_500, 'state within a second or so of the change');
  // Home Assistant may not do more than its user: cordon needs rights on nodes it lacks.
  await execa('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-u', HOMEASSISTANT_USERNAME, '-P', haPassword, '-q', '1', '-t', `pikube/v1/homeassistant/${NODES[1]}/cordon/set`, '-m', 'ON']);
  await waitFor('refusal logged', () => /home assistant command refused/.test(controller!.log()), 10_000);
  t.is((await k(['get', 'node', NODES[1]!, '-o', 'jsonpath={.spec.unschedulable}'])).stdout, '');

  // Home Assistant restarts: it says `online` and gets every config again.
  const before = Date.now();
  // A plain `online`, as Home Assistant sends it, from its own user.
  await execa('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-u', HOMEASSISTANT_USERNAME, '-P', haPassword, '-q', '1', '-t', 'homeassistant/status', '-m', 'online']);
  await waitFor('configs announced again', () =>
    NODES.every((n) => OBJECTS.every((o) => ha.got.some((m) => m.topic === configTopic(n, o) && m.at >= before && m.body))), 15_000);

  // The node goes away for good: its agent dies, then it is deleted.
  const [gone, kept] = NODES as [string, string];
  await agents[0]!.kill();
  await k(['delete', 'node', gone]);
  await waitFor('configs cleared', () => [...OBJECTS, 'sensor/temperature'].every((o) => latest(ha.got, configTopic(gone, o))?.body === ''), 15_000);
  t.is(latest(ha.got, `pikube/v1/homeassistant/${gone}/state`)?.body, '');

  // A newcomer (or a restarted Home Assistant) sees the remaining node only.
  const fresh = await homeAssistant(mqttUrl, haPassword);
  await waitFor('retained configs of the remaining node', () => OBJECTS.every((o) => latest(fresh.got, configTopic(kept, o))?.body), 10_000);
  await new Promise((r) => setTimeout(r, 500));
  t.false(fresh.got.some((m) => m.topic.includes(haNodeId(gone)) && m.body !== ''));
});

test('discovery ids are sanitised and the temperature sensor needs a reading', (t) => {
  const topics = new Topics('pikube');
  const withTemp = discoveryMessages(topics, { name: 'pi.lab-1', model: 'm', swVersion: 'v', hasTemperature: true }, 'v');
  const ids = withTemp.map((m) => m.payload.unique_id as string);
  t.true(ids.every((id) => /^[a-zA-Z0-9_-]+$/.test(id)));
  t.true(withTemp.every((m) => m.topic.startsWith('homeassistant/') && m.topic.includes('/pikube_pi_lab-1/')));
  const temp = withTemp.find((m) => m.topic.includes('/temperature/'))!;
  t.is(temp.payload.device_class, 'temperature');
  t.is(temp.payload.unit_of_measurement, '°C');
  t.is(temp.payload.state_topic, 'pikube/v1/homeassistant/pi.lab-1/state');
  const without = discoveryMessages(topics, { name: 'pi.lab-1', model: 'm', swVersion: 'v', hasTemperature: false }, 'v');
  t.false(without.some((m) => m.topic.includes('/temperature/')));
});

test('state is throttled per node, follows running pods, and a temperature reading adds its sensor', async (t) => {
  const cluster = await startTestCluster();
  const informers = new SharedInformers(cluster.client);
  const sent: { topic: string; payload: unknown; at: number }[] = [];
  const fakeLink = {
    publish: async (topic: string, payload: unknown) => { sent.push({ topic, payload, at: Date.now() }); return true; },
    subscribe: async () => async () => undefined,
    onConnect: () => () => undefined,
  } as unknown as MqttLink;
  const topics = new Topics('pikube');
  const ha = new HomeAssistantPublisher({
    link: fakeLink, topics, telemetry: cluster.telemetry, informers, log: pino({ level: 'silent' }), version: 'test', minIntervalMs: 300, refreshMs: 60_000,
  });
  t.teardown(async () => { await ha.stop(); informers.stop(); await cluster.stop(); });
  await ha.start();
  const node = 'pi-throttle';
  const usage = (cpu: number, temperatureC?: number) => cluster.telemetry.update(node, {
    online: true, lastSeen: Date.now(), usage: { cpuCores: cpu, memoryBytes: 2 ** 30 }, capacity: { cpuCores: 4, memoryBytes: 4 * 2 ** 30, pods: 110 }, ...(temperatureC !== undefined ? { temperatureC } : {}),
  });
  usage(1);
  await cluster.client.create(R.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: node }, spec: {} });
  const stateTopicName = `pikube/v1/homeassistant/${node}/state`;
  const states = () => sent.filter((m) => m.topic === stateTopicName);
  await waitFor('first state', () => states().length === 1, 2000, 20);
  t.deepEqual(states()[0]!.payload, { cpu_percent: 25, memory_percent: 25, pods_running: 0 });
  t.false(sent.some((m) => m.topic.includes('/temperature/')));

  // Ten readings within 200 ms: one more message, at least minIntervalMs after the first, with the last value.
  for (let i = 0; i < 10; i++) { usage(0.4 * i); await new Promise((r) => setTimeout(r, 20)); }
  await new Promise((r) => setTimeout(r, 500));
  t.is(states().length, 2);
  t.true(states()[1]!.at - states()[0]!.at >= 290);
  t.is((states()[1]!.payload as { cpu_percent: number }).cpu_percent, 90);

  // A running pod on the node counts; a temperature reading announces the temperature sensor.
  await cluster.client.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', namespace: 'default' }, spec: { nodeName: node, containers: [{ name: 'c', image: 'i' }] } });
  await cluster.client.patch(R.pods, 'default', 'p1', { status: { phase: 'Running' } }, 'status');
  usage(0.4, 48.26);
  await waitFor('pod counted and temperature announced', () => {
    const last = states().pop()?.payload as { pods_running?: number; temperature_c?: number } | undefined;
    return last?.pods_running === 1 && last.temperature_c === 48.3 && sent.some((m) => m.topic === `homeassistant/sensor/pikube_pi-throttle/temperature/config` && m.payload !== '');
  }, 3000, 20);
  // Unchanged readings send nothing.
  const count = states().length;
  usage(0.4, 48.26);
  await new Promise((r) => setTimeout(r, 400));
  t.is(states().length, count);
});

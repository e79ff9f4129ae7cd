// TopicBinding end to end: a home-lab device's MQTT topic (published with Debian's
// mosquitto_pub) taints a node within a second; a new pod without a toleration stays
// Pending with the scheduler's message; the opposite value lifts the taint and the pod
// runs; the status records the value and the nodes; a topic under the cluster's own base
// is refused; deleting the binding takes its taint away.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { CLI, kubectl, removeDir, startAgent, startController, waitFor, type AgentHandle, type ControllerHandle, type Kubectl } from '../helpers/processes.js';
import { ClusterApi } from './cluster-api.js';

const suffix = randomBytes(3).toString('hex');
const NODE = `tb-${suffix}`;
const TOPIC = `home/ups-${suffix}/on_battery`;
let ctrl: ControllerHandle;
let agent: AgentHandle;
let k: Kubectl;
let api: ClusterApi;

interface NodeLike { spec?: { taints?: { key: string; effect: string }[] } }
const taintKeys = async () => ((await api.get<NodeLike>(`/api/v1/nodes/${NODE}`)).spec?.taints ?? []).map((t) => t.key);

let devicePassword = '';
/** Publishes as a device of the home lab would (retained, like a UPS bridge does), as an MQTT user. */
async function publish(value: string): Promise<void> {
  await execa('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(ctrl.mqttPort), '-u', 'ups-bridge', '-P', devicePassword, '-t', TOPIC, '-r', '-q', '1', '-m', value]);
}

test.before(async () => {
  ctrl = await startController();
  k = kubectl(ctrl.kubeconfig);
  api = ClusterApi.forController(ctrl);
  agent = startAgent(ctrl, { nodeName: NODE });
  devicePassword = (await execa(process.execPath, [CLI, 'user', 'add', 'ups-bridge', '--mqtt', '--data-dir', ctrl.dir])).stdout.trim().split('\n').at(-1)!;
  await waitFor('node Ready', async () => (await k(['get', 'node', NODE, '--no-headers'], { reject: false })).stdout.includes(' Ready'), 60_000);
});

test.after.always(async () => {
  await agent?.kill();
  await ctrl?.kill();
  if (agent) removeDir(agent.dir);
  if (ctrl) removeDir(ctrl.dir);
  if (k) removeDir(k.home);
});

test.serial('kubectl serves the kind: discovery, schema validation and its columns', async (t) => {
  const resources = await k(['api-resources', '--api-group=pikube.io', '--no-headers']);
  t.regex(resources.stdout, /topicbindings\s+tb\s+pikube\.io\/v1\s+false\s+TopicBinding/);
  const bad = await k(['apply', '-f', '-'], { reject: false, input: `apiVersion: pikube.io/v1\nkind: TopicBinding\nmetadata: {name: bad}\nspec: {topic: x, when: {equals: "1"}, taint: {key: k, effect: Sometimes}}\n` });
  t.not(bad.exitCode, 0);
  t.regex(bad.stderr, /spec\.taint\.effect/);
});

test.serial('a true value taints the node within a second; a new pod waits; false lifts it and the pod runs', async (t) => {
  await k(['apply', '-f', '-'], { input: `apiVersion: pikube.io/v1\nkind: TopicBinding\nmetadata: {name: ups}\nspec:\n  topic: ${TOPIC}\n  when: {equals: "true"}\n  taint: {key: pikube.io/on-battery, effect: NoSchedule}\n` });
  await waitFor('the binding to follow its topic', async () => (await api.get<{ metadata: { finalizers?: string[] } }>('/apis/pikube.io/v1/topicbindings/ups')).metadata.finalizers?.length, 10_000);
  const sent = Date.now();
  await publish('true');
  await waitFor('the taint', async () => (await taintKeys()).includes('pikube.io/on-battery'), 5_000, 50);
  const tookMs = Date.now() - sent;
  t.log(`true → taint on the node: ${tookMs} ms`);
  t.true(tookMs < 1_000, `took ${tookMs} ms`);

  await k(['run', 'late', '--image=localhost/busybox:latest', '--', '/bin/sleep', '3600']);
  await waitFor('FailedScheduling', async () => (await k(['describe', 'pod', 'late'])).stdout.includes("untolerated taint {pikube.io/on-battery: }"), 15_000);
  t.is((await k(['get', 'pod', 'late', '-o', 'jsonpath={.status.phase}'])).stdout, 'Pending');
  const table = await k(['get', 'topicbinding', 'ups', '--no-headers']);
  t.regex(table.stdout, new RegExp(`^ups\\s+${TOPIC.replace(/\//g, '\\/')}\\s+true\\s+true`));

  await publish('false');
  await waitFor('the taint to go', async () => !(await taintKeys()).includes('pikube.io/on-battery'), 5_000, 50);
  await waitFor('the pod to run', async () => (await k(['get', 'pod', 'late', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', 30_000);
  const status = (await api.get<{ status: { active: boolean; lastValue: string; nodes: string[]; lastTransitionTime: string } }>('/apis/pikube.io/v1/topicbindings/ups')).status;
  t.like(status, { active: false, lastValue: 'false', nodes: [] });
  t.truthy(status.lastTransitionTime);
  const events = (await k(['get', 'events', '--field-selector', 'involvedObject.name=ups', '-o', 'jsonpath={.items[*].reason}'])).stdout;
  t.regex(events, /Activated/);
  t.regex(events, /Deactivated/);
});

test.serial('deleting an active binding takes its taint off; a topic under the cluster base is refused', async (t) => {
  await publish('true');
  await waitFor('the taint', async () => (await taintKeys()).includes('pikube.io/on-battery'), 5_000, 50);
  await k(['delete', 'topicbinding', 'ups', '--wait=true', '--timeout=20s']);
  t.false((await taintKeys()).includes('pikube.io/on-battery'));

  await k(['apply', '-f', '-'], { input: `apiVersion: pikube.io/v1\nkind: TopicBinding\nmetadata: {name: snoop}\nspec:\n  topic: pikube/v1/nodes/${NODE}/pods\n  when: {equals: "x"}\n  labels: {snooped: "yes"}\n` });
  const message = await waitFor('the refusal', async () => (await api.get<{ status?: { message?: string } }>('/apis/pikube.io/v1/topicbindings/snoop')).status?.message, 10_000);
  t.regex(message, /under the cluster's own base topic/);
});

// The scheduler works as system:kube-scheduler under RBAC, not as admin: with the binding
// right taken out of its bootstrap role, pods stay Pending and each refusal is logged under
// its name; with the right back, they are placed. The MQTT bridge likewise works as
// system:pikube-bridge. Real controller, simulated agent, kubectl.
import test from 'ava';
import { kubectl, removeDir, startAgent, startController, waitFor, type AgentHandle, type ControllerHandle, type Kubectl } from '../helpers/processes.js';

let ctrl: ControllerHandle;
let agent: AgentHandle;
let k: Kubectl;
const NODE = 'ident-pi-1';

test.before(async () => {
  ctrl = await startController();
  k = kubectl(ctrl.kubeconfig);
  agent = startAgent(ctrl, { nodeName: NODE });
  await waitFor(`node ${NODE} Ready`, async () => / Ready /.test((await k(['get', 'node', NODE, '--no-headers'], { reject: false })).stdout), 60_000, 300);
});

test.after.always(async () => {
  await agent?.kill();
  await ctrl?.kill();
  for (const d of [ctrl?.dir, agent?.dir, k?.home]) if (d) removeDir(d);
});

const pod = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
const nodeOf = async (name: string) => (await k(['get', 'pod', name, '-o', 'jsonpath={.spec.nodeName}'], { reject: false })).stdout;

test.serial('the scheduler binds pods only as far as system:kube-scheduler\'s role allows', async (t) => {
  const role = JSON.parse((await k(['get', 'clusterrole', 'system:kube-scheduler', '-o', 'json'])).stdout);
  t.true(role.rules.some((r: { resources?: string[] }) => r.resources?.includes('pods/binding')), 'the bootstrap role grants binding');
  const without = {
    ...role,
    metadata: { ...role.metadata, annotations: { ...role.metadata.annotations, 'rbac.authorization.kubernetes.io/autoupdate': 'false' } },
    rules: role.rules.map((r: { resources?: string[] }) => ({ ...r, resources: r.resources?.filter((x) => x !== 'pods/binding' && x !== 'bindings') })).filter((r: { resources?: string[] }) => r.resources === undefined || r.resources.length > 0),
  };
  await k(['replace', '-f', '-'], { input: JSON.stringify(without) });
  await k(['create', '-f', '-'], { input: pod('unbindable') });
  await waitFor('a logged refusal for the scheduler', () => /"user":"system:kube-scheduler".*"verb":"create","resource":"pods\/binding".*control-plane request forbidden/.test(ctrl.log()), 20_000, 200);
  t.is(await nodeOf('unbindable'), '', 'not placed without the right');

  await k(['replace', '-f', '-'], { input: JSON.stringify({ ...role, metadata: { ...role.metadata, resourceVersion: undefined } }) });
  await waitFor('the pod placed once the role allows it again', async () => (await nodeOf('unbindable')) === NODE, 30_000, 300);
  t.pass();
});

const startedEvents = async (pod: string) => (await k(['get', 'events', '--field-selector', `involvedObject.name=${pod},reason=Started`, '-o', 'name'], { reject: false })).stdout.trim();

test.serial('the MQTT bridge writes as system:pikube-bridge: a right taken from its role is a logged 403, given back it works', async (t) => {
  const role = JSON.parse((await k(['get', 'clusterrole', 'system:pikube-bridge', '-o', 'json'])).stdout);
  t.false(role.rules.some((r: { verbs: string[]; resources?: string[] }) => r.resources?.includes('nodes') && r.verbs.includes('delete')), 'the bridge may not delete nodes');
  // Without `create events`, what the node reports about its pods cannot be recorded.
  const without = {
    ...role,
    metadata: { ...role.metadata, annotations: { ...role.metadata.annotations, 'rbac.authorization.kubernetes.io/autoupdate': 'false' } },
    rules: role.rules.map((r: { verbs: string[]; resources?: string[] }) => (r.resources?.includes('events') ? { ...r, verbs: r.verbs.filter((v) => v !== 'create') } : r)),
  };
  await k(['replace', '-f', '-'], { input: JSON.stringify(without) });
  await k(['create', '-f', '-'], { input: pod('unrecorded') });
  await waitFor('a logged refusal for the bridge', () => /"user":"system:pikube-bridge".*"verb":"create","resource":"events".*control-plane request forbidden/.test(ctrl.log()), 30_000, 200);
  await waitFor('the pod running (its Started event was sent)', async () => (await k(['get', 'pod', 'unrecorded', '-o', 'jsonpath={.status.phase}'], { reject: false })).stdout === 'Running', 30_000, 300);
  t.is(await startedEvents('unrecorded'), '', 'no event recorded without the right');

  await k(['replace', '-f', '-'], { input: JSON.stringify({ ...role, metadata: { ...role.metadata, resourceVersion: undefined } }) });
  await k(['create', '-f', '-'], { input: pod('recorded') });
  await waitFor('the event recorded once the role allows it again', async () => (await startedEvents('recorded')) !== '', 30_000, 300);
  t.pass();
});

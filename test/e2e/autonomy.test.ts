// Edge autonomy with real processes and real podman: the controller dies (SIGKILL) while
// pods run and the containers carry on untouched; it comes back and nothing restarts.
// Then the agent dies too, its containers are stopped as a reboot would, and the agent is
// started while the controller is still down: it brings the pods back from its own copy of
// the desired set; the controller returns to find them Running, once each, not restarted.
import test from 'ava';
import { execa } from 'execa';
import type { Pod } from '../../protocol/kube/types.js';
import { ensureBusyboxImage } from '../helpers/podman-image.js';
import { kubectl, removeDir, startAgent, startController, waitFor, type AgentHandle, type ControllerHandle, type Kubectl } from '../helpers/processes.js';
import { NODE_LABEL, POD_UID_LABEL, examplePath, getPod, podmanContainerIds, removeNodeContainers, uniqueNodeName } from './e2e-helpers.js';

const NODE = uniqueNodeName('e2e-auto');
const PODS = ['web', 'pair'];
let ctrl: ControllerHandle | undefined;
let agent: AgentHandle | undefined;
let k: Kubectl;
const uids = new Map<string, string>();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Running workload containers of this node: id -> `<pod uid>/<container>`. */
async function runningContainers(): Promise<Map<string, string>> {
  const r = await execa('podman', ['ps', '--no-trunc', '--filter', `label=${NODE_LABEL}=${NODE}`, '--filter', 'label=pikube.io/kind=app', '--format', '{{.ID}} {{index .Labels "pikube.io/pod-uid"}}/{{index .Labels "pikube.io/container"}}']);
  const out = new Map<string, string>();
  for (const line of String(r.stdout).split('\n').filter(Boolean)) {
    const [id, what] = line.split(' ');
    out.set(id!, what!);
  }
  return out;
}

/** True when every container of both pods runs exactly once. */
function complete(running: Map<string, string>): boolean {
  const expected = [`${uids.get('web')}/httpd`, `${uids.get('pair')}/server`, `${uids.get('pair')}/client`];
  const seen = [...running.values()];
  return expected.every((e) => seen.filter((s) => s === e).length === 1) && seen.length === expected.length;
}

async function podsRunningWithoutRestarts(): Promise<Pod[]> {
  const pods: Pod[] = [];
  for (const name of PODS) {
    const p = await getPod(k, name);
    if (p?.status?.phase !== 'Running') return [];
    pods.push(p);
  }
  return pods;
}

test.before(async () => {
  await ensureBusyboxImage();
  ctrl = await startController();
  agent = startAgent(ctrl, { nodeName: NODE, runtime: 'podman' });
  k = kubectl(ctrl.kubeconfig);
  await waitFor(`node ${NODE} Ready`, async () => (await k(['get', 'node', NODE, '--no-headers'], { reject: false })).stdout.split(/\s+/)[1] === 'Ready', 60_000, 500);
});

test.after.always(async () => {
  await agent?.kill();
  await ctrl?.kill();
  await removeNodeContainers(NODE);
  if (ctrl) removeDir(ctrl.dir);
  if (agent) removeDir(agent.dir);
  if (k) removeDir(k.home);
});

test.serial('pods keep running while the controller is gone, and are not restarted when it returns', async (t) => {
  await k(['create', '-f', examplePath('pod-definition.yaml'), '-f', examplePath('two-containers.yaml')]);
  await waitFor('both pods Running', async () => (await podsRunningWithoutRestarts()).length === PODS.length, 90_000, 500);
  for (const name of PODS) uids.set(name, (await getPod(k, name))!.metadata.uid!);
  const before = await waitFor('every container running once', async () => { const r = await runningContainers(); return complete(r) ? r : undefined; }, 30_000, 500);

  await ctrl!.kill(); // SIGKILL
  // several relists and resyncs of the agent without a controller
  await sleep(12_000);
  t.deepEqual([...(await runningContainers()).keys()].sort(), [...before.keys()].sort(), 'same containers while the controller is down');

  ctrl = await ctrl!.restart();
  await waitFor(`node ${NODE} Ready again`, async () => (await k(['get', 'node', NODE, '--no-headers'], { reject: false })).stdout.split(/\s+/)[1] === 'Ready', 60_000, 500);
  // the controller re-publishes the desired set; give the agent time to reconcile with it
  await sleep(8_000);
  const pods = await waitFor('pods Running after the controller returned', podsRunningWithoutRestarts, 30_000, 500);
  for (const p of pods) {
    for (const s of p.status!.containerStatuses!) {
      t.is(s.restartCount, 0, `${p.metadata.name}/${s.name} restarted`);
      t.truthy(s.state.running, `${p.metadata.name}/${s.name} running`);
      t.true(before.has(s.containerID!.replace(/^podman:\/\//, '')), `${p.metadata.name}/${s.name} is the same container`);
    }
  }
  t.deepEqual([...(await runningContainers()).keys()].sort(), [...before.keys()].sort(), 'no container was replaced');
});

test.serial('an agent started after a reboot with the controller down brings its pods back; the controller then finds them, once each', async (t) => {
  await ctrl!.kill();
  await agent!.kill();
  // a reboot stops every container, the pods' sandboxes too
  const pods = String((await execa('podman', ['pod', 'ps', '-q', '--filter', `label=${NODE_LABEL}=${NODE}`])).stdout).split('\n').filter(Boolean);
  t.true(pods.length >= PODS.length);
  await execa('podman', ['pod', 'stop', '-t', '0', ...pods]);
  t.is((await runningContainers()).size, 0);

  agent = agent!.restart();
  const back = await waitFor('pods back from the saved desired set, controller still down', async () => {
    const r = await runningContainers();
    return complete(r) ? r : undefined;
  }, 90_000, 500);
  t.is(ctrl!.child.exitCode !== null || ctrl!.child.signalCode !== null, true, 'the controller is down all along');
  for (const uid of uids.values()) t.true((await podmanContainerIds(`${POD_UID_LABEL}=${uid}`, { running: true })).length > 0);

  // give the offline agent a few passes, then bring the controller back
  await sleep(5_000);
  const settled = await runningContainers();
  t.deepEqual([...settled.keys()].sort(), [...back.keys()].sort(), 'stable while offline');
  ctrl = await ctrl!.restart();
  await waitFor(`node ${NODE} Ready again`, async () => (await k(['get', 'node', NODE, '--no-headers'], { reject: false })).stdout.split(/\s+/)[1] === 'Ready', 60_000, 500);
  const running = await waitFor('pods Running with the new containers', async () => {
    const ps = await podsRunningWithoutRestarts();
    const ok = ps.length === PODS.length && ps.every((p) => p.status!.containerStatuses!.every((s) => s.state.running && settled.has(s.containerID!.replace(/^podman:\/\//, ''))));
    return ok ? ps : undefined;
  }, 60_000, 500);
  const restarts = running.flatMap((p) => p.status!.containerStatuses!.map((s) => s.restartCount));
  await sleep(8_000);
  const after = await runningContainers();
  t.true(complete(after), `each container once: ${JSON.stringify([...after.values()])}`);
  t.deepEqual([...after.keys()].sort(), [...settled.keys()].sort(), 'no restart after the controller returned');
  const again = await podsRunningWithoutRestarts();
  t.deepEqual(again.flatMap((p) => p.status!.containerStatuses!.map((s) => s.restartCount)), restarts);
  t.is((await k(['get', 'pods', '--no-headers'])).stdout.trim().split('\n').length, PODS.length, 'no duplicate pods');
});

// computePodActions, table-tested: for each observed state of a pod (its containers and
// sandboxes, probe verdicts, back-off, the time) the plan the worker would carry out.
import test from 'ava';
import type { Container, Pod } from '../../protocol/kube/types.js';
import type { RuntimeContainer, SandboxInfo } from '../../agent/runtime/container-runtime.js';
import { LABEL } from '../../agent/pods/container-labels.js';
import { computePodActions, computeTerminationActions, gracePeriodOf, type ContainerAction, type PlanInput, type PodPlan } from '../../agent/pods/pod-actions.js';
import { containerSpecHash } from '../../agent/pods/spec-hash.js';

const NOW = Date.parse('2026-01-01T00:10:00Z');
const at = (secondsBeforeNow: number) => new Date(NOW - secondsBeforeNow * 1000).toISOString();

const app: Container = { name: 'app', image: 'busybox' };
const side: Container = { name: 'side', image: 'busybox' };
const init1: Container = { name: 'init1', image: 'busybox' };
const init2: Container = { name: 'init2', image: 'busybox' };

function makePod(spec: Partial<Pod['spec']> = {}, meta: Partial<Pod['metadata']> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'u1', ...meta }, spec: { restartPolicy: 'Always', containers: [app], ...spec } };
}

let seq = 0;
/** One runtime instance of a container: running, or exited with a code `ranFor` seconds after starting, `ago` seconds ago. */
function instance(c: Container, o: { attempt?: number; state?: RuntimeContainer['state']; exitCode?: number; ago?: number; ranFor?: number; init?: boolean; hash?: string; error?: string } = {}): RuntimeContainer {
  const state = o.state ?? (o.exitCode === undefined ? 'running' : 'exited');
  const ago = o.ago ?? 5;
  const r: RuntimeContainer = {
    id: `id-${c.name}-${o.attempt ?? 0}-${seq++}`,
    name: `k8s_${c.name}_${o.attempt ?? 0}`,
    image: c.image,
    state,
    labels: {
      [LABEL.podUid]: 'u1',
      [LABEL.container]: c.name,
      [LABEL.restartCount]: String(o.attempt ?? 0),
      [LABEL.kind]: o.init ? 'init' : 'app',
      [LABEL.specHash]: o.hash ?? containerSpecHash(c),
    },
    startedAt: at(ago + (o.ranFor ?? 1)),
  };
  if (state === 'exited') { r.exitCode = o.exitCode ?? 0; r.finishedAt = at(ago); }
  if (o.error) r.error = o.error;
  return r;
}

const running: SandboxInfo = { id: 'sb1', name: 'web-sandbox', labels: {}, running: true, ip: '10.88.0.5' };
const dead: SandboxInfo = { id: 'sb0', name: 'web-sandbox-old', labels: {}, running: false };

function plan(pod: Pod, containers: RuntimeContainer[], extra: Partial<PlanInput> = {}): PodPlan {
  return computePodActions({ pod, containers, sandboxes: [running], killRequests: new Map(), backoffDelay: () => undefined, backoffResetMs: 600_000, now: NOW, ...extra });
}

/** The actions in a short readable form: `start app#0`, `restart app#1`, `backoff app`, `kill app`, `remove ID`. */
function brief(actions: ContainerAction[]): string[] {
  return actions.map((a) => {
    switch (a.type) {
      case 'remove': return `remove ${a.id}`;
      case 'kill': return `kill ${a.container.name}`;
      case 'backoff': return `backoff ${a.container.name}`;
      case 'start': return `${a.after ? 'restart' : 'start'} ${a.container.name}#${a.attempt}`;
    }
  });
}

interface Row { name: string; pod: Pod; containers: RuntimeContainer[]; extra?: Partial<PlanInput>; probeKill?: boolean; actions: string[]; sandbox?: PodPlan['sandbox']['kind']; initDone?: boolean; initFailed?: boolean; finished?: boolean }

const failedApp = instance(app, { exitCode: 1 });
const rows: Row[] = [
  { name: 'new pod: sandbox to make, then its container', pod: makePod(), containers: [], extra: { sandboxes: [] }, sandbox: 'create', actions: ['start app#0'], initDone: true },
  { name: 'hostNetwork pod: no sandbox', pod: makePod({ hostNetwork: true }), containers: [], extra: { sandboxes: [] }, sandbox: 'host', actions: ['start app#0'] },
  { name: 'everything running as specified: nothing to do', pod: makePod({ containers: [app, side] }), containers: [instance(app), instance(side)], sandbox: 'keep', actions: [], initDone: true },
  { name: 'init containers start first, the first of them only', pod: makePod({ initContainers: [init1, init2] }), containers: [], actions: ['start init1#0'], initDone: false },
  { name: 'a running init container is waited for', pod: makePod({ initContainers: [init1, init2] }), containers: [instance(init1, { init: true })], actions: [], initDone: false },
  { name: 'the next init container after one that succeeded', pod: makePod({ initContainers: [init1, init2] }), containers: [instance(init1, { init: true, exitCode: 0 })], actions: ['start init2#0'], initDone: false },
  { name: 'all init containers done: app containers start', pod: makePod({ initContainers: [init1, init2] }), containers: [instance(init1, { init: true, exitCode: 0 }), instance(init2, { init: true, exitCode: 0 })], actions: ['start app#0'], initDone: true },
  { name: 'a failed init container is restarted (OnFailure)', pod: makePod({ restartPolicy: 'OnFailure', initContainers: [init1] }), containers: [instance(init1, { init: true, exitCode: 2 })], actions: ['restart init1#1'], initDone: false },
  { name: 'a failed init container ends the pod (Never)', pod: makePod({ restartPolicy: 'Never', initContainers: [init1] }), containers: [instance(init1, { init: true, exitCode: 2 })], actions: [], initDone: false, initFailed: true, finished: true, sandbox: 'keep' },
  { name: 'Always: an app container that exited 0 is restarted', pod: makePod(), containers: [instance(app, { exitCode: 0 })], actions: ['restart app#1'] },
  { name: 'OnFailure: exit 0 is left alone and the pod is finished', pod: makePod({ restartPolicy: 'OnFailure' }), containers: [instance(app, { exitCode: 0 })], actions: [], finished: true },
  { name: 'OnFailure: a failure is restarted', pod: makePod({ restartPolicy: 'OnFailure' }), containers: [instance(app, { exitCode: 1 })], actions: ['restart app#1'] },
  { name: 'OnFailure: a container that never started (runtime error) is restarted', pod: makePod({ restartPolicy: 'OnFailure' }), containers: [instance(app, { state: 'created', error: 'no such file' })], actions: ['restart app#1'] },
  { name: 'Never: a failure is left alone', pod: makePod({ restartPolicy: 'Never' }), containers: [instance(app, { exitCode: 1 })], actions: [], finished: true },
  { name: 'back-off not passed yet: wait', pod: makePod(), containers: [failedApp], extra: { backoffDelay: () => 20_000 }, actions: ['backoff app'] },
  { name: 'back-off passed: restart', pod: makePod(), containers: [instance(app, { exitCode: 1, ago: 30 })], extra: { backoffDelay: () => 20_000 }, actions: ['restart app#1'] },
  { name: 'ran longer than the reset time: back-off starts over', pod: makePod(), containers: [instance(app, { exitCode: 1, ranFor: 700 })], extra: { backoffDelay: () => 20_000 }, actions: ['restart app#1'] },
  { name: 'spec changed: the running container is killed', pod: makePod(), containers: [instance(app, { hash: 'old' })], actions: ['kill app'] },
  { name: 'a failed liveness probe asked for a kill', pod: makePod(), containers: [instance(app)], probeKill: true, actions: ['kill app'] },
  { name: 'a dead sandbox: stop what runs, make a new one', pod: makePod(), containers: [instance(app)], extra: { sandboxes: [dead] }, sandbox: 'create', actions: [] },
];

for (const row of rows) {
  test(`plan: ${row.name}`, (t) => {
    const extra = { ...row.extra };
    if (row.probeKill) extra.killRequests = new Map([[row.containers[0]!.id, 'Container app failed liveness probe, will be restarted']]);
    const p = plan(row.pod, row.containers, extra);
    t.deepEqual(brief(p.actions), row.actions);
    if (row.sandbox) t.is(p.sandbox.kind, row.sandbox);
    if (row.initDone !== undefined) t.is(p.initDone, row.initDone);
    t.is(p.initFailed, row.initFailed ?? false);
    t.is(p.finished, row.finished ?? false);
  });
}

test('plan: a restart carries its attempt, back-off bookkeeping and the instance before it to remove', (t) => {
  const older = instance(app, { attempt: 0, exitCode: 1, ago: 100 });
  const before = instance(app, { attempt: 1, exitCode: 1, ago: 60 });
  const cur = instance(app, { attempt: 2, exitCode: 1, ago: 40 });
  const p = plan(makePod(), [older, before, cur], { backoffDelay: () => 20_000 });
  t.deepEqual(p.actions, [
    { type: 'remove', id: older.id },
    { type: 'start', container: app, init: false, attempt: 3, after: { backoffKey: 'u1/app', resetBackoff: false, removeBefore: before.id } },
  ]);
});

test('plan: a back-off says how long it is and how much of it is left', (t) => {
  const p = plan(makePod(), [failedApp], { backoffDelay: () => 20_000 });
  t.like(p.actions[0], { type: 'backoff', delayMs: 20_000, remainingMs: 15_000 });
  t.is((p.actions[0] as Extract<ContainerAction, { type: 'backoff' }>).dead, failedApp);
});

test('plan: a kill uses the pod\'s grace period and says why', (t) => {
  const c = instance(app, { hash: 'old' });
  const p = plan(makePod({ terminationGracePeriodSeconds: 7 }), [c]);
  t.deepEqual(p.actions, [{ type: 'kill', container: app, id: c.id, message: 'Container app definition changed, will be restarted', graceSeconds: 7, probeRequested: false }]);
});

test('plan: a dead sandbox lists the live containers to stop and every sandbox to remove', (t) => {
  const live = instance(app);
  const gone = instance(side, { exitCode: 0 });
  const p = plan(makePod({ containers: [app, side] }), [live, gone], { sandboxes: [dead] });
  t.deepEqual(p.sandbox, { kind: 'create', replace: { stopContainers: [live.id], removeSandboxes: [dead.id] } });
});

test('plan: extra running sandboxes are removed, the first kept', (t) => {
  const second: SandboxInfo = { ...running, id: 'sb2' };
  const p = plan(makePod(), [instance(app)], { sandboxes: [running, second] });
  t.deepEqual(p.sandbox, { kind: 'keep', sandbox: running });
  t.deepEqual(p.removeSandboxes, ['sb2']);
});

test('plan: a finished pod keeps its last sandbox and asks for nothing new', (t) => {
  const p = plan(makePod({ restartPolicy: 'Never' }), [instance(app, { exitCode: 0 })], { sandboxes: [dead] });
  t.deepEqual(p.sandbox, { kind: 'keep', sandbox: dead });
  t.deepEqual(p.warm, []);
});

test('plan: images of the containers about to start are warmed: the first init container, else the app containers', (t) => {
  t.deepEqual(plan(makePod({ initContainers: [init1, init2] }), []).warm, [init1]);
  t.deepEqual(plan(makePod({ containers: [app, side] }), [instance(app)]).warm, [side]);
});

test('termination: live containers stopped with the grace period, every instance removed', (t) => {
  const live = instance(app);
  const exited = instance(init1, { init: true, exitCode: 0 });
  const created = instance(side, { state: 'created' });
  const tp = computeTerminationActions([live, exited, created], 12);
  t.deepEqual(tp, {
    graceSeconds: 12,
    stop: [{ id: live.id, container: 'app', init: false }, { id: created.id, container: 'side', init: false }],
    remove: [live.id, exited.id, created.id],
  });
});

test('grace period: deletionGracePeriodSeconds wins over the spec, 30 s without either', (t) => {
  t.is(gracePeriodOf(makePod({ terminationGracePeriodSeconds: 10 }, { deletionGracePeriodSeconds: 0 })), 0);
  t.is(gracePeriodOf(makePod({ terminationGracePeriodSeconds: 10 })), 10);
  t.is(gracePeriodOf(makePod()), 30);
  t.is(gracePeriodOf(undefined), 30);
});

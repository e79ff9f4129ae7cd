// The pod workers against the simulated runtime: lifecycle, restarts, back-off,
// generations, deletion, persistence and adoption, logs and exec.
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimulatedRuntime } from '../../agent/runtime/simulated.js';
import { LABEL } from '../../agent/pods/container-labels.js';
import { parseDesiredPods } from '../../protocol/mqtt/validate.js';
import { harness, pod, desired, set, waitFor, waitStatus, request, output } from './harness.js';

const sleepForever = ['sh', '-c', 'sleep 3600'];

test('a pod becomes Running with the kubelet status shape and events', async (t) => {
  const rt = new SimulatedRuntime();
  const h = harness(rt);
  t.teardown(async () => { await h.manager.stop(); h.cleanup(); });
  await h.manager.start();
  const p = pod({ containers: [{ name: 'web', image: 'localhost/busybox:1', command: sleepForever, resources: { limits: { cpu: '500m', memory: '64Mi' } } }] }, { generation: 3 });
  await h.manager.setDesired(set(1, desired(p)));
  const uid = p.metadata.uid!;
  const s = await waitStatus(h, uid, 'Running', (s) => s.phase === 'Running' && s.conditions?.find((c) => c.type === 'Ready')?.status === 'True');
  t.regex(s.podIP!, /^10\.244\.0\.\d+$/);
  t.deepEqual(s.podIPs, [{ ip: s.podIP! }]);
  t.is(s.hostIP, '192.168.1.20');
  t.is(s.qosClass, 'Guaranteed'); // requests default to limits
  t.truthy(s.startTime);
  t.deepEqual(s.conditions!.map((c) => c.type).sort(), ['ContainersReady', 'Initialized', 'PodReadyToStartContainers', 'PodScheduled', 'Ready']);
  const cs = s.containerStatuses![0]!;
  t.is(cs.name, 'web');
  t.true(cs.ready);
  t.true(cs.started);
  t.is(cs.restartCount, 0);
  t.regex(cs.containerID!, /^simulated:\/\/[0-9a-f]{64}$/);
  t.truthy(cs.state.running?.startedAt);
  t.deepEqual(cs.lastState, {});
  t.is(h.latest.get(uid)!.observedGeneration, 3);
  const reasons = h.events.filter((e) => e.involvedObject.uid === uid).map((e) => e.reason);
  t.deepEqual(reasons, ['Pulled', 'Created', 'Started']);
  t.is(h.events[0]!.involvedObject.fieldPath, 'spec.containers{web}');
  // the runtime got the limits, the labels and the sandbox
  const [c] = await rt.list({ [LABEL.podUid]: uid });
  t.is(c!.labels[LABEL.container], 'web');
  t.is(c!.labels[LABEL.node], 'pi-1');
  // status is only sent when it changes
  const count = h.updates.filter((u) => u.uid === uid).length;
  await new Promise((r) => setTimeout(r, 300));
  t.is(h.updates.filter((u) => u.uid === uid).length, count);
});

test('a crashing container restarts with doubling back-off and CrashLoopBackOff', async (t) => {
  const rt = new SimulatedRuntime({ exitDelayMs: 20 });
  const h = harness(rt, { backoffBaseMs: 300, backoffMaxMs: 5000 });
  t.teardown(async () => { await h.manager.stop(); h.cleanup(); });
  await h.manager.start();
  const p = pod({ containers: [{ name: 'crash', image: 'img:1', command: ['sh', '-c', 'exit 3'] }] }, { name: 'cr', namespace: 'ns1' });
  const uid = p.metadata.uid!;
  await h.manager.setDesired(set(1, desired(p)));
  const waiting = await waitStatus(h, uid, 'CrashLoopBackOff', (s) => s.containerStatuses?.[0]?.state.waiting?.reason === 'CrashLoopBackOff');
  const cs = waiting.containerStatuses![0]!;
  t.is(cs.state.waiting!.message, `back-off 300ms restarting failed container=crash pod=cr_ns1(${uid})`);
  t.is(cs.lastState.terminated?.exitCode, 3);
  t.is(cs.lastState.terminated?.reason, 'Error');
  t.is(waiting.phase, 'Running'); // restartPolicy Always keeps the pod Running
  t.false(cs.ready);
  // restart counts rise; the delay doubles: 300ms, then 600ms
  const startedAt = (n: number) => h.updates.find((u) => u.uid === uid && u.status?.containerStatuses?.[0]?.restartCount === n && u.status.containerStatuses[0].state.running);
  await waitFor('restart 3', () => startedAt(3), 10_000);
  const times = [1, 2, 3].map((n) => Date.parse(startedAt(n)!.status!.containerStatuses![0]!.state.running!.startedAt!));
  t.true(times[1]! - times[0]! >= 280, `second restart waited ${times[1]! - times[0]!}ms`);
  t.true(times[2]! - times[1]! >= 580, `third restart waited ${times[2]! - times[1]!}ms`);
  const msgs = h.updates.filter((u) => u.uid === uid).map((u) => u.status?.containerStatuses?.[0]?.state.waiting?.message).filter(Boolean);
  t.true(msgs.some((m) => m!.startsWith('back-off 600ms')));
  t.true(h.events.some((e) => e.reason === 'BackOff' && e.type === 'Warning' && e.message === `Back-off restarting failed container crash in pod cr_ns1(${uid})`));
  // the kubelet keeps one dead instance per container
  const all = await rt.list({ [LABEL.podUid]: uid });
  t.true(all.length <= 2);
});

test('restartPolicy OnFailure and Never end in Succeeded and Failed', async (t) => {
  const rt = new SimulatedRuntime({ exitDelayMs: 20 });
  const h = harness(rt, { backoffBaseMs: 100 });
  t.teardown(async () => { await h.manager.stop(); h.cleanup(); });
  await h.manager.start();
  const ok = pod({ restartPolicy: 'OnFailure', containers: [{ name: 'job', image: 'img:1', command: ['sh', '-c', 'exit 0'] }] });
  const bad = pod({ restartPolicy: 'Never', containers: [{ name: 'job', image: 'img:1', command: ['sh', '-c', 'exit 2'] }] });
  await h.manager.setDesired(set(1, desired(ok), desired(bad)));
  const s1 = await waitStatus(h, ok.metadata.uid!, 'Succeeded', (s) => s.phase === 'Succeeded');
  t.is(s1.containerStatuses![0]!.state.terminated?.reason, 'Completed');
  t.is(s1.containerStatuses![0]!.restartCount, 0);
  t.is(s1.conditions!.find((c) => c.type === 'Ready')!.reason, 'PodCompleted');
  const s2 = await waitStatus(h, bad.metadata.uid!, 'Failed', (s) => s.phase === 'Failed');
  t.is(s2.containerStatuses![0]!.state.terminated?.exitCode, 2);
  t.is(s2.containerStatuses![0]!.state.terminated?.reason, 'Error');
  await new Promise((r) => setTimeout(r, 300));
  t.is((await rt.list({ [LABEL.podUid]: bad.metadata.uid! })).length, 1, 'never restarted');
});

test('init containers run in order before the app; a failing one loops in back-off', async (t) => {
  const rt = new SimulatedRuntime({ exitDelayMs: 20 });
  const h = harness(rt, { backoffBaseMs: 5000 });
  t.teardown(async () => { await h.manager.stop(); h.cleanup(); });
  await h.manager.start();
  const good = pod({
    initContainers: [{ name: 'a', image: 'img:1', command: ['sh', '-c', 'exit 0'] }, { name: 'b', image: 'img:1', command: ['sh', '-c', 'exit 0'] }],
    containers: [{ name: 'app', image: 'img:1', command: sleepForever }],
  });
  const failing = pod({
    initContainers: [{ name: 'setup', image: 'img:1', command: ['sh', '-c', 'exit 1'] }],
    containers: [{ name: 'app', image: 'img:1', command: sleepForever }],
  });
  await h.manager.setDesired(set(1, desired(good), desired(failing)));
  const s = await waitStatus(h, good.metadata.uid!, 'Running', (s) => s.phase === 'Running');
  t.deepEqual(s.initContainerStatuses!.map((c) => [c.name, c.state.terminated?.reason, c.ready]), [['a', 'Completed', true], ['b', 'Completed', true]]);
  t.is(s.conditions!.find((c) => c.type === 'Initialized')!.status, 'True');
  // order: a started before b, b before app
  const started = h.events.filter((e) => e.involvedObject.uid === good.metadata.uid && e.reason === 'Started').map((e) => e.involvedObject.fieldPath);
  t.deepEqual(started, ['spec.initContainers{a}', 'spec.initContainers{b}', 'spec.containers{app}']);

  const f = await waitStatus(h, failing.metadata.uid!, 'Init:CrashLoopBackOff', (s) => s.initContainerStatuses?.[0]?.state.waiting?.reason === 'CrashLoopBackOff');
  t.is(f.phase, 'Pending');
  t.is(f.initContainerStatuses![0]!.lastState.terminated?.reason, 'Error');
  t.is(f.initContainerStatuses![0]!.restartCount, 1);
  t.is(f.containerStatuses![0]!.state.waiting?.reason, 'PodInitializing');
  const init = f.conditions!.find((c) => c.type === 'Initialized')!;
  t.is(init.status, 'False');
  t.is(init.message, 'containers with incomplete status: [setup]');
  t.is((await rt.list({ [LABEL.podUid]: failing.metadata.uid!, [LABEL.container]: 'app' })).length, 0);
});

test('a failing init container with restartPolicy Never fails the pod', async (t) => {
  const rt = new SimulatedRuntime({ exitDelayMs: 20 });
  const h = harness(rt);
  t.teardown(async () => { await h.manager.stop(); h.cleanup(); });
  await h.manager.start();
  const p = pod({ restartPolicy: 'Never', initContainers: [{ name: 'setup', image: 'img:1', command: ['sh', '-c', 'exit 1'] }], containers: [{ name: 'app', image: 'img:1', command: sleepForever }] });
  await h.manager.setDesired(set(1, desired(p)));
  const s = await waitStatus(h, p.metadata.uid!, 'Failed', (s) => s.phase === 'Failed');
  t.is(s.initContainerStatuses![0]!.state.terminated?.exitCode, 1);
});

test('older generations are ignored; the set is saved before it is acted on', async (t) => {
  const rt = new SimulatedRuntime();
  let savedBeforeRun = true;
  const h = harness(rt);
  const run = rt.run.bind(rt);
  rt.run = async (spec) => {
    const file = join(h.dataDir, 'desired-pods.json');
    if (!existsSync(file) || !readFileSync(file, 'utf8').includes(spec.labels[LABEL.podUid]!)) savedBeforeRun = false;
    return run(spec);
  };
  t.teardown(async () => { await h.manager.stop(); h.cleanup(); });
  await h.manager.start();
  const a = pod({ containers: [{ name: 'c', image: 'img:1', command: sleepForever }] });
  const b = pod({ containers: [{ name: 'c', image: 'img:1', command: sleepForever }] });
  await h.manager.setDesired(set(5, desired(a)));
  await h.manager.setDesired(set(3, desired(a), desired(b)));
  await waitStatus(h, a.metadata.uid!, 'a Running', (s) => s.phase === 'Running');
  await new Promise((r) => setTimeout(r, 200));
  t.is(h.manager.currentGeneration, 5);
  t.false(h.latest.has(b.metadata.uid!));
  t.is((await rt.list({ [LABEL.podUid]: b.metadata.uid! })).length, 0);
  t.is(JSON.parse(readFileSync(join(h.dataDir, 'desired-pods.json'), 'utf8')).generation, 5);
  t.true(savedBeforeRun);
  // bad input is refused at the protocol boundary, naming the field, and changes nothing
  t.throws(() => parseDesiredPods(Buffer.from(JSON.stringify({ generation: 9, pods: [{ pod: { metadata: { name: 'x', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'i' }] } }, configMaps: {}, secrets: {} }] }))), { message: /pods\.pods\[0\]\.pod\.metadata\.uid/ });
  t.is(h.manager.currentGeneration, 5);
  t.is(JSON.parse(readFileSync(join(h.dataDir, 'desired-pods.json'), 'utf8')).generation, 5);
});

test('sets that queue up while one is saved: only the newest is saved and acted on, and an older one arriving last does not win', async (t) => {
  const rt = new SimulatedRuntime();
  const h = harness(rt);
  t.teardown(async () => { await h.manager.stop(); h.cleanup(); });
  await h.manager.start();
  const a = pod({ containers: [{ name: 'c', image: 'img:1', command: sleepForever }] });
  const b = pod({ containers: [{ name: 'c', image: 'img:1', command: sleepForever }] });
  const c = pod({ containers: [{ name: 'c', image: 'img:1', command: sleepForever }] });
  const started: string[] = [];
  const run = rt.run.bind(rt);
  rt.run = async (spec) => { started.push(spec.labels[LABEL.podUid]!); return run(spec); };
  await Promise.all([
    h.manager.setDesired(set(1, desired(a))),
    h.manager.setDesired(set(2, desired(b))), // replaced before it is saved
    h.manager.setDesired(set(4, desired(c))),
    h.manager.setDesired(set(3, desired(b))), // older than the newest: ignored
  ]);
  await waitStatus(h, c.metadata.uid!, 'c Running', (s) => s.phase === 'Running');
  await new Promise((r) => setTimeout(r, 200));
  t.is(h.manager.currentGeneration, 4);
  t.false(started.includes(b.metadata.uid!), 'the replaced set was never acted on');
  t.is((await rt.list({ [LABEL.podUid]: b.metadata.uid! })).length, 0);
  t.is(JSON.parse(readFileSync(join(h.dataDir, 'desired-pods.json'), 'utf8')).generation, 4);
});

test('deleting a pod stops, removes everything and reports gone', async (t) => {
  const rt = new SimulatedRuntime();
  const h = harness(rt);
  t.teardown(async () => { await h.manager.stop(); h.cleanup(); });
  await h.manager.start();
  const a = pod({ terminationGracePeriodSeconds: 5, volumes: [{ name: 'scratch', emptyDir: {} }], containers: [{ name: 'c', image: 'img:1', command: sleepForever, volumeMounts: [{ name: 'scratch', mountPath: '/s' }] }] });
  const b = pod({ containers: [{ name: 'c', image: 'img:1', command: sleepForever }] });
  const stops: number[] = [];
  const stop = rt.stop.bind(rt);
  rt.stop = async (id, grace) => { stops.push(grace); return stop(id, grace); };
  await h.manager.setDesired(set(1, desired(a), desired(b)));
  await waitStatus(h, a.metadata.uid!, 'a Running', (s) => s.phase === 'Running');
  await waitStatus(h, b.metadata.uid!, 'b Running', (s) => s.phase === 'Running');
  const volDir = join(h.dataDir, 'pods', a.metadata.uid!, 'volumes', 'scratch');
  t.true(existsSync(volDir));

  // a: terminating with deletionGracePeriodSeconds, which wins over the spec
  const aDel = { ...a, metadata: { ...a.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 2 } };
  await h.manager.setDesired(set(2, desired(aDel), desired(b)));
  await waitFor('a gone', () => h.latest.get(a.metadata.uid!)?.gone);
  t.deepEqual(stops, [2]);
  t.is((await rt.list({ [LABEL.podUid]: a.metadata.uid! })).length, 0);
  t.is((await rt.listSandboxes({ [LABEL.podUid]: a.metadata.uid! })).length, 0);
  t.false(existsSync(join(h.dataDir, 'pods', a.metadata.uid!)));
  t.true(h.events.some((e) => e.involvedObject.uid === a.metadata.uid && e.reason === 'Killing' && e.message === 'Stopping container c'));

  // b: absent from an explicit set
  await h.manager.setDesired(set(3, desired(aDel)));
  await waitFor('b gone', () => h.latest.get(b.metadata.uid!)?.gone);
  t.is((await rt.list({ [LABEL.podUid]: b.metadata.uid! })).length, 0);
  t.is((await rt.listSandboxes({ [LABEL.podUid]: b.metadata.uid! })).length, 0);
  const goneUpdates = h.updates.filter((u) => u.uid === a.metadata.uid && u.gone);
  t.is(goneUpdates.length, 1, 'gone is reported once while the pod is still listed');
});

test('a new manager on the same data dir adopts running containers without restarting them', async (t) => {
  const rt = new SimulatedRuntime();
  const h = harness(rt);
  t.teardown(() => h.cleanup());
  await h.manager.start();
  const p = pod({ containers: [{ name: 'c', image: 'img:1', command: sleepForever }, { name: 'd', image: 'img:1', command: sleepForever }] });
  await h.manager.setDesired(set(7, desired(p)));
  await waitStatus(h, p.metadata.uid!, 'Running', (s) => s.phase === 'Running');
  const before = (await rt.list({ [LABEL.podUid]: p.metadata.uid! })).map((c) => c.id).sort();
  const sandboxBefore = (await rt.listSandboxes({ [LABEL.podUid]: p.metadata.uid! }))[0]!.id;
  await h.manager.stop();

  h.latest.clear();
  let runs = 0;
  const run = rt.run.bind(rt);
  rt.run = async (spec) => { runs++; return run(spec); };
  const again = h.make();
  t.teardown(() => again.stop());
  await again.start(); // no controller: the saved set drives it
  const s = await waitStatus(h, p.metadata.uid!, 'Running again', (s) => s.phase === 'Running');
  t.is(runs, 0);
  t.deepEqual((await rt.list({ [LABEL.podUid]: p.metadata.uid! })).map((c) => c.id).sort(), before);
  t.is((await rt.listSandboxes({ [LABEL.podUid]: p.metadata.uid! }))[0]!.id, sandboxBefore);
  t.true(s.containerStatuses!.every((c) => c.restartCount === 0 && c.ready));
  t.is(again.currentGeneration, 7);
});

test('a changed container spec replaces the container on adoption', async (t) => {
  const rt = new SimulatedRuntime();
  const h = harness(rt);
  t.teardown(() => h.cleanup());
  await h.manager.start();
  const p = pod({ containers: [{ name: 'c', image: 'img:1', command: sleepForever }] });
  await h.manager.setDesired(set(1, desired(p)));
  await waitStatus(h, p.metadata.uid!, 'Running', (s) => s.phase === 'Running');
  const p2 = { ...p, spec: { ...p.spec, containers: [{ name: 'c', image: 'img:2', command: sleepForever }] } };
  await h.manager.setDesired(set(2, desired(p2)));
  const s = await waitStatus(h, p.metadata.uid!, 'new image running', (s) => s.containerStatuses?.[0]?.image === 'img:2' && !!s.containerStatuses[0].state.running);
  t.is(s.containerStatuses![0]!.restartCount, 1);
  t.true(h.events.some((e) => e.reason === 'Killing' && e.message === 'Container c definition changed, will be restarted'));
  await h.manager.stop();
});

test('while offline, pods absent from the saved set are kept unless a newer set dropped them', async (t) => {
  const rt = new SimulatedRuntime();
  const h = harness(rt);
  t.teardown(() => h.cleanup());
  await h.manager.start();
  const a = pod({ containers: [{ name: 'c', image: 'img:1', command: sleepForever }] });
  const b = pod({ containers: [{ name: 'c', image: 'img:1', command: sleepForever }] });
  await h.manager.setDesired(set(4, desired(a), desired(b)));
  await waitStatus(h, b.metadata.uid!, 'b Running', (s) => s.phase === 'Running');
  await h.manager.stop();

  // A saved set of the same generation that lacks b (b was created by generation 4): keep b.
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(h.dataDir, 'desired-pods.json'), JSON.stringify(set(4, desired(a))));
  const m2 = h.make();
  await m2.start();
  await new Promise((r) => setTimeout(r, 400));
  t.is((await rt.list({ [LABEL.podUid]: b.metadata.uid! })).filter((c) => c.state === 'running').length, 1);
  await m2.stop();

  // A newer saved set without b: b was dropped by the controller, remove it.
  writeFileSync(join(h.dataDir, 'desired-pods.json'), JSON.stringify(set(5, desired(a))));
  const m3 = h.make();
  t.teardown(() => m3.stop());
  await m3.start();
  await waitFor('b removed', async () => (await rt.list({ [LABEL.podUid]: b.metadata.uid! })).length === 0);
  t.is((await rt.list({ [LABEL.podUid]: a.metadata.uid! })).filter((c) => c.state === 'running').length, 1);
});

test('image pull errors: ErrImageNeverPull, ErrImagePull then ImagePullBackOff', async (t) => {
  const rt = new SimulatedRuntime();
  const h = harness(rt, { backoffBaseMs: 5000 });
  t.teardown(async () => { await h.manager.stop(); h.cleanup(); });
  await h.manager.start();
  const never = pod({ containers: [{ name: 'c', image: 'nonexistent:1', imagePullPolicy: 'Never' }] });
  const pull = pod({ containers: [{ name: 'c', image: 'registry.local/nonexistent' }] }); // no tag → Always
  await h.manager.setDesired(set(1, desired(never), desired(pull)));
  const s = await waitStatus(h, never.metadata.uid!, 'ErrImageNeverPull', (s) => s.containerStatuses?.[0]?.state.waiting?.reason === 'ErrImageNeverPull');
  t.is(s.containerStatuses![0]!.state.waiting!.message, 'Container image "nonexistent:1" is not present with pull policy of Never');
  t.is(s.phase, 'Pending');
  await waitStatus(h, pull.metadata.uid!, 'ErrImagePull', (s) => s.containerStatuses?.[0]?.state.waiting?.reason === 'ErrImagePull');
  await waitStatus(h, pull.metadata.uid!, 'ImagePullBackOff', (s) => s.containerStatuses?.[0]?.state.waiting?.reason === 'ImagePullBackOff', 5000);
  const reasons = h.events.filter((e) => e.involvedObject.uid === pull.metadata.uid).map((e) => e.reason);
  t.deepEqual(reasons.slice(0, 3), ['Pulling', 'Failed', 'Failed']);
  t.true(reasons.includes('BackOff'));
});

test('env, config maps, secrets, downward API and volumes reach the container', async (t) => {
  const rt = new SimulatedRuntime();
  const h = harness(rt);
  t.teardown(async () => { await h.manager.stop(); h.cleanup(); });
  await h.manager.start();
  const p = pod({
    serviceAccountName: 'builder',
    volumes: [
      { name: 'cfg', configMap: { name: 'settings', items: [{ key: 'app.conf', path: 'conf/app.conf' }] } },
      { name: 'sec', secret: { secretName: 'creds', defaultMode: 0o400 } },
    ],
    containers: [{
      name: 'c', image: 'img:1', command: ['sh', '-c', 'echo $(GREETING) $$(HOME) $(MISSING)'],
      env: [
        { name: 'NAME', value: 'world' },
        { name: 'GREETING', value: 'hello-$(NAME)' },
        { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
        { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'HOSTIP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
        { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
        { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
      ],
      envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'settings' } }],
      resources: { limits: { memory: '64Mi', cpu: '250m' } },
      volumeMounts: [{ name: 'cfg', mountPath: '/etc/app' }, { name: 'sec', mountPath: '/etc/creds' }],
    }],
  }, { labels: { app: 'demo' } });
  const dp = desired(p, {
    configMaps: { settings: { mode: 'fast', 'app.conf': 'x=1\n' } },
    secrets: { creds: { password: Buffer.from('s3cret').toString('base64') } },
    serviceAccount: { token: 'tok', caCrt: 'CA', namespace: 'default', apiServer: 'https://10.43.0.1:443' },
  });
  const specs: Parameters<typeof rt.run>[0][] = [];
  const run = rt.run.bind(rt);
  rt.run = async (spec) => { specs.push(spec); return run(spec); };
  await h.manager.setDesired(set(1, dp));
  const s = await waitStatus(h, p.metadata.uid!, 'Running', (s) => s.phase === 'Running');
  const spec = specs[0]!;
  t.is(spec.env['GREETING'], 'hello-world');
  t.is(spec.env['MODE'], 'fast');
  t.is(spec.env['PASSWORD'], 's3cret');
  t.is(spec.env['POD'], p.metadata.name!);
  t.is(spec.env['APP'], 'demo');
  t.is(spec.env['IP'], s.podIP!);
  t.is(spec.env['HOSTIP'], '192.168.1.20');
  t.is(spec.env['SA'], 'builder');
  t.is(spec.env['MEM_MI'], '64');
  t.is(spec.env['CFG_mode'], 'fast');
  t.is(spec.env['KUBERNETES_SERVICE_HOST'], '10.43.0.1');
  t.is(spec.env['KUBERNETES_SERVICE_PORT'], '443');
  t.deepEqual(spec.command, ['sh', '-c', 'echo hello-world $(HOME) $(MISSING)']);
  t.is(spec.cpus, 0.25);
  t.is(spec.memoryBytes, 64 * 1024 * 1024);
  const uidDir = join(h.dataDir, 'pods', p.metadata.uid!, 'volumes');
  t.is(readFileSync(join(uidDir, 'cfg', 'conf', 'app.conf'), 'utf8'), 'x=1\n');
  t.is(readFileSync(join(uidDir, 'sec', 'password'), 'utf8'), 's3cret');
  const { statSync } = await import('node:fs');
  t.is(statSync(join(uidDir, 'sec', 'password')).mode & 0o777, 0o400);
  t.is(readFileSync(join(uidDir, 'kube-api-access', 'token'), 'utf8'), 'tok');
  t.deepEqual(spec.mounts.map((m) => [m.target, m.readOnly]), [['/etc/app', true], ['/etc/creds', true], ['/var/run/secrets/kubernetes.io/serviceaccount', true]]);
});

test('a missing config map key is CreateContainerConfigError', async (t) => {
  const rt = new SimulatedRuntime();
  const h = harness(rt);
  t.teardown(async () => { await h.manager.stop(); h.cleanup(); });
  await h.manager.start();
  const p = pod({ containers: [{ name: 'c', image: 'img:1', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'settings', key: 'nope' } } }] }] }, { namespace: 'team' });
  await h.manager.setDesired(set(1, desired(p, { configMaps: { settings: { mode: 'x' } } })));
  const s = await waitStatus(h, p.metadata.uid!, 'CreateContainerConfigError', (s) => s.containerStatuses?.[0]?.state.waiting?.reason === 'CreateContainerConfigError');
  t.is(s.containerStatuses![0]!.state.waiting!.message, "couldn't find key nope in ConfigMap team/settings");
  t.is(s.phase, 'Pending');
});

test('probes: failed readiness keeps the pod unready, failed liveness restarts the container', async (t) => {
  const rt = new SimulatedRuntime();
  const h = harness(rt, { backoffBaseMs: 100 });
  t.teardown(async () => { await h.manager.stop(); h.cleanup(); });
  await h.manager.start();
  const p = pod({ containers: [
    { name: 'unready', image: 'img:1', command: sleepForever, readinessProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 1 } },
    { name: 'ready', image: 'img:1', command: sleepForever, readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 }, livenessProbe: { httpGet: { port: 80 }, periodSeconds: 1 } },
    { name: 'dead', image: 'img:1', command: sleepForever, livenessProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 2 } },
  ] });
  await h.manager.setDesired(set(1, desired(p)));
  const uid = p.metadata.uid!;
  const s = await waitStatus(h, uid, 'ready container ready', (s) => s.containerStatuses?.find((c) => c.name === 'ready')?.ready === true);
  t.false(s.containerStatuses!.find((c) => c.name === 'unready')!.ready);
  const ready = s.conditions!.find((c) => c.type === 'Ready')!;
  t.is(ready.status, 'False');
  t.regex(ready.message!, /unready/);
  await waitStatus(h, uid, 'liveness restart', (s) => (s.containerStatuses?.find((c) => c.name === 'dead')?.restartCount ?? 0) >= 1, 8000);
  t.true(h.events.some((e) => e.reason === 'Unhealthy' && e.message.startsWith('Liveness probe failed') && e.involvedObject.fieldPath === 'spec.containers{dead}'));
  t.true(h.events.some((e) => e.reason === 'Killing' && e.message === 'Container dead failed liveness probe, will be restarted'));
  t.is(h.latest.get(uid)!.status!.containerStatuses!.find((c) => c.name === 'ready')!.restartCount, 0);
});

test('logs and exec requests, with upstream-like errors', async (t) => {
  const rt = new SimulatedRuntime();
  const h = harness(rt);
  t.teardown(async () => { await h.manager.stop(); h.cleanup(); });
  await h.manager.start();
  const p = pod({ containers: [{ name: 'c', image: 'img:1', command: sleepForever }, { name: 'd', image: 'img:1', command: sleepForever }] }, { name: 'two' });
  await h.manager.setDesired(set(1, desired(p)));
  await waitStatus(h, p.metadata.uid!, 'Running', (s) => s.phase === 'Running');
  const base = { namespace: 'default', pod: 'two', uid: p.metadata.uid! };
  const logs = await request(h.manager, { op: 'logs', transaction: 't1', ...base, container: 'c', follow: false, timestamps: false, tailLines: 1 });
  t.deepEqual(logs.map((c) => c.seq), logs.map((_c, i) => i));
  t.true(logs.at(-1)!.done);
  t.is(output(logs), 'listening, pid 1\n');
  const exec = await request(h.manager, { op: 'exec', transaction: 't2', ...base, container: 'd', command: ['sh', '-c', 'exit 3'], stdin: false, tty: false });
  t.is(exec.at(-1)!.exitCode, 3);
  const echo = await request(h.manager, { op: 'exec', transaction: 't3', ...base, container: 'd', command: ['echo', 'hi'], stdin: false, tty: false });
  t.is(output(echo, 'stdout'), 'hi\n');
  t.is(echo.at(-1)!.exitCode, 0);
  const missing = await request(h.manager, { op: 'logs', transaction: 't4', ...base, container: 'x', follow: false, timestamps: false });
  t.deepEqual(missing, [{ transaction: 't4', seq: 0, done: true, error: 'container "x" in pod "two" is not found' }]);
  const noPod = await request(h.manager, { op: 'exec', transaction: 't5', namespace: 'default', pod: 'nope', uid: 'nope', container: 'c', command: ['true'], stdin: false, tty: false });
  t.is(noPod[0]!.error, 'pods "nope" not found');
  const choose = await request(h.manager, { op: 'logs', transaction: 't6', ...base, container: '', follow: false, timestamps: false });
  t.is(choose[0]!.error, 'a container name must be specified for pod two, choose one of: [c d]');
  const prev = await request(h.manager, { op: 'logs', transaction: 't7', ...base, container: 'c', follow: false, timestamps: false, previous: true });
  t.is(prev[0]!.error, 'previous terminated container "c" in pod "two" not found');
  // a follow stream ends on cancel
  const follow = request(h.manager, { op: 'logs', transaction: 't8', ...base, container: 'c', follow: true, timestamps: true });
  await new Promise((r) => setTimeout(r, 100));
  h.manager.handleRequest({ op: 'cancel', transaction: 't8' }, () => undefined);
  const f = await follow;
  t.true(f.at(-1)!.done);
  t.regex(output(f), /^\d{4}-\d\d-\d\dT.*starting/);
  // usage per pod
  const usage = await h.manager.usage();
  t.is(usage.length, 1);
  t.deepEqual(usage[0]!.containers.map((c) => c.name).sort(), ['c', 'd']);
});

test('resendAllStatus sends the current status again', async (t) => {
  const rt = new SimulatedRuntime();
  const h = harness(rt);
  t.teardown(async () => { await h.manager.stop(); h.cleanup(); });
  await h.manager.start();
  const p = pod({ containers: [{ name: 'c', image: 'img:1', command: sleepForever }] });
  await h.manager.setDesired(set(1, desired(p)));
  await waitStatus(h, p.metadata.uid!, 'Running', (s) => s.phase === 'Running');
  await new Promise((r) => setTimeout(r, 100));
  const n = h.updates.length;
  h.manager.resendAllStatus();
  await waitFor('resent', () => h.updates.length > n);
  t.is(h.updates.at(-1)!.status!.phase, 'Running');
});

test('host ports go to the sandbox; hostNetwork pods use the host IP and no sandbox', async (t) => {
  const rt = new SimulatedRuntime();
  const h = harness(rt);
  t.teardown(async () => { await h.manager.stop(); h.cleanup(); });
  const sandboxes: Parameters<typeof rt.createSandbox>[0][] = [];
  const create = rt.createSandbox.bind(rt);
  rt.createSandbox = async (spec) => { sandboxes.push(spec); return create(spec); };
  await h.manager.start();
  const ported = pod({ containers: [{ name: 'c', image: 'img:1', command: sleepForever, ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 53, hostPort: 5353, protocol: 'UDP' }, { containerPort: 9000 }] }] }, { name: 'ported' });
  const hostNet = pod({ hostNetwork: true, containers: [{ name: 'c', image: 'img:1', command: sleepForever }] });
  await h.manager.setDesired({ ...set(1, desired(ported), desired(hostNet)), dns: { clusterDomain: 'cluster.local', serverIP: '10.43.0.10' } });
  await waitStatus(h, ported.metadata.uid!, 'Running', (s) => s.phase === 'Running');
  const s = await waitStatus(h, hostNet.metadata.uid!, 'Running', (s) => s.phase === 'Running');
  t.is(s.podIP, '192.168.1.20');
  t.is(sandboxes.length, 1);
  t.deepEqual(sandboxes[0]!.ports, [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }, { hostPort: 5353, containerPort: 53, protocol: 'udp' }]);
  t.is(sandboxes[0]!.hostname, 'ported');
  t.deepEqual(sandboxes[0]!.dns, { servers: ['10.43.0.10'], searches: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], options: ['ndots:5'] });
  const [c] = await rt.list({ [LABEL.podUid]: hostNet.metadata.uid! });
  t.truthy(c);
});

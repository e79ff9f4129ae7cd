// The quiet agent's two runtime helpers: the event stream that replaces polling, and the
// cgroup reads that replace `stats`. Parsers on recorded shapes; real podman for the rest.
import test from 'ava';
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRuntimeEvent } from '../../agent/runtime/container-cli-events.js';
import { cgroupFilesOf, readCgroup } from '../../agent/runtime/cgroup-usage.js';
import { followEvents } from '../../agent/runtime/event-follower.js';
import { watchLines } from '../../agent/runtime/child-process.js';
import { PodmanRuntime } from '../../agent/runtime/podman.js';
import { SimulatedRuntime } from '../../agent/runtime/simulated.js';
import type { RuntimeEvent } from '../../agent/runtime/container-runtime.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/podman-image.js';

const RUN = randomBytes(4).toString('hex');
const rt = new PodmanRuntime();

test.after.always(async () => {
  const ids = (await execa('podman', ['ps', '-aq', '--filter', `label=pikube.test/run=${RUN}`], { reject: false })).stdout.split('\n').filter(Boolean);
  if (ids.length) await execa('podman', ['rm', '-f', '-t', '0', ...ids], { reject: false });
});

test('event lines of nerdctl, podman and docker become exits, OOM kills and removals', (t) => {
  const nerdctlExit = JSON.stringify({ Timestamp: '2025-06-01T09:12:33Z', ID: 'c1', Namespace: 'pikube', Topic: '/tasks/exit', Status: 'unknown', Event: JSON.stringify({ container_id: 'c1', id: 'c1', pid: 4242, exit_status: 137 }) });
  t.deepEqual(parseRuntimeEvent(nerdctlExit, { namespace: 'pikube' }), { type: 'container', action: 'exited', id: 'c1' });
  t.is(parseRuntimeEvent(nerdctlExit, { namespace: 'default' }), undefined, 'other namespaces are dropped');
  const execExit = JSON.stringify({ ID: 'c1', Namespace: 'pikube', Topic: '/tasks/exit', Event: JSON.stringify({ container_id: 'c1', id: 'exec-7' }) });
  t.is(parseRuntimeEvent(execExit, { namespace: 'pikube' }), undefined, 'an exec process exiting is not the container');
  t.is(parseRuntimeEvent('', {}), undefined);
  t.is(parseRuntimeEvent('not json', {}), undefined);

  const podmanDied = JSON.stringify({ ContainerExitCode: 137, ID: 'p1', Image: 'localhost/busybox:latest', Name: 'web', Status: 'died', Time: '2025-06-01T09:12:33Z', Type: 'container', Attributes: { 'pikube.io/node': 'n1' } });
  t.deepEqual(parseRuntimeEvent(podmanDied), { type: 'container', action: 'exited', id: 'p1', labels: { 'pikube.io/node': 'n1' } });
  t.is(parseRuntimeEvent(JSON.stringify({ ID: 'p1', Status: 'start', Type: 'container' })), undefined, 'starts do not matter');
  t.is(parseRuntimeEvent(JSON.stringify({ ID: 'p1', Status: 'remove', Type: 'container' }))?.type, 'container');

  const dockerDie = JSON.stringify({ status: 'die', id: 'd1', from: 'busybox', Type: 'container', Action: 'die', Actor: { ID: 'd1', Attributes: { exitCode: '3', name: 'web', 'pikube.io/node': 'n1' } } });
  t.like(parseRuntimeEvent(dockerDie), { action: 'exited', id: 'd1', labels: { 'pikube.io/node': 'n1' } });
  t.like(parseRuntimeEvent(JSON.stringify({ Type: 'container', Action: 'destroy', Actor: { ID: 'd1' } })), { action: 'removed' });
  t.is(parseRuntimeEvent(JSON.stringify({ Type: 'network', Action: 'connect', Actor: { ID: 'n' } })), undefined);
});

test('cgroup files of a process: v1 (and hybrid) and v2', (t) => {
  const v1 = '4:memory:/libpod_parent/libpod-abc\n2:cpuacct:/libpod_parent/libpod-abc\n1:cpu:/libpod_parent/libpod-abc\n0::/libpod_parent/libpod-abc\n';
  t.like(cgroupFilesOf(v1), { cpu: '/sys/fs/cgroup/cpuacct/libpod_parent/libpod-abc/cpuacct.usage', memory: '/sys/fs/cgroup/memory/libpod_parent/libpod-abc/memory.usage_in_bytes' });
  const joined = '3:cpu,cpuacct:/docker/x\n5:memory:/docker/x\n';
  t.is(cgroupFilesOf(joined)?.cpu, '/sys/fs/cgroup/cpu,cpuacct/docker/x/cpuacct.usage');
  const v2 = '0::/system.slice/libpod-abc.scope/container\n';
  t.like(cgroupFilesOf(v2), { cpu: '/sys/fs/cgroup/system.slice/libpod-abc.scope/container/cpu.stat', memory: '/sys/fs/cgroup/system.slice/libpod-abc.scope/container/memory.current', cpuUnit: 'v2-stat' });
  t.is(cgroupFilesOf('garbage'), undefined);
});

test('a v2 cgroup reads as CPU seconds and the working set', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), `pikube-cg-${RUN}-`));
  try {
    await mkdir(join(dir, 'pod'), { recursive: true });
    await writeFile(join(dir, 'pod', 'cpu.stat'), 'usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n');
    await writeFile(join(dir, 'pod', 'memory.current'), '10485760\n');
    await writeFile(join(dir, 'pod', 'memory.stat'), 'anon 4194304\nfile 6291456\ninactive_file 2097152\n');
    const files = cgroupFilesOf('0::/pod\n', dir)!;
    t.deepEqual(await readCgroup(files), { cpuSeconds: 2.5, memoryBytes: 10485760 - 2097152 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the event follower restarts a stream that ended and says events may be missed', async (t) => {
  const seen: RuntimeEvent[] = [];
  let starts = 0;
  const watch = followEvents({
    start: (onLine) => { starts++; return watchLines('sh', ['-c', `echo '{"ID":"x${starts}","Status":"died","Type":"container"}'`], onLine); },
    parse: (line) => parseRuntimeEvent(line),
    onEvent: (e) => seen.push(e),
    minDelayMs: 20,
  });
  const deadline = Date.now() + 10_000;
  while (starts < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  watch.stop();
  t.true(starts >= 3);
  t.like(seen[0], { type: 'container', action: 'exited', id: 'x1' });
  t.true(seen.some((e) => e.type === 'restarted'));
});

test('the simulated runtime reports exits and removals as events', async (t) => {
  const sim = new SimulatedRuntime({ exitDelayMs: 10 });
  const seen: RuntimeEvent[] = [];
  const w = sim.watchEvents((e) => seen.push(e));
  const id = await sim.run({ name: 'a', image: 'x', env: {}, labels: { k: 'v' }, mounts: [], command: ['sh', '-c', 'exit 3'] });
  await new Promise((r) => setTimeout(r, 50));
  await sim.remove(id);
  await new Promise((r) => setTimeout(r, 10));
  w.stop();
  t.deepEqual(seen.map((e) => (e.type === 'container' ? `${e.action}:${e.id === id}:${e.labels?.['k']}` : e.type)), ['exited:true:v', 'removed:true:v']);
});

test('podman: an exit arrives on the event stream, and usage comes from the cgroup without `stats`', async (t) => {
  await ensureBusyboxImage();
  const seen: RuntimeEvent[] = [];
  const watch = rt.watchEvents((e) => seen.push(e));
  try {
    await new Promise((r) => setTimeout(r, 1000)); // the stream is listening
    const labels = { 'pikube.test/run': RUN, 'pikube.io/node': `n-${RUN}` };
    const base = { image: BUSYBOX_IMAGE, env: {}, labels, mounts: [], pullPolicy: 'Never' as const };
    const busy = await rt.run({ ...base, name: `pkt-${RUN}-busy`, command: ['sh', '-c', 'while :; do :; done'] });
    const short = await rt.run({ ...base, name: `pkt-${RUN}-short`, command: ['sh', '-c', 'sleep 1; exit 3'] });
    const deadline = Date.now() + 20_000;
    while (!seen.some((e) => e.type === 'container' && e.action === 'exited' && e.id === short) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const exit = seen.find((e) => e.type === 'container' && e.action === 'exited' && e.id === short);
    t.truthy(exit, `no exit event for ${short}; saw ${JSON.stringify(seen)}`);
    t.is(exit?.type === 'container' ? exit.labels?.['pikube.io/node'] : undefined, `n-${RUN}`);

    // inspect (as every relist does) tells the driver the main process; then stats reads cgroups
    await rt.list({ 'pikube.test/run': RUN });
    const first = await rt.stats([busy]);
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = Date.now();
    const second = await rt.stats([busy]);
    const took = Date.now() - t0;
    t.true(first.has(busy) && second.has(busy));
    const s = second.get(busy)!;
    t.true(s.memoryBytes > 0 && s.memoryBytes < 512 * 1024 * 1024, `memory ${s.memoryBytes}`);
    t.true(s.cpuCores > 0.2, `a busy loop uses CPU: ${s.cpuCores}`);
    t.true(took < 500, `cgroup reads are fast (a \`stats\` call samples for a second): ${took} ms`);
  } finally {
    watch.stop();
  }
});

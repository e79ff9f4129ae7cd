import test from 'ava';
import { Readable } from 'node:stream';
import { NerdctlRuntime } from '../../agent/runtime/nerdctl.js';
import { RuntimeError, type ContainerSpec } from '../../agent/runtime/container-runtime.js';
import { makeFakeCli, type FakeRule } from './fake-cli.js';

const ID1 = '3f2a9c1b7e4d5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d';
const ID2 = '9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c';
const ID3 = '0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9';
const IDS = 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';
const NS = ['--namespace', 'pikube'];

async function withFake(rules: FakeRule[], opts: { address?: string } = {}) {
  const fake = await makeFakeCli('nerdctl', rules);
  const rt = new NerdctlRuntime({ binary: fake.binary, ...opts });
  return { fake, rt };
}

const spec: ContainerSpec = {
  name: 'u1-web',
  image: 'docker.io/library/busybox:latest',
  pullPolicy: 'Never',
  command: ['/bin/sh', '-c'],
  args: ['echo hi; sleep 3600'],
  workingDir: '/srv',
  env: { A: '1', B: 'x=y' },
  labels: { 'pikube.io/pod-uid': 'u1' },
  sandboxId: IDS,
  cpus: 0.5,
  memoryBytes: 64 * 1024 * 1024,
  mounts: [{ source: '/data', target: '/mnt', readOnly: true }],
  user: '1000',
};

test('version reports containerd from Server.Components, global flags first', async (t) => {
  const { fake, rt } = await withFake([{ match: 'version', stdoutFixture: 'nerdctl-version.json' }], { address: '/run/k3s/containerd.sock' });
  t.deepEqual(await rt.version(), { name: 'containerd', version: '1.7.25' });
  t.deepEqual(await fake.calls(), [[...NS, '--address', '/run/k3s/containerd.sock', 'version', '--format', 'json']]);
  await fake.cleanup();
});

test('run passes the exact argv: pull policy, sandbox network, entrypoint split, no --restart/--rm', async (t) => {
  const { fake, rt } = await withFake([{ match: 'run -d', stdout: `${ID1}\n` }]);
  t.is(await rt.run(spec), ID1);
  t.deepEqual(await fake.calls(), [[
    ...NS, 'run', '-d', '--name', 'u1-web', '--pull', 'never', '--network', `container:${IDS}`,
    '--label', 'pikube.io/pod-uid=u1', '--env', 'A=1', '--env', 'B=x=y', '--cpus', '0.5', '--memory', '67108864b',
    '--volume', '/data:/mnt:ro', '--workdir', '/srv', '--user', '1000',
    '--entrypoint', '/bin/sh', 'docker.io/library/busybox:latest', '-c', 'echo hi; sleep 3600',
  ]]);
  await fake.cleanup();
});

test('pull policy maps to --pull always|missing, no sandbox means host network', async (t) => {
  const { fake, rt } = await withFake([{ match: 'run -d', stdout: `${ID1}\n` }]);
  await rt.run({ name: 'a', image: 'img', env: {}, labels: {}, mounts: [], pullPolicy: 'Always' });
  await rt.run({ name: 'b', image: 'img', env: {}, labels: {}, mounts: [], args: ['x'] });
  const calls = await fake.calls();
  t.deepEqual(calls[0], [...NS, 'run', '-d', '--name', 'a', '--pull', 'always', '--network', 'host', 'img']);
  t.deepEqual(calls[1], [...NS, 'run', '-d', '--name', 'b', '--pull', 'missing', '--network', 'host', 'img', 'x']);
  await fake.cleanup();
});

for (const [label, stderrFixture] of [['2.x', 'nerdctl-stderr-name-2x.txt'], ['1.7', 'nerdctl-stderr-name-1.7.txt']] as const) {
  test(`run removes the stale container and retries when the name is taken (${label})`, async (t) => {
    const { fake, rt } = await withFake([
      { match: 'run -d', stderrFixture, exit: 1, once: true },
      { match: 'rm -f', stdout: 'u1-web\n' },
      { match: 'run -d', stdout: `${ID2}\n` },
    ]);
    t.is(await rt.run(spec), ID2);
    const calls = await fake.calls();
    t.is(calls.length, 3);
    t.deepEqual(calls[1], [...NS, 'rm', '-f', 'u1-web']);
    t.deepEqual(calls[2], calls[0]);
    await fake.cleanup();
  });
}

test('a run that fails after creating the container is cleaned up and reported CreateFailed', async (t) => {
  const { fake, rt } = await withFake([
    { match: 'run -d', stderrFixture: 'nerdctl-stderr-entrypoint.txt', exit: 1 },
    { match: 'rm -f', stdout: 'u1-web\n' },
  ]);
  const err = await t.throwsAsync(rt.run(spec), { instanceOf: RuntimeError });
  t.is(err!.kind, 'CreateFailed');
  t.true(err!.message.includes('exec: "/nonexistent": stat /nonexistent'));
  const calls = await fake.calls();
  t.deepEqual(calls.map((c) => c[2]), ['run', 'rm']);
  await fake.cleanup();
});

for (const [fixtureName, kind] of [
  ['nerdctl-stderr-pull-denied.txt', 'ImageNotFound'],
  ['nerdctl-stderr-tag-missing.txt', 'ImageNotFound'],
  ['nerdctl-stderr-never.txt', 'ImageNeverPull'],
  ['nerdctl-stderr-offline.txt', 'Transient'],
] as const) {
  test(`run classifies ${fixtureName} as ${kind} and touches nothing else`, async (t) => {
    const { fake, rt } = await withFake([{ match: 'run -d', stderrFixture: fixtureName, exit: 1 }]);
    const err = await t.throwsAsync(rt.run(spec), { instanceOf: RuntimeError });
    t.is(err!.kind, kind);
    t.false(err!.message.includes('level=fatal'), 'message is unwrapped from the log line');
    t.is((await fake.calls()).length, 1);
    await fake.cleanup();
  });
}

test('list reads labels from inspect (2.x string Labels in ps), excludes sandboxes, maps states', async (t) => {
  const { fake, rt } = await withFake([
    { match: 'ps -a', stdoutFixture: 'nerdctl-ps-2x.jsonl' },
    { match: 'container inspect', stdoutFixture: 'nerdctl-inspect-list.json' },
  ]);
  const list = await rt.list({ 'pikube.io/pod-uid': 'u1' });
  const calls = await fake.calls();
  t.deepEqual(calls[0], [...NS, 'ps', '-a', '--no-trunc', '--format', 'json', '--filter', 'label=pikube.io/pod-uid=u1']);
  t.deepEqual(calls[1], [...NS, 'container', 'inspect', ID1, ID2, IDS]);
  t.deepEqual(list.map((c) => c.name), ['web1', 'job1']);
  const [web, job] = list;
  t.is(web!.labels['note'], 'a,b');
  t.is(web!.labels['nerdctl/networks'], '["bridge"]');
  t.is(web!.state, 'running');
  t.is(web!.startedAt, '2025-06-01T09:12:33.912Z');
  t.is(web!.finishedAt, undefined);
  t.is(web!.image, 'docker.io/library/busybox:latest');
  t.is(job!.state, 'exited');
  t.is(job!.exitCode, 3);
  t.is(job!.finishedAt, undefined, '0001-01-01 means unset');
  await fake.cleanup();
});

test('list copes with 1.7 object Labels and a container that never had a task', async (t) => {
  const { fake, rt } = await withFake([
    { match: 'ps -a', stdoutFixture: 'nerdctl-ps-1.7.jsonl' },
    { match: `container inspect ${ID1} ${ID3}`, stderrFixture: 'nerdctl-stderr-no-container.txt', exit: 1 },
    { match: `container inspect ${ID1}`, stderrFixture: 'nerdctl-stderr-no-container.txt', exit: 1 },
    { match: `container inspect ${ID3}`, stdoutFixture: 'nerdctl-inspect-created.json' },
  ]);
  const list = await rt.list({});
  t.is(list.length, 1, 'the container that vanished between ps and inspect is skipped');
  t.is(list[0]!.state, 'created');
  t.is(list[0]!.startedAt, undefined);
  t.deepEqual((await fake.calls())[0], [...NS, 'ps', '-a', '--no-trunc', '--format', 'json']);
  await fake.cleanup();
});

test('createSandbox runs a pause container on the CNI network with the pod ports', async (t) => {
  const { fake, rt } = await withFake([
    { match: 'run -d', stdout: `${IDS}\n` },
    { match: 'container inspect', stdoutFixture: 'nerdctl-inspect-sandbox.json' },
  ]);
  const sb = await rt.createSandbox({
    name: 'u1-sandbox', labels: { 'pikube.io/pod-uid': 'u1' }, hostname: 'web', hostNetwork: false,
    ports: [{ hostPort: 18080, containerPort: 80, protocol: 'tcp', hostIP: '0.0.0.0' }, { hostPort: 5353, containerPort: 53, protocol: 'udp' }],
    dns: { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local'], options: ['ndots:5'] },
    addHosts: { 'db.local': '192.168.1.5' },
  });
  t.deepEqual(sb, { id: IDS, name: 'u1-sandbox', labels: { 'nerdctl/name': 'u1-sandbox', 'pikube.io/pod-uid': 'u1', 'pikube.io/sandbox': 'true' }, running: true, ip: '10.4.0.7' });
  t.deepEqual((await fake.calls())[0], [
    ...NS, 'run', '-d', '--name', 'u1-sandbox', '--pull', 'missing', '--label', 'pikube.io/pod-uid=u1', '--label', 'pikube.io/sandbox=true',
    '--network', 'bridge', '--hostname', 'web', '--publish', '0.0.0.0:18080:80/tcp', '--publish', '5353:53/udp',
    '--dns', '10.96.0.10', '--dns-search', 'default.svc.cluster.local', '--dns-option', 'ndots:5', '--add-host', 'db.local:192.168.1.5',
    'registry.k8s.io/pause:3.10',
  ]);
  await fake.cleanup();
});

test('listSandboxes keeps only pause containers', async (t) => {
  const { fake, rt } = await withFake([
    { match: 'ps -a', stdoutFixture: 'nerdctl-ps-2x.jsonl' },
    { match: 'container inspect', stdoutFixture: 'nerdctl-inspect-list.json' },
  ]);
  const list = await rt.listSandboxes({ 'pikube.io/pod-uid': 'u1' });
  t.deepEqual(list.map((s) => [s.name, s.ip, s.running]), [['u1-sandbox', '10.4.0.7', true]]);
  t.true((await fake.calls())[0]!.includes('label=pikube.io/sandbox=true'));
  await fake.cleanup();
});

test('stats parses binary units and percent; "--" counts as zero', async (t) => {
  const { fake, rt } = await withFake([{ match: 'stats', stdoutFixture: 'nerdctl-stats.jsonl' }]);
  const stats = await rt.stats([ID1, IDS]);
  t.deepEqual(stats.get(ID1), { cpuCores: 0.255, memoryBytes: Math.round(3.102 * 1024 * 1024) });
  t.deepEqual(stats.get(IDS), { cpuCores: 0, memoryBytes: 0 });
  t.deepEqual((await fake.calls())[0], [...NS, 'stats', '--no-stream', '--no-trunc', '--format', 'json', ID1, IDS]);
  await fake.cleanup();
});

test('stop and rm of a missing container are no-ops; rm of a running one without force is an error', async (t) => {
  const { fake, rt } = await withFake([
    { match: 'stop', stderrFixture: 'nerdctl-stderr-no-container.txt', exit: 1 },
    { match: 'rm -f nosuch', stderr: 'time="x" level=error msg="no such container: nosuch"\n', exit: 0 },
    { match: 'rm -f busy', stderrFixture: 'nerdctl-stderr-rm-running.txt', exit: 1 },
    { match: 'container inspect', stdout: '[]', stderrFixture: 'nerdctl-stderr-no-container.txt', exit: 1 },
  ]);
  await t.notThrowsAsync(rt.stop('nosuch', 5));
  await t.notThrowsAsync(rt.remove('nosuch'));
  const err = await t.throwsAsync(rt.remove('busy'), { instanceOf: RuntimeError });
  t.is(err!.kind, 'Unknown');
  t.is(await rt.inspect('nosuch'), undefined);
  t.deepEqual((await fake.calls())[0], [...NS, 'stop', '-t', '5', 'nosuch']);
  await fake.cleanup();
});

test('logs passes --timestamps --tail --follow and streams output', async (t) => {
  const { fake, rt } = await withFake([{ match: 'logs', stdout: '2025-06-01T09:12:34.1Z hi\n', stderr: '2025-06-01T09:12:34.2Z oops\n' }]);
  const got: string[] = [];
  await rt.logs(ID1, { follow: true, tailLines: 2, timestamps: true, sinceSeconds: 60 }, (s, c) => got.push(`${s}:${c.toString()}`));
  t.deepEqual((await fake.calls())[0], [...NS, 'logs', '--timestamps', '--tail', '2', '--since', '60s', '--follow', ID1]);
  t.true(got.includes('stdout:2025-06-01T09:12:34.1Z hi\n'));
  t.true(got.includes('stderr:2025-06-01T09:12:34.2Z oops\n'));
  await fake.cleanup();
});

test('exec returns the command exit code, -i only with stdin, and throws NotFound for a missing container', async (t) => {
  const { fake, rt } = await withFake([
    { match: 'exec --interactive', stdout: 'fed\n', exit: 0 },
    { match: `exec ${ID1}`, stdout: 'out\n', exit: 3 },
    { match: 'exec nosuch', stderrFixture: 'nerdctl-stderr-exec-missing.txt', exit: 1 },
  ]);
  const out: string[] = [];
  t.is(await rt.exec(ID1, ['sh', '-c', 'echo out; exit 3'], { tty: false }, (_s, c) => out.push(c.toString())), 3);
  t.deepEqual(out, ['out\n']);
  t.is(await rt.exec(ID1, ['cat'], { tty: false, stdin: Readable.from(['fed\n']) }, () => {}), 0);
  const err = await t.throwsAsync(rt.exec('nosuch', ['true'], { tty: false }, () => {}), { instanceOf: RuntimeError });
  t.is(err!.kind, 'NotFound');
  const calls = await fake.calls();
  t.deepEqual(calls[0], [...NS, 'exec', ID1, 'sh', '-c', 'echo out; exit 3']);
  t.deepEqual(calls[1], [...NS, 'exec', '--interactive', ID1, 'cat']);
  await fake.cleanup();
});

test('image inspect answers imageExists and imageId; pull -q errors are classified', async (t) => {
  const { fake, rt } = await withFake([
    { match: 'image inspect busybox', stdoutFixture: 'nerdctl-image-inspect.json' },
    { match: 'image inspect', stderr: 'time="x" level=fatal msg="no such image: nope"\n', exit: 1 },
    { match: 'pull', stderrFixture: 'nerdctl-stderr-pull-denied.txt', exit: 1 },
  ]);
  t.true(await rt.imageExists('busybox:latest'));
  t.false(await rt.imageExists('nope'));
  t.is(await rt.imageId('busybox:latest'), 'sha256:65ad0d468eb1c558bf7f4e64e790f586e9eda649ee9f130cd0e835b292bbc5ac');
  const err = await t.throwsAsync(rt.pull('nonexist'), { instanceOf: RuntimeError });
  t.is(err!.kind, 'ImageNotFound');
  t.deepEqual((await fake.calls()).at(-1), [...NS, 'pull', '-q', 'nonexist']);
  await fake.cleanup();
});

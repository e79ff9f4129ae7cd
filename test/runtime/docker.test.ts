import test from 'ava';
import { DockerRuntime } from '../../agent/runtime/docker.js';
import { RuntimeError } from '../../agent/runtime/container-runtime.js';
import { makeFakeCli, type FakeRule } from './fake-cli.js';

const D1 = '4e1f2a3b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f';
const D2 = '7c6b5a49382716f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d';
const DS = '5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a';
const IMG = 'sha256:a416a98b71e224a31ee99cff8e16063554498227d2b696152a9c3e0aa65e5824';

async function withFake(rules: FakeRule[]) {
  const fake = await makeFakeCli('docker', rules);
  return { fake, rt: new DockerRuntime({ binary: fake.binary }) };
}

test('version is the engine version', async (t) => {
  const { fake, rt } = await withFake([{ match: 'version', stdoutFixture: 'docker-version.json' }]);
  t.deepEqual(await rt.version(), { name: 'docker', version: '27.3.1' });
  t.deepEqual(await fake.calls(), [['version', '--format', 'json']]);
  await fake.cleanup();
});

test('list: leading slash stripped, image ref from Config.Image, ID from Image, OOMKilled, zero FinishedAt', async (t) => {
  const { fake, rt } = await withFake([
    { match: 'ps -a', stdoutFixture: 'docker-ps.jsonl' },
    { match: 'container inspect', stdoutFixture: 'docker-inspect.json' },
  ]);
  const [web, job] = await rt.list({ 'pikube.io/pod-uid': 'u2' });
  t.deepEqual(web, {
    id: D1, name: 'web2', image: 'busybox:latest', imageId: IMG, labels: { app: 'demo', 'pikube.io/pod-uid': 'u2' },
    state: 'running', startedAt: '2025-06-01T09:12:33.912Z',
  });
  t.is(job!.name, 'job2');
  t.is(job!.state, 'exited');
  t.is(job!.exitCode, 137);
  t.true(job!.oomKilled);
  t.is(job!.finishedAt, '2025-06-01T09:10:09.750Z');
  t.deepEqual((await fake.calls())[1], ['container', 'inspect', D1, D2]);
  await fake.cleanup();
});

test('sandbox is a pause container; members join with --network container:', async (t) => {
  const { fake, rt } = await withFake([
    { match: `run -d --name u2-sandbox`, stdout: `Unable to find image\n${DS}\n` },
    { match: 'run -d', stdout: `${D1}\n` },
    { match: 'container inspect', stdoutFixture: 'docker-inspect-sandbox.json' },
  ]);
  const sb = await rt.createSandbox({ name: 'u2-sandbox', labels: { 'pikube.io/pod-uid': 'u2' }, hostNetwork: false, ports: [] });
  t.is(sb.name, 'u2-sandbox');
  t.is(sb.ip, '172.17.0.3');
  await rt.run({ name: 'web2', image: 'busybox:latest', env: {}, labels: {}, mounts: [], sandboxId: sb.id });
  const calls = await fake.calls();
  t.deepEqual(calls[0], ['run', '-d', '--name', 'u2-sandbox', '--pull', 'missing', '--label', 'pikube.io/pod-uid=u2', '--label', 'pikube.io/sandbox=true', 'registry.k8s.io/pause:3.10']);
  t.deepEqual(calls[2], ['run', '-d', '--name', 'web2', '--pull', 'missing', '--network', `container:${DS}`, 'busybox:latest']);
  await fake.cleanup();
});

test('docker error texts are classified', async (t) => {
  const { fake, rt } = await withFake([
    { match: 'run -d --name a ', stderrFixture: 'docker-stderr-pull-denied.txt', exit: 125 },
    { match: 'run -d --name b ', stderrFixture: 'docker-stderr-never.txt', exit: 125 },
    { match: 'run -d --name c ', stderrFixture: 'docker-stderr-conflict.txt', exit: 125, once: true },
    { match: 'rm -f c', stdout: 'c\n' },
    { match: 'run -d --name c ', stdout: `${D2}\n` },
    { match: 'exec nosuch', stderrFixture: 'docker-stderr-no-container.txt', exit: 1 },
    { match: 'stop', stderrFixture: 'docker-stderr-no-container.txt', exit: 1 },
  ]);
  const base = { image: 'x:1', env: {}, labels: {}, mounts: [] };
  t.is((await t.throwsAsync(rt.run({ ...base, name: 'a' }), { instanceOf: RuntimeError }))!.kind, 'ImageNotFound');
  t.is((await t.throwsAsync(rt.run({ ...base, name: 'b', pullPolicy: 'Never' }), { instanceOf: RuntimeError }))!.kind, 'ImageNeverPull');
  t.is(await rt.run({ ...base, name: 'c' }), D2);
  t.is((await t.throwsAsync(rt.exec('nosuch', ['true'], { tty: false }, () => {}), { instanceOf: RuntimeError }))!.kind, 'NotFound');
  await t.notThrowsAsync(rt.stop('nosuch', 0));
  await fake.cleanup();
});

test('stats: PascalCase, 150% is one and a half cores', async (t) => {
  const { fake, rt } = await withFake([{ match: 'stats', stdoutFixture: 'docker-stats.jsonl' }]);
  const s = await rt.stats([D1]);
  t.deepEqual(s.get(D1), { cpuCores: 1.5, memoryBytes: 12.5 * 1024 * 1024 });
  await fake.cleanup();
});

// Image commands of the nerdctl and docker drivers against recorded CLI outputs: pulls
// with credentials (handed over in a private $DOCKER_CONFIG that is gone afterwards),
// the registry's refusals, platform errors, registries config flags, listing and removal.
import test from 'ava';
import { existsSync } from 'node:fs';
import { NerdctlRuntime } from '../../agent/runtime/nerdctl.js';
import { DockerRuntime } from '../../agent/runtime/docker.js';
import { RuntimeError } from '../../agent/runtime/container-runtime.js';
import { RegistrySettings } from '../../agent/images/registries-config.js';
import { parseRegistriesConfig } from '../../protocol/images/registries-yaml.js';
import { makeFakeCli } from './fake-cli.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NS = ['--namespace', 'pikube'];
const REF = '192.168.1.20:5000/lab/app:1.4';
const CRED = { registry: '192.168.1.20:5000', username: 'lab', password: 's3cret' };

test('nerdctl pull: the credential only in a 0700 $DOCKER_CONFIG with a 0600 config.json, removed after', async (t) => {
  const fake = await makeFakeCli('nerdctl', [{ match: 'pull', stderrFixture: 'nerdctl-pull-progress.txt' }]);
  const rt = new NerdctlRuntime({ binary: fake.binary });
  await rt.pull(REF, { credential: CRED });
  t.deepEqual(await fake.calls(), [[...NS, 'pull', '-q', REF]], 'no secret on the command line');
  const [seen] = await fake.dockerConfigs();
  t.is(seen!.dirMode, 0o700);
  t.is(seen!.fileMode, 0o600);
  t.is(Buffer.from(seen!.config.auths['192.168.1.20:5000']!.auth, 'base64').toString(), 'lab:s3cret');
  t.false(existsSync(seen!.dir), 'gone after the pull');
  await rt.pull(REF);
  t.is((await fake.dockerConfigs()).length, 1, 'an anonymous pull gets no config');
  await fake.cleanup();
});

test('nerdctl pull errors: 401 is Unauthorized with the registry\'s words, a missing platform is an image error', async (t) => {
  const fake = await makeFakeCli('nerdctl', [
    { match: 'lab/app', stderrFixture: 'nerdctl-stderr-pull-unauthorized.txt', exit: 1 },
    { match: 'lab/tool', stderrFixture: 'nerdctl-stderr-pull-platform.txt', exit: 1 },
  ]);
  const rt = new NerdctlRuntime({ binary: fake.binary });
  const e1 = await t.throwsAsync(rt.pull(REF), { instanceOf: RuntimeError });
  t.is(e1!.kind, 'Unauthorized');
  t.regex(e1!.message, /401 Unauthorized/);
  const e2 = await t.throwsAsync(rt.pull('ghcr.io/lab/tool:2'), { instanceOf: RuntimeError });
  t.is(e2!.kind, 'ImageNotFound');
  t.regex(e2!.message, /no match for platform in manifest/);
  await fake.cleanup();
});

test('nerdctl pull with a registries config: --hosts-dir, and --insecure-registry for an insecure host', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pikube-regcfg-'));
  const settings = new RegistrySettings(parseRegistriesConfig('mirrors:\n  docker.io:\n    endpoint: ["http://nas.lan:5000"]\nconfigs:\n  "192.168.1.20:5000":\n    tls: {insecure_skip_verify: true}\n'));
  await settings.materialise(dir);
  const fake = await makeFakeCli('nerdctl', [{ match: 'pull' }]);
  const rt = new NerdctlRuntime({ binary: fake.binary, registries: settings });
  await rt.pull(REF);
  await rt.pull('busybox:1.36');
  await rt.pull('ghcr.io/a/b:1');
  const hosts = join(dir, 'hosts');
  t.deepEqual(await fake.calls(), [
    [...NS, 'pull', '-q', '--hosts-dir', hosts, '--insecure-registry', REF],
    [...NS, 'pull', '-q', '--hosts-dir', hosts, '--insecure-registry', 'busybox:1.36'],
    [...NS, 'pull', '-q', '--hosts-dir', hosts, 'ghcr.io/a/b:1'],
  ]);
  t.true(existsSync(join(hosts, 'docker.io', 'hosts.toml')));
  await fake.cleanup();
  await rm(dir, { recursive: true, force: true });
});

test('nerdctl images: ids, then one inspect; rmi by name, never forced', async (t) => {
  const fake = await makeFakeCli('nerdctl', [
    { match: 'images -q --no-trunc', stdoutFixture: 'nerdctl-images-q.txt' },
    { match: 'image inspect', stdoutFixture: 'nerdctl-image-inspect.json' },
    { match: 'rmi' },
  ]);
  const rt = new NerdctlRuntime({ binary: fake.binary });
  const images = await rt.listImages();
  t.deepEqual(images, [{
    id: 'sha256:65ad0d468eb1c558bf7f4e64e790f586e9eda649ee9f130cd0e835b292bbc5ac',
    names: ['busybox:latest', 'busybox@sha256:9ae97d36d26566ff84e8893c64a6dc4fe8ca6d1144bf5b87b2b85a32def253c7'],
    sizeBytes: 4287296, created: '2024-09-26T21:31:42.000Z',
  }]);
  await rt.removeImage(images[0]!);
  const calls = await fake.calls();
  t.deepEqual(calls.at(-1), [...NS, 'rmi', 'busybox:latest']);
  await fake.cleanup();
});

test('docker pull: credential through $DOCKER_CONFIG; "no basic auth credentials" is Unauthorized', async (t) => {
  const fake = await makeFakeCli('docker', [
    { match: 'pull', once: true },
    { match: 'pull', stderrFixture: 'docker-stderr-pull-unauthorized.txt', exit: 1 },
  ]);
  const rt = new DockerRuntime({ binary: fake.binary });
  await rt.pull(REF, { credential: CRED });
  t.deepEqual((await fake.calls())[0], ['pull', '-q', REF]);
  t.is((await fake.dockerConfigs())[0]!.fileMode, 0o600);
  const e = await t.throwsAsync(rt.pull(REF), { instanceOf: RuntimeError });
  t.is(e!.kind, 'Unauthorized');
  await fake.cleanup();
});

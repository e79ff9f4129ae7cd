// Unit tests of the image plumbing's parsers: references, docker-registry Secrets and
// their matching, registries.yaml, platform compatibility, eviction thresholds.
import test from 'ava';
import { credentialsFor, credentialsOfSecret } from '../../protocol/images/docker-config.js';
import { parseImageRef } from '../../protocol/images/image-ref.js';
import { parseRegistriesConfig, RegistriesConfigError } from '../../protocol/images/registries-yaml.js';
import { RegistrySettings } from '../../agent/images/registries-config.js';
import { canRun, imagePlatformMismatch, pullMatcherOf } from '../../controller/scheduler/image-platform-fit.js';
import { parseChallenge } from '../../controller/images/registry-client.js';
import { parseEvictionHard } from '../../agent/images/disk-pressure.js';
import { armVariantFromCpuinfo, parsePlatform } from '../../agent/node-platform.js';
import { effectivePullPolicy } from '../../agent/pods/image-puller.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('image references normalise like the container tools', (t) => {
  t.deepEqual(parseImageRef('busybox'), { registry: 'docker.io', repository: 'library/busybox', tag: 'latest' });
  t.deepEqual(parseImageRef('ghcr.io/me/app:1.2'), { registry: 'ghcr.io', repository: 'me/app', tag: '1.2' });
  t.deepEqual(parseImageRef('127.0.0.1:5000/lab/bb@sha256:abc'), { registry: '127.0.0.1:5000', repository: 'lab/bb', digest: 'sha256:abc' });
  t.deepEqual(parseImageRef('localhost/busybox:latest'), { registry: 'localhost', repository: 'busybox', tag: 'latest' });
  t.deepEqual(parseImageRef('me/app'), { registry: 'docker.io', repository: 'me/app', tag: 'latest' });
});

test('pull policy defaults by tag as upstream', (t) => {
  t.is(effectivePullPolicy({ name: 'c', image: 'busybox' }), 'Always');
  t.is(effectivePullPolicy({ name: 'c', image: 'busybox:latest' }), 'Always');
  t.is(effectivePullPolicy({ name: 'c', image: 'reg:5000/busybox:1' }), 'IfNotPresent');
  t.is(effectivePullPolicy({ name: 'c', image: 'reg:5000/busybox' }), 'Always');
  t.is(effectivePullPolicy({ name: 'c', image: 'busybox@sha256:00' }), 'IfNotPresent');
});

test('.dockerconfigjson and .dockercfg secrets give credentials, most specific key first', (t) => {
  const json = { auths: { 'reg.lan:5000': { auth: b64('lab:s3cret') }, 'https://index.docker.io/v1/': { username: 'hub', password: 'pw' }, 'reg.lan:5000/team': { auth: b64('team:t') } } };
  const creds = credentialsOfSecret({ '.dockerconfigjson': b64(JSON.stringify(json)) });
  t.is(creds.length, 3);
  t.deepEqual(credentialsFor('reg.lan:5000/team/app:1', creds).map((c) => c.username), ['team', 'lab']);
  t.deepEqual(credentialsFor('reg.lan:5000/other/app:1', creds).map((c) => c.username), ['lab']);
  t.deepEqual(credentialsFor('nginx', creds).map((c) => c.username), ['hub']);
  t.deepEqual(credentialsFor('reg.lan/app', creds), [], 'the port must match');
  const cfg = credentialsOfSecret({ '.dockercfg': b64(JSON.stringify({ '*.lan': { auth: b64('w:x') } })) });
  t.deepEqual(credentialsFor('nas.lan/app', cfg).map((c) => c.username), ['w']);
  t.deepEqual(credentialsFor('a.nas.lan/app', cfg), []);
  t.deepEqual(credentialsOfSecret({ '.dockerconfigjson': b64('not json') }), []);
});

test('registries.yaml: mirrors and configs, errors name the field', (t) => {
  const cfg = parseRegistriesConfig(`
mirrors:
  docker.io:
    endpoint: ["http://nas.lan:5000", "https://mirror.lan"]
configs:
  "mirror.lan":
    tls: {ca_file: /etc/ca.crt}
  "reg.lan:5000":
    auth: {username: lab, password: s3cret}
    tls: {insecure_skip_verify: true}
`);
  t.deepEqual(cfg.mirrors['docker.io'], { endpoints: ['http://nas.lan:5000', 'https://mirror.lan'] });
  t.deepEqual(cfg.configs['reg.lan:5000']?.auth, { username: 'lab', password: 's3cret' });
  const s = new RegistrySettings(cfg);
  t.true(s.insecure('nas.lan:5000'));
  t.true(s.insecure('reg.lan:5000'));
  t.false(s.insecure('mirror.lan'));
  const conf = s.podmanConf();
  t.regex(conf, /prefix = "docker.io"[\s\S]*\[\[registry.mirror]]\nlocation = "nas.lan:5000"\ninsecure = true/);
  t.regex(conf, /location = "reg.lan:5000"\ninsecure = true/);
  const hosts = s.containerdHosts();
  t.regex(hosts.get('docker.io')!, /server = "https:\/\/registry-1.docker.io"[\s\S]*\[host."http:\/\/nas.lan:5000"][\s\S]*\[host."https:\/\/mirror.lan"]\n {2}capabilities = \["pull", "resolve"]\n {2}ca = "\/etc\/ca.crt"/);
  t.regex(hosts.get('reg.lan:5000')!, /skip_verify = true/);
  const e = t.throws(() => parseRegistriesConfig('mirrors:\n  docker.io:\n    endpoint: 5\n'), { instanceOf: RegistriesConfigError });
  t.regex(e!.message, /mirrors\.docker\.io\.endpoint/);
  t.throws(() => parseRegistriesConfig('configs:\n  a:\n    tls: {insecure_skip_verify: "yes"}\n'), { message: /configs\.a\.tls\.insecure_skip_verify/ });
});

test('platforms: what each runtime pulls, per-node reason names image and platforms', (t) => {
  const arm64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };
  const armv7 = { os: 'linux', architecture: 'arm', variant: 'v7' };
  const armv6 = { os: 'linux', architecture: 'arm', variant: 'v6' };
  const amd64 = { os: 'linux', architecture: 'amd64' };
  const img = (architecture: string, variant?: string, soleManifest?: true) => ({ os: 'linux', architecture, ...(variant ? { variant } : {}), ...(soleManifest ? { soleManifest } : {}) });
  t.is(pullMatcherOf('nerdctl://2.0.3'), 'strict');
  t.is(pullMatcherOf('podman://4.3.1'), 'containers-image');
  t.is(pullMatcherOf('docker://27.0.1'), 'containerd-only');
  t.is(pullMatcherOf(undefined), 'strict');
  // containerd's strict matcher (nerdctl, the CRI's transfer service): the board's own platform only
  t.true(canRun(arm64, img('arm64')));
  t.true(canRun(arm64, img('arm64', 'v8')));
  t.false(canRun(arm64, img('arm', 'v7')));
  t.true(canRun(armv7, img('arm')), 'arm without a variant is v7');
  t.false(canRun(armv7, img('arm', 'v6')));
  t.false(canRun(amd64, img('386')));
  // containerd's Only (docker): arm64 also arm/v8..v5, armv7 also v6 and v5, amd64 also 386
  t.true(canRun(arm64, img('arm', 'v7'), 'containerd-only'));
  t.true(canRun(armv7, img('arm', 'v6'), 'containerd-only'));
  t.false(canRun(armv6, img('arm', 'v7'), 'containerd-only'));
  t.false(canRun(armv7, img('arm64'), 'containerd-only'));
  t.true(canRun(amd64, img('386'), 'containerd-only'));
  // podman: from an index its own architecture only, a single manifest whatever the kernel executes
  t.false(canRun(arm64, img('arm', 'v7'), 'containers-image'));
  t.true(canRun(arm64, img('arm', 'v7', true), 'containers-image'));
  t.true(canRun(armv7, img('arm', 'v6'), 'containers-image'));
  t.false(canRun(amd64, img('arm64', undefined, true), 'containers-image'));
  for (const m of ['strict', 'containerd-only', 'containers-image'] as const) {
    t.false(canRun(amd64, { os: 'windows', architecture: 'amd64' }, m));
    t.false(canRun(amd64, img('arm64'), m));
  }
  const labels = { 'kubernetes.io/arch': 'arm', 'kubernetes.io/os': 'linux', 'pikube.io/arch-variant': 'v7' };
  t.is(imagePlatformMismatch(labels, [{ image: 'r/x:1', platforms: [{ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'amd64' }] }]),
    'node(s) didn\'t match the platforms of image "r/x:1" (linux/arm64, linux/amd64)');
  t.is(imagePlatformMismatch(labels, [{ image: 'r/x:1', platforms: [] }]), undefined, 'nothing known rules nothing out');
});

test('auth challenges, eviction thresholds, ARM variants', (t) => {
  t.deepEqual(parseChallenge('Bearer realm="https://auth.lan/token",service="reg",scope="repository:a/b:pull"'), { scheme: 'bearer', params: { realm: 'https://auth.lan/token', service: 'reg', scope: 'repository:a/b:pull' } });
  t.deepEqual(parseChallenge('Basic realm="lab"'), { scheme: 'basic', params: { realm: 'lab' } });
  t.deepEqual(parseEvictionHard('nodefs.available<10%,imagefs.available<2Gi,memory.available<100Mi'), [
    { signal: 'nodefs.available', percent: 10 }, { signal: 'imagefs.available', bytes: 2 * 1024 ** 3 },
  ]);
  t.throws(() => parseEvictionHard('nodefs.available>10%'));
  t.is(armVariantFromCpuinfo('processor\t: 0\nCPU architecture: 7\n'), 'v7');
  t.deepEqual(parsePlatform('arm/v7'), { architecture: 'arm', variant: 'v7' });
  t.throws(() => parsePlatform('arm/7'));
});

// Real podman, real containers built from busybox-static. Everything created carries a
// label unique to this run and is removed at the end.
import test from 'ava';
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { PodmanRuntime, PODMAN_NPROC_CEILING } from '../../agent/runtime/podman.js';
import { RuntimeError, type ContainerSpec, type RuntimeContainer } from '../../agent/runtime/container-runtime.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/podman-image.js';

const RUN = randomBytes(4).toString('hex');
const RUN_LABEL = { 'pikube.test/run': RUN };
const rt = new PodmanRuntime();
const HOST_PORT = 20000 + (parseInt(RUN, 16) % 20000);

function container(name: string, command: string[], extra: Partial<ContainerSpec> = {}): ContainerSpec {
  return { name: `pkt-${RUN}-${name}`, image: BUSYBOX_IMAGE, command, env: {}, labels: { ...RUN_LABEL }, mounts: [], pullPolicy: 'Never', ...extra };
}

async function waitExited(id: string, timeoutMs = 15_000): Promise<RuntimeContainer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await rt.inspect(id);
    if (c?.state === 'exited') return c;
    if (Date.now() > deadline) throw new Error(`container ${id} still ${c?.state}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

test.before(async () => {
  await ensureBusyboxImage();
});

test.after.always(async () => {
  const label = `label=pikube.test/run=${RUN}`;
  const pods = await execa('podman', ['pod', 'ps', '-q', '--filter', label], { reject: false });
  for (const id of String(pods.stdout).split('\n').filter(Boolean)) await execa('podman', ['pod', 'rm', '-f', id], { reject: false });
  const ctrs = await execa('podman', ['ps', '-aq', '--filter', label], { reject: false });
  for (const id of String(ctrs.stdout).split('\n').filter(Boolean)) await execa('podman', ['rm', '-f', '-t', '0', id], { reject: false });
});

test.serial('version answers 4.x', async (t) => {
  const v = await rt.version();
  t.is(v.name, 'podman');
  t.regex(v.version, /^\d+\.\d+/);
});

test.serial('a sandbox pod: two containers share localhost, hostname and published port', async (t) => {
  const podLabels = { ...RUN_LABEL, 'pikube.test/pod': 'p1' };
  const sb = await rt.createSandbox({
    name: `pkt-${RUN}-p1`, labels: podLabels, hostname: 'web-0', hostNetwork: false,
    ports: [{ hostPort: HOST_PORT, containerPort: 8080, protocol: 'tcp' }],
  });
  t.true(sb.running);
  t.regex(sb.ip ?? '', /^\d+\.\d+\.\d+\.\d+$/);
  t.deepEqual(sb.labels, podLabels);

  const server = await rt.run(container('http', ['sh', '-c', 'mkdir -p /tmp/www && echo hello-pod > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www'], { sandboxId: sb.id, labels: podLabels }));
  const client = await rt.run(container('wget', ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://127.0.0.1:8080/ && exit 0; sleep 0.3; done; exit 1'], { sandboxId: sb.id, labels: podLabels }));
  const done = await waitExited(client);
  t.is(done.exitCode, 0);
  const out: string[] = [];
  await rt.logs(client, { follow: false, timestamps: false }, (_s, c) => out.push(c.toString()));
  t.true(out.join('').includes('hello-pod'));

  t.is(await httpGet(HOST_PORT), 'hello-pod\n');
  const host: string[] = [];
  t.is(await rt.exec(server, ['hostname'], { tty: false }, (_s, c) => host.push(c.toString())), 0);
  t.is(host.join('').trim(), 'web-0');

  const listed = await rt.list({ 'pikube.test/pod': 'p1', ...RUN_LABEL });
  t.deepEqual(listed.map((c) => c.name).sort(), [`pkt-${RUN}-http`, `pkt-${RUN}-wget`], 'the infra container is not listed');
  const http = listed.find((c) => c.id === server)!;
  t.is(http.state, 'running');
  t.is(http.image, BUSYBOX_IMAGE);
  t.regex(http.imageId ?? '', /^[0-9a-f]{64}$/);
  t.truthy(http.startedAt);

  const stats = await rt.stats([server]);
  t.true((stats.get(server)?.memoryBytes ?? 0) > 0);

  const sandboxes = await rt.listSandboxes({ 'pikube.test/pod': 'p1' });
  t.deepEqual(sandboxes.map((s) => [s.id, s.ip, s.running]), [[sb.id, sb.ip, true]]);
  await rt.removeSandbox(sb.id);
  t.deepEqual(await rt.listSandboxes({ 'pikube.test/pod': 'p1' }), []);
  await t.notThrowsAsync(rt.removeSandbox(sb.id));
});

test.serial('the host-limit adaptation stays within what podman can grant', (t) => {
  const { ulimits } = rt.adaptations;
  // Only hosts with low hard limits need it; when present it must be usable.
  for (const u of ulimits ?? []) {
    const m = /^(nofile|nproc)=(\d+):(\d+)$/.exec(u);
    t.truthy(m, u);
    t.true(Number(m![2]) <= Number(m![3]));
    if (m![1] === 'nproc') t.true(Number(m![3]) <= PODMAN_NPROC_CEILING);
  }
  t.pass();
});

test.serial('exit codes and finish times are reported', async (t) => {
  const id = await rt.run(container('exit7', ['sh', '-c', 'sleep 0.3; exit 7']));
  const c = await waitExited(id);
  t.is(c.exitCode, 7);
  t.truthy(c.finishedAt);
  t.true(Date.parse(c.finishedAt!) >= Date.parse(c.startedAt!), `${c.startedAt} .. ${c.finishedAt}`);
});

test.serial('Never with an absent image is ImageNeverPull, and nothing is left behind', async (t) => {
  const err = await t.throwsAsync(rt.run(container('nope', ['true'], { image: 'localhost/nope:1' })), { instanceOf: RuntimeError });
  t.is(err!.kind, 'ImageNeverPull');
  t.is(await rt.inspect(`pkt-${RUN}-nope`), undefined);
  t.false(await rt.imageExists('localhost/nope:1'));
  t.true(await rt.imageExists(BUSYBOX_IMAGE));
});

test.serial('a missing entrypoint is CreateFailed', async (t) => {
  const err = await t.throwsAsync(rt.run(container('badentry', ['/nonexistent'])), { instanceOf: RuntimeError });
  t.is(err!.kind, 'CreateFailed');
  t.is(await rt.inspect(`pkt-${RUN}-badentry`), undefined, 'the half-created container was removed');
});

test.serial('logs with timestamps and tail', async (t) => {
  const id = await rt.run(container('logs', ['sh', '-c', 'echo one; echo two; echo three >&2']));
  await waitExited(id);
  const chunks: { s: string; text: string }[] = [];
  await rt.logs(id, { follow: false, timestamps: true, tailLines: 2 }, (s, c) => chunks.push({ s, text: c.toString() }));
  const lines = chunks.map((c) => c.text).join('').split('\n').filter(Boolean);
  t.is(lines.length, 2);
  for (const l of lines) t.regex(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) /);
  t.deepEqual(lines.map((l) => l.split(' ').slice(1).join(' ')), ['two', 'three']);
});

test.serial('exec: exit code 3 and stdout; stdin is fed; a missing container is NotFound', async (t) => {
  const id = await rt.run(container('exec', ['sleep', '300']));
  const out: string[] = [];
  t.is(await rt.exec(id, ['sh', '-c', 'echo out; exit 3'], { tty: false }, (s, c) => s === 'stdout' && out.push(c.toString())), 3);
  t.is(out.join(''), 'out\n');
  const { Readable } = await import('node:stream');
  const echoed: string[] = [];
  t.is(await rt.exec(id, ['cat'], { tty: false, stdin: Readable.from(['fed via stdin\n']) }, (_s, c) => echoed.push(c.toString())), 0);
  t.is(echoed.join(''), 'fed via stdin\n');
  const err = await t.throwsAsync(rt.exec(`pkt-${RUN}-nosuch`, ['true'], { tty: false }, () => {}), { instanceOf: RuntimeError });
  t.is(err!.kind, 'NotFound');
  await rt.remove(id);
});

test.serial('stop honours the grace period: TERM-aware exits at once, TERM-deaf is killed after it', async (t) => {
  const polite = await rt.run(container('polite', ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done']));
  const deaf = await rt.run(container('deaf', ['sleep', '300']));
  await new Promise((r) => setTimeout(r, 300));
  let start = Date.now();
  await rt.stop(polite, 20);
  t.true(Date.now() - start < 8000);
  t.is((await rt.inspect(polite))!.exitCode, 0);
  start = Date.now();
  await rt.stop(deaf, 1);
  const took = Date.now() - start;
  t.true(took >= 900 && took < 10_000, `took ${took} ms`);
  t.is((await rt.inspect(deaf))!.exitCode, 137);
  await t.notThrowsAsync(rt.stop(`pkt-${RUN}-nosuch`, 1));
});

test.serial('run replaces a stale container of the same name; remove is idempotent', async (t) => {
  const first = await rt.run(container('same', ['sleep', '300'], { labels: { ...RUN_LABEL, gen: '1' } }));
  const second = await rt.run(container('same', ['sleep', '300'], { labels: { ...RUN_LABEL, gen: '2' } }));
  t.not(first, second);
  t.is(await rt.inspect(first), undefined);
  t.deepEqual((await rt.list({ ...RUN_LABEL, gen: '2' })).map((c) => c.id), [second]);
  await rt.remove(second);
  t.is(await rt.inspect(second), undefined);
  await t.notThrowsAsync(rt.remove(second));
});

// Spare pod sandboxes on real podman: a pod that takes one gets its own hostname, hosts
// file and DNS in every container, keeps its address, is found again by a new driver (an
// agent restart) and leaves nothing behind; pods that ask for host ports never take one.
import test from 'ava';
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PodmanRuntime, SPARE_OWNER_LABEL } from '../../agent/runtime/podman.js';
import type { ContainerSpec, SandboxSpec } from '../../agent/runtime/container-runtime.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/podman-image.js';

const RUN = randomBytes(4).toString('hex');
const OWNER = `spares-${RUN}`;
const LABELS = { 'pikube.test/run': RUN, 'pikube.test/pod': 'db' };
let dir = '';

/** The spare pods of this test's owner (given to a pod or not); `running` = only those started. */
async function spareIds(running = false): Promise<string[]> {
  const r = await execa('podman', ['pod', 'ps', '-q', '--no-trunc', '--filter', `label=${SPARE_OWNER_LABEL}=${OWNER}`, ...(running ? ['--filter', 'status=running'] : [])], { reject: false });
  return r.stdout.split('\n').filter(Boolean).sort();
}

async function waitFor(what: string, ok: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function member(name: string, sandboxId: string, command: string[]): ContainerSpec {
  return { name: `pks-${RUN}-${name}`, image: BUSYBOX_IMAGE, pullPolicy: 'Never', command, env: {}, labels: { ...LABELS }, mounts: [], sandboxId };
}

/** A driver keeping one spare for this test's owner, once that spare runs. */
async function withOneSpare(): Promise<{ rt: PodmanRuntime; spare: string }> {
  const rt = new PodmanRuntime({ sandboxPool: { size: 1, owner: OWNER, dir } });
  await rt.keepSandboxesReady(undefined);
  await waitFor('one spare', async () => (await spareIds(true)).length === 1);
  const [spare] = await spareIds();
  return { rt, spare: spare! };
}

async function execOut(rt: PodmanRuntime, id: string, command: string[]): Promise<string> {
  const out: string[] = [];
  const code = await rt.exec(id, command, { tty: false }, (_s, c) => out.push(c.toString()));
  if (code !== 0) throw new Error(`${command.join(' ')} exited ${code}`);
  return out.join('');
}

test.before(async () => {
  await ensureBusyboxImage();
  dir = await mkdtemp(join(tmpdir(), 'pikube-spares-'));
});

test.after.always(async () => {
  const ctrs = (await execa('podman', ['ps', '-aq', '--filter', `label=pikube.test/run=${RUN}`], { reject: false })).stdout.split('\n').filter(Boolean);
  if (ctrs.length) await execa('podman', ['rm', '-f', '-t', '0', ...ctrs], { reject: false });
  const pods = [...await spareIds(), ...(await execa('podman', ['pod', 'ps', '-q', '--filter', `label=pikube.test/run=${RUN}`], { reject: false })).stdout.split('\n').filter(Boolean)];
  if (pods.length) await execa('podman', ['pod', 'rm', '-f', '-t', '0', ...pods], { reject: false });
  await rm(dir, { recursive: true, force: true });
});

test.serial('a pod takes the spare: its containers get its hostname, hosts and DNS; a restart finds it again', async (t) => {
  const { rt, spare } = await withOneSpare();
  const spec: SandboxSpec = {
    name: `pks-${RUN}-db`, labels: LABELS, hostname: 'db-0', hostNetwork: false, ports: [],
    dns: { servers: ['10.43.0.10'], searches: ['default.svc.cluster.local', 'svc.cluster.local'], options: ['ndots:5'] },
    addHosts: { 'nas.home': '192.168.1.20' },
  };
  const sb = await rt.createSandbox(spec);
  t.is(sb.id, spare, 'the spare was given to the pod');
  t.true(sb.running);
  t.regex(sb.ip ?? '', /^\d+\.\d+\.\d+\.\d+$/);
  t.deepEqual(sb.labels, LABELS);
  t.is(sb.name, spec.name);

  const server = await rt.run(member('server', sb.id, ['sh', '-c', 'while true; do echo pong | nc -l -p 7000; done']));
  const client = await rt.run(member('client', sb.id, ['sleep', '3600']));
  t.is((await execOut(rt, client, ['hostname'])).trim(), 'db-0');
  t.is((await execOut(rt, server, ['hostname'])).trim(), 'db-0', 'every container carries the pod hostname');
  const hosts = await execOut(rt, client, ['cat', '/etc/hosts']);
  t.true(hosts.includes(`${sb.ip}\tdb-0`), hosts);
  t.true(hosts.includes('192.168.1.20\tnas.home'), hosts);
  t.true(hosts.includes('127.0.0.1\tlocalhost'), hosts);
  const resolv = await execOut(rt, client, ['cat', '/etc/resolv.conf']);
  t.true(resolv.includes('nameserver 10.43.0.10'), resolv);
  t.true(resolv.includes('search default.svc.cluster.local svc.cluster.local'), resolv);
  await waitFor('the pod network shared', async () => (await execOut(rt, client, ['sh', '-c', 'nc 127.0.0.1 7000 </dev/null || true'])).includes('pong'));
  t.pass();

  // a new spare replaces the one taken; it is nobody's sandbox
  await waitFor('a new spare', async () => (await spareIds(true)).length === 2);
  t.deepEqual((await rt.listSandboxes({ 'pikube.test/run': RUN })).map((s) => s.id), [sb.id]);

  // an agent restart: a new driver finds the pod's sandbox by its labels and takes the free spare back
  const again = new PodmanRuntime({ sandboxPool: { size: 1, owner: OWNER, dir } });
  const found = await again.listSandboxes(LABELS);
  t.deepEqual(found.map((s) => ({ id: s.id, labels: s.labels, ip: s.ip, running: s.running })), [{ id: sb.id, labels: LABELS, ip: sb.ip, running: true }]);
  const before = await spareIds();
  await again.keepSandboxesReady(undefined);
  t.deepEqual(await spareIds(), before, 'the free spare was taken back, not replaced');
  const restarted = await again.run(member('client-1', sb.id, ['sleep', '3600']));
  t.is((await execOut(again, restarted, ['hostname'])).trim(), 'db-0', 'a container started after the restart still gets the pod hostname');

  // removal takes the claim with it; stopping the pool removes the free spare
  await again.removeSandbox(sb.id);
  t.false(existsSync(join(dir, sb.id)));
  t.deepEqual(await again.listSandboxes(LABELS), []);
  await again.releaseSpareSandboxes();
  await rt.releaseSpareSandboxes();
  t.deepEqual(await spareIds(), []);
});

test.serial('with the pool turned off, a spare given to a pod keeps serving it and free spares are removed', async (t) => {
  const { rt: on } = await withOneSpare();
  const labels = { ...LABELS, 'pikube.test/pod': 'kept' };
  const sb = await on.createSandbox({ name: `pks-${RUN}-kept`, labels, hostname: 'kept-0', hostNetwork: false, ports: [] });
  await waitFor('a free spare beside it', async () => (await spareIds(true)).length === 2);

  const off = new PodmanRuntime({ sandboxPool: { size: 0, owner: OWNER, dir } }); // the agent restarted without --sandbox-pool
  await off.keepSandboxesReady(undefined);
  t.deepEqual(await spareIds(), [sb.id], 'the free spare is gone, the pod\'s stays');
  t.deepEqual((await off.listSandboxes(labels)).map((s) => s.id), [sb.id]);
  const c = await off.run(member('kept', sb.id, ['sleep', '3600']));
  t.is((await execOut(off, c, ['hostname'])).trim(), 'kept-0');
  const fresh = await off.createSandbox({ name: `pks-${RUN}-new`, labels: { ...LABELS, 'pikube.test/pod': 'new' }, hostNetwork: false, ports: [] });
  t.false((await spareIds()).includes(fresh.id), 'no spare is made or taken');
  await off.removeSandbox(fresh.id);
  await off.removeSandbox(sb.id);
  await on.releaseSpareSandboxes();
  t.deepEqual(await spareIds(), []);
});

test.serial('a pod with host ports gets a sandbox of its own and leaves the spare', async (t) => {
  const { rt, spare } = await withOneSpare();
  const port = 20000 + (parseInt(RUN, 16) % 20000);
  const withPort = await rt.createSandbox({ name: `pks-${RUN}-web`, labels: { ...LABELS, 'pikube.test/pod': 'web' }, hostname: 'web', hostNetwork: false, ports: [{ hostPort: port, containerPort: 80, protocol: 'tcp' }] });
  t.not(withPort.id, spare);
  t.deepEqual(await spareIds(), [spare], 'the spare is still there');
  await rt.removeSandbox(withPort.id);
  await rt.releaseSpareSandboxes();
  t.deepEqual(await spareIds(), []);
});

test.serial('a spare whose infra container dies is replaced, through the runtime\'s event stream', async (t) => {
  const rt = new PodmanRuntime({ sandboxPool: { size: 1, owner: OWNER, dir } });
  const watch = rt.watchEvents(() => undefined);
  try {
    await rt.keepSandboxesReady(undefined);
    await waitFor('one spare', async () => (await spareIds(true)).length === 1);
    const [spare] = await spareIds();
    const infra = (await execa('podman', ['pod', 'inspect', spare!, '--format', '{{.InfraContainerID}}'])).stdout.trim();
    await execa('podman', ['kill', infra]);
    await waitFor('a new spare in its place', async () => {
      const now = await spareIds(true);
      return now.length === 1 && now[0] !== spare && !(await spareIds()).includes(spare!);
    }, 30_000);
    const sb = await rt.createSandbox({ name: `pks-${RUN}-after`, labels: { ...LABELS, 'pikube.test/pod': 'after' }, hostNetwork: false, ports: [] });
    t.not(sb.id, spare, 'the dead spare is never handed out');
    t.true(sb.running);
    await rt.removeSandbox(sb.id);
  } finally {
    watch.stop();
    await rt.releaseSpareSandboxes();
  }
  t.deepEqual(await spareIds(), []);
});

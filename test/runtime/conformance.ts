// One suite every ContainerRuntime driver passes (as aedes-persistence's abstract tests
// are for its backends): the contract in agent/runtime/container-runtime.ts, stated once. Drivers
// that run real processes (simulated, podman) also pass the process cases; nerdctl and
// docker run the lifecycle cases against the recorded-output engine (fake-engine.ts).
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { RuntimeError, type ContainerRuntime, type ContainerSpec, type OutputSink, type RuntimeContainer } from '../../agent/runtime/container-runtime.js';

export interface ConformanceTarget {
  runtime: ContainerRuntime;
  /** An image the runtime has locally. */
  image: string;
  /** Image for sandboxes' pause containers is handled by the driver; nothing to give. */
  cleanup(): Promise<void>;
}

export interface ConformanceOptions {
  /** `sh -c 'exit N'` ends the container with N (simulated scripts exactly this). */
  exitCodes: boolean;
  /** Output of real commands: logs and exec (podman only). */
  streams: boolean;
  /** How long a container may take to exit after its command ends. */
  exitTimeoutMs?: number;
}

export function runtimeConformance(title: string, make: () => Promise<ConformanceTarget>, o: ConformanceOptions): void {
  let target: ConformanceTarget;
  const run = randomBytes(3).toString('hex');
  const label = { 'pikube.test/conformance': run };
  const spec = (name: string, extra: Partial<ContainerSpec> = {}): ContainerSpec => ({
    name: `conf-${run}-${name}`, image: target.image, pullPolicy: 'Never',
    command: ['/bin/sh', '-c', 'sleep 3600'], env: {}, labels: { ...label, 'pikube.test/name': name }, mounts: [], ...extra,
  });
  const rt = () => target.runtime;
  async function waitState(id: string, state: RuntimeContainer['state']): Promise<RuntimeContainer> {
    const end = Date.now() + (o.exitTimeoutMs ?? 15_000);
    for (;;) {
      const c = await rt().inspect(id);
      if (c?.state === state) return c;
      if (Date.now() > end) throw new Error(`container ${id} is ${c?.state}, not ${state}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  test.before(async () => { target = await make(); });
  test.after.always(async () => {
    if (!target) return;
    for (const c of await rt().list(label).catch(() => [])) await rt().remove(c.id).catch(() => undefined);
    for (const s of await rt().listSandboxes(label).catch(() => [])) await rt().removeSandbox(s.id).catch(() => undefined);
    await target.cleanup();
  });

  test.serial(`${title}: version names the runtime`, async (t) => {
    const v = await rt().version();
    t.truthy(v.name);
    t.regex(v.version, /^\d+(\.\d+)*/);
  });

  test.serial(`${title}: run starts a container that list and inspect show with its labels`, async (t) => {
    const id = await rt().run(spec('web'));
    const listed = await rt().list({ ...label, 'pikube.test/name': 'web' });
    t.deepEqual(listed.map((c) => c.id), [id]);
    const c = await rt().inspect(id);
    t.like(c, { id, name: `conf-${run}-web`, state: 'running' });
    t.is(c!.labels['pikube.test/conformance'], run);
    t.truthy(c!.startedAt && !Number.isNaN(Date.parse(c!.startedAt)));
    t.is(c!.finishedAt, undefined);
  });

  test.serial(`${title}: a second run of the same name replaces the first`, async (t) => {
    const first = await rt().run(spec('twice'));
    const second = await rt().run(spec('twice'));
    t.not(first, second);
    t.deepEqual((await rt().list({ ...label, 'pikube.test/name': 'twice' })).map((c) => c.id), [second]);
    t.is(await rt().inspect(first), undefined);
  });

  test.serial(`${title}: stop leaves an exited container with an exit code and finish time`, async (t) => {
    const id = await rt().run(spec('stopped'));
    await rt().stop(id, 1);
    const c = await waitState(id, 'exited');
    t.is(typeof c.exitCode, 'number');
    t.truthy(c.finishedAt && !Number.isNaN(Date.parse(c.finishedAt)));
  });

  test.serial(`${title}: remove, stop and inspect of a missing container are quiet`, async (t) => {
    const id = await rt().run(spec('gone'));
    await rt().remove(id);
    t.is(await rt().inspect(id), undefined);
    await t.notThrowsAsync(rt().remove(id));
    await t.notThrowsAsync(rt().stop(id, 1));
    t.deepEqual(await rt().list({ ...label, 'pikube.test/name': 'gone' }), []);
  });

  test.serial(`${title}: sandboxes are listed apart from containers and removed`, async (t) => {
    const sb = await rt().createSandbox({ name: `conf-${run}-sb`, labels: { ...label, 'pikube.test/pod': 'p' }, hostNetwork: false, ports: [] });
    t.true(sb.running);
    t.truthy(sb.ip, 'a sandbox on a pod network has an address');
    t.deepEqual((await rt().listSandboxes({ ...label, 'pikube.test/pod': 'p' })).map((s) => s.id), [sb.id]);
    const member = await rt().run(spec('member', { sandboxId: sb.id, labels: { ...label, 'pikube.test/pod': 'p' } }));
    t.deepEqual((await rt().list({ ...label, 'pikube.test/pod': 'p' })).map((c) => c.id), [member], 'list shows members, not the sandbox');
    await rt().remove(member);
    await rt().removeSandbox(sb.id);
    t.deepEqual(await rt().listSandboxes({ ...label, 'pikube.test/pod': 'p' }), []);
  });

  test.serial(`${title}: pull policy Never with an absent image is ImageNeverPull`, async (t) => {
    const err = await t.throwsAsync(rt().run(spec('never', { image: `localhost/pikube-nonexistent-${run}:1` })), { instanceOf: RuntimeError });
    t.is(err!.kind, 'ImageNeverPull');
    t.false(await rt().imageExists(`localhost/pikube-nonexistent-${run}:1`));
    t.true(await rt().imageExists(target.image));
  });

  if (o.exitCodes) {
    test.serial(`${title}: a command's exit code is the container's`, async (t) => {
      const id = await rt().run(spec('exit3', { command: ['/bin/sh', '-c', 'exit 3'] }));
      t.is((await waitState(id, 'exited')).exitCode, 3);
    });
  }

  if (!o.streams) return;

  test.serial(`${title}: logs and exec reach the container`, async (t) => {
    const id = await rt().run(spec('talk', { command: ['/bin/sh', '-c', 'echo hello-conformance; sleep 3600'] }));
    const chunks: string[] = [];
    const sink: OutputSink = (_s, b) => chunks.push(b.toString());
    const end = Date.now() + 10_000;
    while (!chunks.join('').includes('hello-conformance') && Date.now() < end) {
      chunks.length = 0;
      await rt().logs(id, { follow: false, timestamps: false }, sink);
    }
    t.regex(chunks.join(''), /hello-conformance/);
    const out: string[] = [];
    const code = await rt().exec(id, ['/bin/sh', '-c', 'echo from-exec; exit 4'], { tty: false }, (_s, b) => out.push(b.toString()));
    t.is(code, 4);
    t.regex(out.join(''), /from-exec/);
  });
}

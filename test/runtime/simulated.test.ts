import test from 'ava';
import { SimulatedRuntime } from '../../agent/runtime/simulated.js';
import { RuntimeError, type ContainerSpec } from '../../agent/runtime/container-runtime.js';

const base = (name: string, extra: Partial<ContainerSpec> = {}): ContainerSpec =>
  ({ name, image: 'busybox:latest', env: {}, labels: { pod: 'p' }, mounts: [], ...extra });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('images exist unless nonexistent; Never gives ImageNeverPull', async (t) => {
  const rt = new SimulatedRuntime();
  t.true(await rt.imageExists('nginx:1'));
  t.false(await rt.imageExists('example/nonexistent:1'));
  t.is((await t.throwsAsync(rt.pull('nonexistent:1'), { instanceOf: RuntimeError }))!.kind, 'ImageNotFound');
  t.is((await t.throwsAsync(rt.run(base('a', { image: 'nonexistent:1' })), { instanceOf: RuntimeError }))!.kind, 'ImageNotFound');
  t.is((await t.throwsAsync(rt.run(base('a', { image: 'nonexistent:1', pullPolicy: 'Never' })), { instanceOf: RuntimeError }))!.kind, 'ImageNeverPull');
  t.regex((await rt.imageId('nginx:1'))!, /^sha256:[0-9a-f]{64}$/);
});

test('sh -c "exit N" exits with N after a short while; others run until stopped', async (t) => {
  const rt = new SimulatedRuntime({ exitDelayMs: 20 });
  const failing = await rt.run(base('f', { command: ['/bin/sh', '-c', 'exit 4'] }));
  const viaArgs = await rt.run(base('g', { command: ['/bin/sh'], args: ['-c', 'exit 2'] }));
  const forever = await rt.run(base('h', { command: ['sleep', 'infinity'] }));
  t.is((await rt.inspect(failing))!.state, 'running');
  await sleep(80);
  t.like(await rt.inspect(failing), { state: 'exited', exitCode: 4 });
  t.like(await rt.inspect(viaArgs), { state: 'exited', exitCode: 2 });
  t.is((await rt.inspect(forever))!.state, 'running');
  await rt.stop(forever, 10);
  t.like(await rt.inspect(forever), { state: 'exited', exitCode: 143 });
  t.truthy((await rt.inspect(forever))!.finishedAt);
});

test('sandboxes get IPs from the CIDR, released on removal; host network has none', async (t) => {
  const rt = new SimulatedRuntime({ podCidr: '10.9.0.0/30' });
  const a = await rt.createSandbox({ name: 'a', labels: { pod: 'a' }, hostNetwork: false, ports: [] });
  t.is(a.ip, '10.9.0.2');
  t.is((await t.throwsAsync(rt.createSandbox({ name: 'b', labels: {}, hostNetwork: false, ports: [] }), { instanceOf: RuntimeError }))!.kind, 'CreateFailed');
  const h = await rt.createSandbox({ name: 'h', labels: {}, hostNetwork: true, ports: [] });
  t.is(h.ip, undefined);
  t.deepEqual((await rt.listSandboxes({ pod: 'a' })).map((s) => s.name), ['a']);
  await rt.removeSandbox(a.id);
  t.is((await rt.createSandbox({ name: 'b', labels: {}, hostNetwork: false, ports: [] })).ip, '10.9.0.2');
  t.throws(() => new SimulatedRuntime({ podCidr: 'nonsense' }));
});

test('logs, exec, stats, list, same-name replacement', async (t) => {
  const rt = new SimulatedRuntime();
  const sb = await rt.createSandbox({ name: 's', labels: {}, hostNetwork: false, ports: [] });
  const id = await rt.run(base('web', { sandboxId: sb.id }));
  const lines: string[] = [];
  await rt.logs(id, { follow: false, timestamps: true, tailLines: 2 }, (_s, c) => lines.push(c.toString()));
  t.is(lines.length, 2);
  t.regex(lines[0]!, /^\d{4}-\d\d-\d\dT[^ ]+Z \S/);
  const out: string[] = [];
  t.is(await rt.exec(id, ['echo', 'hello', 'world'], { tty: false }, (_s, c) => out.push(c.toString())), 0);
  t.deepEqual(out, ['hello world\n']);
  t.is(await rt.exec(id, ['false'], { tty: false }, () => {}), 1);
  t.is(await rt.exec(id, ['sh', '-c', 'exit 3'], { tty: false }, () => {}), 3);
  t.is(await rt.exec(id, ['ls'], { tty: false }, () => {}), 0);
  t.is((await t.throwsAsync(rt.exec('nope', ['true'], { tty: false }, () => {}), { instanceOf: RuntimeError }))!.kind, 'NotFound');
  t.true((await rt.stats([id])).get(id)!.memoryBytes > 0);
  const again = await rt.run(base('web', { sandboxId: sb.id }));
  t.deepEqual((await rt.list({ pod: 'p' })).map((c) => c.id), [again]);
  t.is((await t.throwsAsync(rt.run(base('x', { sandboxId: 'missing' })), { instanceOf: RuntimeError }))!.kind, 'CreateFailed');
  await rt.remove(again);
  t.deepEqual(await rt.list({}), []);
});

test('logs --follow ends when the container exits or the caller aborts', async (t) => {
  const rt = new SimulatedRuntime({ exitDelayMs: 30 });
  const id = await rt.run(base('f', { command: ['sh', '-c', 'exit 0'] }));
  await rt.logs(id, { follow: true, timestamps: false }, () => {});
  t.is((await rt.inspect(id))!.state, 'exited');
  const forever = await rt.run(base('g'));
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 30);
  await rt.logs(forever, { follow: true, timestamps: false, signal: ac.signal }, () => {});
  t.pass();
});

test('cheap: 5000 containers in one process', async (t) => {
  const rt = new SimulatedRuntime({ podCidr: '10.128.0.0/16' });
  const start = Date.now();
  for (let i = 0; i < 5000; i++) {
    const sb = await rt.createSandbox({ name: `s${i}`, labels: { n: String(i % 10) }, hostNetwork: false, ports: [] });
    await rt.run(base(`c${i}`, { sandboxId: sb.id, labels: { n: String(i % 10) } }));
  }
  t.is((await rt.list({ n: '3' })).length, 500);
  t.true(Date.now() - start < 10_000, `took ${Date.now() - start} ms`);
});

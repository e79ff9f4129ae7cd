// The small rules the pod workers are built from: $(VAR) expansion, quantities,
// back-off arithmetic, default pull policy, QoS class, spec hashes, the saved set.
import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandVars, resolveEnv, ConfigError } from '../../agent/pods/env.js';
import { parseQuantity, QuantityError } from '../../protocol/kube/quantity.js';
import { Backoff, goDuration } from '../../agent/pods/backoff.js';
import { effectivePullPolicy } from '../../agent/pods/image-puller.js';
import { qosClass } from '../../agent/pods/pod-status.js';
import { containerSpecHash } from '../../agent/pods/spec-hash.js';
import { DesiredStore } from '../../agent/pods/desired-store.js';
import { pod, desired } from './harness.js';

test('$(VAR) expansion follows upstream rules', (t) => {
  const vars: Record<string, string> = { A: 'x', B: 'y' };
  const look = (n: string) => vars[n];
  t.is(expandVars('$(A)-$(B)', look), 'x-y');
  t.is(expandVars('$$(A)', look), '$(A)');
  t.is(expandVars('$(NOPE)', look), '$(NOPE)');
  t.is(expandVars('cost $5 $', look), 'cost $5 $');
  t.is(expandVars('$(A', look), '$(A');
});

test('env: later entries see earlier ones, envFrom skips invalid names, secrets are decoded', (t) => {
  const p = pod({ containers: [{ name: 'c', image: 'i', env: [{ name: 'A', value: '1' }, { name: 'B', value: '$(A)2$(KUBERNETES_SERVICE_PORT)' }, { name: 'C', value: '$(D)' }, { name: 'D', value: 'late' }], envFrom: [{ secretRef: { name: 's' } }] }] });
  const env = resolveEnv({ desired: desired(p, { secrets: { s: { TOKEN: Buffer.from('t0k').toString('base64'), 'bad name': 'eA==' } } }), container: p.spec.containers[0]!, kubernetesService: { host: '10.43.0.1', port: 443 } });
  t.is(env['B'], '12443');
  t.is(env['C'], '$(D)');
  t.is(env['TOKEN'], 't0k');
  t.false('bad name' in env);
  t.is(env['KUBERNETES_PORT'], 'tcp://10.43.0.1:443');
  const missing = pod({ containers: [{ name: 'c', image: 'i', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'gone', key: 'k' } } }] }] });
  t.throws(() => resolveEnv({ desired: desired(missing), container: missing.spec.containers[0]! }), { instanceOf: ConfigError, message: 'secret "gone" not found' });
  const optional = pod({ containers: [{ name: 'c', image: 'i', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'gone', key: 'k', optional: true } } }] }] });
  t.false('X' in resolveEnv({ desired: desired(optional), container: optional.spec.containers[0]! }));
});

test('quantities', (t) => {
  t.is(parseQuantity('500m'), 0.5);
  t.is(parseQuantity('64Mi'), 64 * 1024 * 1024);
  t.is(parseQuantity('1G'), 1e9);
  t.is(parseQuantity('2'), 2);
  t.is(parseQuantity('1e3'), 1000);
  t.throws(() => parseQuantity('lots'), { instanceOf: QuantityError });
});

test('back-off doubles to the cap and formats like Go durations', (t) => {
  let now = 0;
  const b = new Backoff({ baseMs: 10_000, maxMs: 300_000 }, { now: () => now });
  t.false(b.inBackoff('k', 0));
  const delays: number[] = [];
  for (let i = 0; i < 7; i++) { b.next('k'); delays.push(b.delay('k')); }
  t.deepEqual(delays, [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  now = 100_000;
  t.true(b.inBackoff('k', 0));
  t.is(b.remaining('k', 0), 200_000);
  b.reset('k');
  t.false(b.inBackoff('k', 0));
  t.is(goDuration(10_000), '10s');
  t.is(goDuration(80_000), '1m20s');
  t.is(goDuration(300_000), '5m0s');
  t.is(goDuration(250), '250ms');
});

test('default pull policy: Always for latest or no tag, IfNotPresent otherwise', (t) => {
  t.is(effectivePullPolicy({ name: 'c', image: 'nginx' }), 'Always');
  t.is(effectivePullPolicy({ name: 'c', image: 'nginx:latest' }), 'Always');
  t.is(effectivePullPolicy({ name: 'c', image: 'localhost:5000/nginx' }), 'Always');
  t.is(effectivePullPolicy({ name: 'c', image: 'localhost:5000/nginx:1.27' }), 'IfNotPresent');
  t.is(effectivePullPolicy({ name: 'c', image: 'nginx@sha256:abc' }), 'IfNotPresent');
  t.is(effectivePullPolicy({ name: 'c', image: 'nginx', imagePullPolicy: 'Never' }), 'Never');
});

test('QoS class', (t) => {
  t.is(qosClass(pod({ containers: [{ name: 'c', image: 'i' }] })), 'BestEffort');
  t.is(qosClass(pod({ containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '100m' } } }] })), 'Burstable');
  t.is(qosClass(pod({ containers: [{ name: 'c', image: 'i', resources: { limits: { cpu: '1', memory: '1Gi' } } }] })), 'Guaranteed');
  t.is(qosClass(pod({ containers: [{ name: 'c', image: 'i', resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1000m', memory: '1Gi' } } }] })), 'Guaranteed');
  t.is(qosClass(pod({ containers: [{ name: 'c', image: 'i', resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m' } } }] })), 'Burstable');
});

test('spec hash ignores key order and sees every change', (t) => {
  const a = containerSpecHash({ name: 'c', image: 'i', command: ['x'] });
  t.is(containerSpecHash({ command: ['x'], image: 'i', name: 'c' }), a);
  t.not(containerSpecHash({ name: 'c', image: 'i', command: ['y'] }), a);
});

test('the saved set is written atomically and not rewritten when unchanged', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pikube-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new DesiredStore(dir);
  t.is(await store.load(), undefined);
  const set = { generation: 2, pods: [] };
  await store.save(set);
  const { crc32, ...onDisk } = JSON.parse(readFileSync(join(dir, 'desired-pods.json'), 'utf8'));
  t.deepEqual(onDisk, set);
  t.regex(crc32, /^[0-9a-f]{8}$/, 'the file carries its checksum');
  writeFileSync(join(dir, 'desired-pods.json'), JSON.stringify(set)); // same content, older format without checksum: still read
  const again = new DesiredStore(dir);
  t.deepEqual(await again.load(), set);
  writeFileSync(join(dir, 'desired-pods.json'), '{"nope":1}');
  await t.throwsAsync(new DesiredStore(dir).load(), { message: /does not hold a desired pod set/ });
  t.false(existsSync(join(dir, 'desired-pods.json')), 'a wrong file is set aside');
  // checked as the MQTT payload is: the field that is wrong is named
  writeFileSync(join(dir, 'desired-pods.json'), JSON.stringify({ generation: 3, pods: [{ pod: { metadata: { name: 'x', namespace: 'd' }, spec: { containers: [{ name: 'c', image: 'i' }] } }, configMaps: {}, secrets: {} }] }));
  await t.throwsAsync(new DesiredStore(dir).load(), { message: /saved pods\.pods\[0\]\.pod\.metadata\.uid: expected a string/ });
});

test('a saved set with a flipped byte or cut short is set aside, never run', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pikube-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'desired-pods.json');
  await new DesiredStore(dir).save({ generation: 7, pods: [], podCIDR: '10.42.1.0/24' } as never);
  const good = readFileSync(file);
  const flipped = Buffer.from(good);
  const at = flipped.indexOf('10.42.1.0');
  flipped[at + 3] = '7'.charCodeAt(0); // 10.42.1.0 -> 10.72.1.0: still valid JSON, still a desired set
  writeFileSync(file, flipped);
  await t.throwsAsync(new DesiredStore(dir).load(), { message: /checksum mismatch.*set aside/ });
  t.false(existsSync(file));
  const aside = readdirSync(dir).filter((f) => f.startsWith('desired-pods.json.bad-'));
  t.is(aside.length, 1);
  t.deepEqual(readFileSync(join(dir, aside[0]!)), flipped, 'the damaged file is kept as it was');
  writeFileSync(file, good.subarray(0, good.length - 20));
  await t.throwsAsync(new DesiredStore(dir).load(), { message: /damaged/ });
  t.is(await new DesiredStore(dir).load(), undefined, 'after setting it aside there is no saved set');
});

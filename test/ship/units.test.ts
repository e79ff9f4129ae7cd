import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from './run-command.js';
import { unitDirectives, unitEnvironment, unitNodeOptions, unitText } from '../helpers/units.js';

const units = ['pikube-controller.service', 'pikube-agent.service'];

/** systemd-analyze verify's complaints, less the one about a missing executable. */
function verify(path: string): string[] {
  const result = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
  if (result.error) throw result.error;
  return `${result.stdout}\n${result.stderr}`
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => !/Command .* is not executable|executable path .* (does not exist|is not executable)|No such file or directory/i.test(line));
}

for (const unit of units) {
  test(`${unit} passes systemd-analyze verify`, (t) => {
    t.deepEqual(verify(join(packageRoot, 'systemd', unit)), []);
  });
}

test('the verify check does catch a broken unit', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pikube-units-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const broken = join(dir, 'pikube-controller.service');
  writeFileSync(broken, unitText('pikube-controller.service').replace('ProtectSystem=strict', 'ProtectSystem=sometimes'));
  t.true(verify(broken).some((line) => line.includes('protect system')));
});

test('both units are notify services with watchdog, restart, network ordering and one journal', (t) => {
  for (const unit of units) {
    const service = unitDirectives(unitText(unit), 'Service');
    const head = unitDirectives(unitText(unit), 'Unit');
    t.deepEqual(service.get('Type'), ['notify'], unit);
    t.deepEqual(service.get('NotifyAccess'), ['all'], unit);
    t.regex(service.get('WatchdogSec')?.[0] ?? '', /^\d+s$/, unit);
    t.deepEqual(service.get('Restart'), ['always'], unit);
    t.truthy(service.get('RestartSec'), unit);
    t.deepEqual(service.get('StandardOutput'), ['journal'], unit);
    t.truthy(service.get('MemoryMax'), unit);
    t.true(head.get('After')![0]!.split(' ').includes('network-online.target'), unit);
    t.deepEqual(head.get('Wants'), ['network-online.target'], unit);
    const side = unit.includes('controller') ? 'controller' : 'agent';
    t.deepEqual(service.get('EnvironmentFile'), [`-/etc/default/pikube-${side}`], unit);
    t.regex(service.get('ExecStart')![0]!, new RegExp(`^/usr/bin/node \\$\\{PIKUBE_MAIN\\} ${side} `), unit);
  }
  t.true(unitDirectives(unitText('pikube-agent.service'), 'Unit').get('After')![0]!.includes('containerd.service'));
});

test('the controller runs unprivileged and sandboxed; the agent as root', (t) => {
  const controller = unitDirectives(unitText('pikube-controller.service'), 'Service');
  t.deepEqual(controller.get('User'), ['pikube']);
  t.deepEqual(controller.get('StateDirectory'), ['pikube']);
  t.deepEqual(controller.get('ProtectSystem'), ['strict']);
  t.deepEqual(controller.get('ProtectHome'), ['yes']);
  t.deepEqual(controller.get('PrivateTmp'), ['yes']);
  t.deepEqual(controller.get('NoNewPrivileges'), ['yes']);
  t.deepEqual(controller.get('CapabilityBoundingSet'), ['']);
  const agent = unitDirectives(unitText('pikube-agent.service'), 'Service');
  t.deepEqual(agent.get('User'), ['root']);
  t.deepEqual(agent.get('StateDirectory'), ['pikube-agent']);
});

test('every variable ExecStart uses has a default and appears in the example file', (t) => {
  for (const unit of units) {
    const service = unitDirectives(unitText(unit), 'Service');
    const side = unit.includes('controller') ? 'controller' : 'agent';
    const example = readFileSync(join(packageRoot, 'systemd', `pikube-${side}.env.example`), 'utf8');
    const defaults = new Set(Object.keys(unitEnvironment(unitText(unit))));
    const used = [...service.get('ExecStart')![0]!.matchAll(/\$\{?([A-Z_]+)\}?/g)].map((match) => match[1]!);
    t.true(used.length >= 4, unit);
    for (const name of used) {
      t.true(defaults.has(name), `${unit}: ${name} has no default`);
      t.regex(example, new RegExp(`^${name}=`, 'm'), `${side} example lacks ${name}`);
    }
  }
});

test('the example environment files parse in a shell', (t) => {
  for (const side of ['controller', 'agent']) {
    const file = join(packageRoot, 'systemd', `pikube-${side}.env.example`);
    const out = execFileSync('bash', ['-c', 'set -a; . "$1"; echo "$PIKUBE_DATA_DIR"', 'sh', file], { encoding: 'utf8' });
    t.regex(out, /^\/var\/lib\/pikube/);
  }
});

// V8 grows its young generation to 16 MiB under any burst and keeps it; on a 512 MB board
// the agent caps it at 2 MiB (measured in bench/agent-bench.ts).
// A flag node refuses in NODE_OPTIONS would stop the service from starting at all.
test('node starts with each unit\'s NODE_OPTIONS; the agent\'s keeps the young generation small', (t) => {
  const script = [
    "const v8 = require('node:v8');",
    'let keep = [];',
    'for (let i = 0; i < 200000; i++) { keep.push({ i, s: String(i) }); if (keep.length > 5000) keep = []; }',
    "console.log(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);",
  ].join('\n');
  /** The young generation's size after the churn, under these NODE_OPTIONS. */
  const young = (options: string, label: string) => {
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: options } });
    t.is(r.status, 0, `${label}: ${r.stderr}`);
    return Number(r.stdout.trim());
  };
  for (const unit of units) t.truthy(unitNodeOptions(unit), unit);
  young(unitNodeOptions('pikube-controller.service'), 'pikube-controller.service');
  t.true(young(unitNodeOptions('pikube-agent.service'), 'pikube-agent.service') <= 4 * 1024 * 1024);
  t.true(young('', 'V8 defaults') > 4 * 1024 * 1024, 'without the flag the young generation grows');
});

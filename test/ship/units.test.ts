import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from './run-command.js';

const units = ['pikube-controller.service', 'pikube-agent.service'];

function unitText(name: string): string {
  return readFileSync(join(packageRoot, 'systemd', name), 'utf8');
}

/** systemd-analyze verify's complaints, less the one about a missing executable. */
function verify(path: string): string[] {
  const result = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
  if (result.error) throw result.error;
  return `${result.stdout}\n${result.stderr}`
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => !/Command .* is not executable|executable path .* (does not exist|is not executable)|No such file or directory/i.test(line));
}

/** Directive values of one section (last one wins, as systemd reads them). */
function directives(text: string, section: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || line === '') continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = header[1]!;
      continue;
    }
    if (current !== section) continue;
    const at = line.indexOf('=');
    const key = line.slice(0, at);
    out.set(key, [...(out.get(key) ?? []), line.slice(at + 1)]);
  }
  return out;
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
    const service = directives(unitText(unit), 'Service');
    const head = directives(unitText(unit), 'Unit');
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
  t.true(directives(unitText('pikube-agent.service'), 'Unit').get('After')![0]!.includes('containerd.service'));
});

test('the controller runs unprivileged and sandboxed; the agent as root', (t) => {
  const controller = directives(unitText('pikube-controller.service'), 'Service');
  t.deepEqual(controller.get('User'), ['pikube']);
  t.deepEqual(controller.get('StateDirectory'), ['pikube']);
  t.deepEqual(controller.get('ProtectSystem'), ['strict']);
  t.deepEqual(controller.get('ProtectHome'), ['yes']);
  t.deepEqual(controller.get('PrivateTmp'), ['yes']);
  t.deepEqual(controller.get('NoNewPrivileges'), ['yes']);
  t.deepEqual(controller.get('CapabilityBoundingSet'), ['']);
  const agent = directives(unitText('pikube-agent.service'), 'Service');
  t.deepEqual(agent.get('User'), ['root']);
  t.deepEqual(agent.get('StateDirectory'), ['pikube-agent']);
});

test('every variable ExecStart uses has a default and appears in the example file', (t) => {
  for (const unit of units) {
    const service = directives(unitText(unit), 'Service');
    const side = unit.includes('controller') ? 'controller' : 'agent';
    const example = readFileSync(join(packageRoot, 'systemd', `pikube-${side}.env.example`), 'utf8');
    const defaults = new Set((service.get('Environment') ?? []).map((entry) => entry.split('=')[0]));
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

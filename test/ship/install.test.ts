import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot, runCommand } from './run-command.js';

function tempRoot(t: import('ava').ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'pikube-install-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A root with the account files useradd --prefix needs. */
function rootWithAccounts(t: import('ava').ExecutionContext): string {
  const root = tempRoot(t);
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\n');
  writeFileSync(join(root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o600 });
  writeFileSync(join(root, 'etc/gshadow'), 'root:*::\n', { mode: 0o600 });
  return root;
}

const mode = (path: string) => statSync(path).mode & 0o777;
const unit = (side: string) => readFileSync(join(packageRoot, 'systemd', `pikube-${side}.service`), 'utf8');

/** Reads an environment file the way a shell does. */
function sourced(file: string, name: string): string {
  return execFileSync('bash', ['-c', `set -a; . "$1"; printf %s "$${name}"`, 'sh', file], { encoding: 'utf8' });
}

const SECURE_TOKEN = 'K10abababababababababababababababababababababababababababababababab::abc.0123456789abcdef';
const agentFlags = ['--node-name', 'pi-2', '--mqtt-url', 'mqtts://192.168.1.10:8883', '--join-token', SECURE_TOKEN];

test('install agent writes the unit, a private environment file and the data directory', (t) => {
  const root = tempRoot(t);
  const result = runCommand('install', ['agent', '--prefix', root, ...agentFlags]);
  t.is(result.code, 0, result.stderr);
  const unitPath = join(root, 'etc/systemd/system/pikube-agent.service');
  t.is(readFileSync(unitPath, 'utf8'), unit('agent'));
  t.is(mode(unitPath), 0o644);
  const envPath = join(root, 'etc/default/pikube-agent');
  t.is(mode(envPath), 0o600);
  t.is(sourced(envPath, 'PIKUBE_NODE_NAME'), 'pi-2');
  t.is(sourced(envPath, 'PIKUBE_MQTT_URL'), 'mqtts://192.168.1.10:8883');
  t.is(sourced(envPath, 'PIKUBE_JOIN_TOKEN'), SECURE_TOKEN);
  t.is(result.stderr, '', 'a K10 token over mqtts:// needs no warning');
  t.is(sourced(envPath, 'PIKUBE_DATA_DIR'), '/var/lib/pikube-agent');
  t.is(sourced(envPath, 'PIKUBE_MAIN'), join(packageRoot, 'dist/cli/main.js'));
  t.is(mode(join(root, 'var/lib/pikube-agent')), 0o700);
  t.is(mode(join(root, 'var/lib')), 0o755);
  t.regex(result.stdout, /systemctl daemon-reload && systemctl enable --now pikube-agent/);
});

test('the installed unit still passes systemd-analyze verify', (t) => {
  const root = tempRoot(t);
  t.is(runCommand('install', ['agent', '--prefix', root, ...agentFlags]).code, 0);
  const result = spawnSync('systemd-analyze', ['verify', join(root, 'etc/systemd/system/pikube-agent.service')], { encoding: 'utf8' });
  const complaints = result.stderr.split('\n').filter((line) => line.trim() !== '' && !/executable|No such file/i.test(line));
  t.deepEqual(complaints, []);
});

test('install controller adds the pikube user and opens a custom data directory', (t) => {
  const root = rootWithAccounts(t);
  const result = runCommand('install', ['controller', '--prefix', root, '--data-dir', '/srv/pikube', '--api-listen', '0.0.0.0:7443']);
  t.is(result.code, 0, result.stderr);
  const user = readFileSync(join(root, 'etc/passwd'), 'utf8').split('\n').find((line) => line.startsWith('pikube:'));
  t.truthy(user, 'pikube user added');
  const [, , uid, gid, , home, shell] = user!.split(':');
  t.is(home, '/var/lib/pikube');
  t.is(shell, '/usr/sbin/nologin');
  const data = join(root, 'srv/pikube');
  t.is(mode(data), 0o700);
  if (process.getuid?.() === 0) {
    t.is(statSync(data).uid, Number(uid));
    t.is(statSync(data).gid, Number(gid));
  }
  t.is(readFileSync(join(root, 'etc/systemd/system/pikube-controller.service'), 'utf8'), unit('controller'));
  t.regex(readFileSync(join(root, 'etc/systemd/system/pikube-controller.service.d/data-dir.conf'), 'utf8'), /^ReadWritePaths=\/srv\/pikube$/m);
  const envPath = join(root, 'etc/default/pikube-controller');
  t.is(sourced(envPath, 'PIKUBE_API_LISTEN'), '0.0.0.0:7443');
  t.is(sourced(envPath, 'PIKUBE_MQTT_LISTEN'), '127.0.0.1:1883', 'plaintext MQTT stays on loopback');
  t.is(sourced(envPath, 'PIKUBE_DATA_DIR'), '/srv/pikube');

  // Running it again finds the user and does not add a second one.
  t.is(runCommand('install', ['controller', '--prefix', root, '--data-dir', '/srv/pikube']).code, 0);
  t.is(readFileSync(join(root, 'etc/passwd'), 'utf8').split('\n').filter((line) => line.startsWith('pikube:')).length, 1);
});

test('--dry-run prints every file with its content and writes nothing', (t) => {
  const root = rootWithAccounts(t);
  const before = readdirSync(root, { recursive: true }).sort();
  const result = runCommand('install', ['controller', '--dry-run', '--prefix', root, '--data-dir', '/srv/pikube']);
  t.is(result.code, 0, result.stderr);
  t.deepEqual(readdirSync(root, { recursive: true }).sort(), before);
  t.true(result.stdout.includes(`--- ${join(root, 'etc/systemd/system/pikube-controller.service')} (mode 0644) ---`));
  t.true(result.stdout.includes(unit('controller')));
  t.true(result.stdout.includes('PIKUBE_DATA_DIR=/srv/pikube'));
  t.true(result.stdout.includes('ReadWritePaths=/srv/pikube'));
  t.regex(result.stdout, /system user pikube: useradd --prefix/);
  t.regex(result.stdout, /systemctl enable --now pikube-controller/);
});

const refusals: Array<[string, string[], RegExp]> = [
  ['an unknown flag', ['agent', '--bogus', ...agentFlags], /Unknown option '--bogus'/],
  ['no side', ['--dry-run'], /controller or agent/],
  ['a controller flag on the agent', ['agent', '--api-listen', '0.0.0.0:1', ...agentFlags], /--api-listen does not apply/],
  ['an agent without a token', ['agent', '--node-name', 'pi-2', '--mqtt-url', 'mqtt://h:1883'], /--join-token/],
  ['a node name that is no DNS label', ['agent', ...agentFlags, '--node-name', 'Pi_2'], /not a DNS label/],
  ['a broker URL that is not MQTT', ['agent', ...agentFlags, '--mqtt-url', 'http://h'], /mqtt:\/\//],
  ['a relative data directory', ['controller', '--data-dir', 'data'], /absolute path/],
  ['a listen address without a port', ['controller', '--mqtt-listen', '0.0.0.0'], /needs a port/],
  ['plaintext MQTT off loopback', ['controller', '--mqtt-listen', '0.0.0.0:1883'], /not loopback.*--mqtt-insecure-listen 0\.0\.0\.0:1883/],
  ['an agent joining in plaintext over the network', ['agent', ...agentFlags, '--mqtt-url', 'mqtt://192.168.1.10:1883'], /plaintext to another host.*mqtts:\/\/192\.168\.1\.10:8883/],
];

test('install agent with a token without the CA hash warns in one line but installs', (t) => {
  const root = tempRoot(t);
  const result = runCommand('install', ['agent', '--prefix', root, ...agentFlags, '--join-token', 'abc.0123456789abcdef']);
  t.is(result.code, 0, result.stderr);
  t.regex(result.stderr, /^pikube install: warning: the join token carries no CA hash.*K10… token/);
  t.is(result.stderr.trim().split('\n').length, 1);
});

for (const [what, argv, message] of refusals) {
  test(`refuses ${what} with one line and exit 2, writing nothing`, (t) => {
    const root = tempRoot(t);
    const result = runCommand('install', [...argv, '--prefix', root]);
    t.is(result.code, 2);
    t.regex(result.stderr, message);
    t.is(result.stderr.trim().split('\n').length, 1);
    t.deepEqual(readdirSync(root), []);
  });
}

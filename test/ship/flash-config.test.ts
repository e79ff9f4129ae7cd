import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { packageRoot, runCommand } from './run-command.js';

// A real OpenSSH public key line (its private half was never kept).
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMvGGJ2npLUHKDCI0VV4BcUc0QODMidaWq8d1dAP87sJ admin@laptop';
const TOKEN = `K10${'c0'.repeat(32)}::k3x9.0f1e2d3c4b5a6978`;

function tempDir(t: import('ava').ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'pikube-flash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function flash(t: import('ava').ExecutionContext, extra: string[] = []): string {
  const dir = tempDir(t);
  const keyFile = join(dir, 'id.pub');
  writeFileSync(keyFile, `# my laptop\n${KEY}\n`);
  const out = join(dir, 'boot');
  const result = runCommand('flash-config', [
    '--node-name', 'pi-worker-2',
    '--controller', '192.168.1.10',
    '--join-token', TOKEN,
    '--out', out,
    '--ssh-authorized-key', keyFile,
    ...extra,
  ]);
  t.is(result.code, 0, result.stderr);
  return out;
}

interface WriteFile {
  path: string;
  content: string;
  permissions: string;
}

test('user-data passes cloud-init schema validation', (t) => {
  const out = flash(t, ['--wifi-ssid', 'Home "Net"', '--wifi-password', 'correct horse', '--wifi-country', 'GB']);
  const result = spawnSync('cloud-init', ['schema', '--config-file', join(out, 'user-data')], { encoding: 'utf8' });
  if (result.error) throw result.error;
  t.is(result.status, 0, `${result.stdout}${result.stderr}`);
  t.regex(result.stdout, /Valid cloud-config/);
});

test('user-data joins the controller with the token and turns on the memory cgroup', (t) => {
  const out = flash(t);
  const text = readFileSync(join(out, 'user-data'), 'utf8');
  t.true(text.startsWith('#cloud-config\n'));
  const config = parse(text) as Record<string, any>;
  t.is(config.hostname, 'pi-worker-2');
  t.deepEqual(config.users[0].ssh_authorized_keys, [KEY]);
  t.is(config.users[0].name, 'pi');
  const files = new Map((config.write_files as WriteFile[]).map((file) => [file.path, file]));
  const env = files.get('/etc/default/pikube-agent')!;
  t.is(env.permissions, '0600');
  t.true(env.content.split('\n').includes(`PIKUBE_JOIN_TOKEN=${TOKEN}`));
  t.regex(env.content, /^PIKUBE_MQTT_URL=mqtts:\/\/192\.168\.1\.10:8883$/m, 'the board joins over TLS');
  t.regex(env.content, /^PIKUBE_NODE_NAME=pi-worker-2$/m);
  t.is(files.get('/etc/systemd/system/pikube-agent.service')!.content, readFileSync(join(packageRoot, 'systemd/pikube-agent.service'), 'utf8'));
  const setup = files.get('/usr/local/sbin/pikube-setup')!;
  t.is(setup.permissions, '0755');
  t.regex(setup.content, /cgroup_enable=memory/);
  t.regex(setup.content, /nerdctl-full-/);
  t.regex(setup.content, /systemctl enable pikube-agent\.service/);
  t.deepEqual(config.runcmd.at(-1), ['/usr/local/sbin/pikube-setup']);
  t.is(config.power_state.mode, 'reboot');
  t.is(config.power_state.condition, 'test -f /run/pikube-reboot-required');
  t.is(statSync(join(out, 'user-data')).mode & 0o777, 0o600);
});

test('meta-data and network-config are NoCloud YAML, with Wi-Fi only when asked', (t) => {
  const wired = flash(t);
  const meta = parse(readFileSync(join(wired, 'meta-data'), 'utf8'));
  t.regex(meta['instance-id'], /^pikube-pi-worker-2-[0-9a-f]{8}$/);
  t.is(meta['local-hostname'], 'pi-worker-2');
  t.deepEqual(parse(readFileSync(join(wired, 'network-config'), 'utf8')), {
    network: { version: 2, ethernets: { eth0: { dhcp4: true, optional: true } } },
  });

  const wireless = flash(t, ['--wifi-ssid', 'Home "Net"', '--wifi-password', 'correct horse', '--wifi-country', 'DE']);
  const wifi = parse(readFileSync(join(wireless, 'network-config'), 'utf8')).network.wifis.wlan0;
  t.is(wifi['regulatory-domain'], 'DE');
  t.deepEqual(wifi['access-points'], { 'Home "Net"': { password: 'correct horse' } });
});

test('the controller port and --mqtt-port make the broker URL', (t) => {
  const custom = flash(t, ['--mqtt-port', '18883']);
  t.regex(readFileSync(join(custom, 'user-data'), 'utf8'), /PIKUBE_MQTT_URL=mqtts:\/\/192\.168\.1\.10:18883/);
});

test('a join token without the CA hash is written with a one-line warning', (t) => {
  const out = join(tempDir(t), 'boot');
  const result = runCommand('flash-config', ['--node-name', 'pi-worker-3', '--controller', '192.168.1.10', '--join-token', 'k3x9.0f1e2d3c4b5a6978', '--out', out]);
  t.is(result.code, 0, result.stderr);
  t.regex(result.stderr, /warning: the join token carries no CA hash.*K10… token/);
});

test('the setup script is valid bash and adds the memory cgroup exactly once', (t) => {
  const out = flash(t);
  const config = parse(readFileSync(join(out, 'user-data'), 'utf8'));
  const script = (config.write_files as WriteFile[]).find((file) => file.path === '/usr/local/sbin/pikube-setup')!.content;
  const dir = tempDir(t);
  const scriptPath = join(dir, 'pikube-setup');
  writeFileSync(scriptPath, script);
  execFileSync('bash', ['-n', scriptPath]);

  const cmdline = join(dir, 'cmdline.txt');
  const marker = join(dir, 'reboot-required');
  writeFileSync(cmdline, 'console=serial0,115200 console=tty1 root=PARTUUID=1234-02 rootfstype=ext4 fsck.repair=yes rootwait\n');
  const enable = () =>
    execFileSync('bash', ['-c', `PIKUBE_SETUP_SOURCE_ONLY=1; . "$1"; enable_memory_cgroup "$2"`, 'sh', scriptPath, cmdline], {
      encoding: 'utf8',
      env: { ...process.env, PIKUBE_REBOOT_MARKER: marker },
    });
  t.regex(enable(), /added cgroup_enable=memory/);
  t.is(readFileSync(cmdline, 'utf8'), 'console=serial0,115200 console=tty1 root=PARTUUID=1234-02 rootfstype=ext4 fsck.repair=yes rootwait cgroup_enable=memory cgroup_memory=1\n');
  t.true(existsSync(marker));
  rmSync(marker);
  t.regex(enable(), /already enables/);
  t.is(readFileSync(cmdline, 'utf8').match(/cgroup_enable=memory/g)!.length, 1);
  t.false(existsSync(marker));
});

test('Bookworm gets firstrun.sh, custom.toml and the cmdline.txt parameters', (t) => {
  const out = flash(t, ['--wifi-ssid', 'Home', '--wifi-password', 'pa"ss word', '--wifi-country', 'GB', '--user', 'admin']);
  const firstrun = readFileSync(join(out, 'bookworm/firstrun.sh'), 'utf8');
  execFileSync('bash', ['-n', join(out, 'bookworm/firstrun.sh')]);
  t.true(firstrun.includes(`PIKUBE_JOIN_TOKEN=${TOKEN}`));
  t.true(firstrun.includes('PIKUBE_MQTT_URL=mqtts://192.168.1.10:8883'));
  t.true(firstrun.includes('enable_memory_cgroup "$BOOT/cmdline.txt"'));
  t.true(firstrun.includes('multi-user.target.wants/pikube-setup.service'));
  t.is(statSync(join(out, 'bookworm/firstrun.sh')).mode & 0o777, 0o700);

  const toml = JSON.parse(
    execFileSync('python3', ['-c', 'import json,sys,tomllib; print(json.dumps(tomllib.load(open(sys.argv[1],"rb"))))', join(out, 'bookworm/custom.toml')], { encoding: 'utf8' }),
  );
  t.deepEqual(toml.system, { hostname: 'pi-worker-2' });
  t.is(toml.user.name, 'admin');
  t.deepEqual(toml.ssh.authorized_keys, [KEY]);
  t.is(toml.wlan.password, 'pa"ss word');
  t.is(toml.wlan.country, 'GB');

  const append = readFileSync(join(out, 'bookworm/cmdline.txt.append'), 'utf8');
  t.regex(append, /^cgroup_enable=memory cgroup_memory=1 systemd\.run=\/boot\/firmware\/firstrun\.sh systemd\.run_success_action=reboot systemd\.unit=kernel-command-line\.target\n$/);
  t.is(readFileSync(join(out, 'cmdline.txt.append'), 'utf8'), 'cgroup_enable=memory cgroup_memory=1\n');
  t.regex(readFileSync(join(out, 'README.txt'), 'utf8'), /user-data, meta-data, network-config/);
});

test('firstrun.sh writes its files and strips itself from cmdline.txt (run in a scratch root)', (t) => {
  const out = flash(t);
  // Point every absolute path of the script into a scratch directory, then run it.
  const root = tempDir(t);
  // Only the script's own commands are rewritten, not the files it carries.
  let inFile = false;
  const script = readFileSync(join(out, 'bookworm/firstrun.sh'), 'utf8')
    .split('\n')
    .map((line) => {
      if (inFile) {
        if (line === 'PIKUBE_FILE_END') inFile = false;
        return line;
      }
      if (line.includes("<<'PIKUBE_FILE_END'")) inFile = true;
      return line
        .replaceAll('/etc/', `${root}/etc/`)
        .replaceAll('/usr/local/sbin', `${root}/usr/local/sbin`)
        .replaceAll('/run/', `${root}/run/`)
        .replaceAll('/usr/lib/raspberrypi-sys-mods', `${root}/none`)
        .replace(/^BOOT=\/boot/, `BOOT=${root}/boot`);
    })
    .join('\n');
  execFileSync('mkdir', ['-p', `${root}/boot/firmware`, `${root}/run`]);
  execFileSync('mkdir', ['-p', `${root}/etc`]);
  writeFileSync(`${root}/etc/hosts`, '127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n');
  const cmdline = 'console=tty1 root=PARTUUID=1-02 rootwait';
  // As if only the systemd.run= part had been appended: firstrun.sh adds the cgroup itself.
  const append = readFileSync(join(out, 'bookworm/cmdline.txt.append'), 'utf8').replace('cgroup_enable=memory cgroup_memory=1 ', '');
  writeFileSync(`${root}/boot/firmware/cmdline.txt`, `${cmdline} ${append}`);
  writeFileSync(`${root}/boot/firmware/firstrun.sh`, script);
  const result = spawnSync('bash', [`${root}/boot/firmware/firstrun.sh`], {
    encoding: 'utf8',
    env: { ...process.env, PIKUBE_REBOOT_MARKER: `${root}/run/pikube-reboot-required` },
  });
  t.is(result.status, 0, result.stderr);

  t.is(readFileSync(`${root}/boot/firmware/cmdline.txt`, 'utf8'), `${cmdline} cgroup_enable=memory cgroup_memory=1\n`);
  t.false(existsSync(`${root}/boot/firmware/firstrun.sh`));
  t.is(statSync(`${root}/etc/default/pikube-agent`).mode & 0o777, 0o600);
  t.regex(readFileSync(`${root}/etc/default/pikube-agent`, 'utf8'), new RegExp(`PIKUBE_JOIN_TOKEN=${TOKEN}`));
  t.is(readFileSync(`${root}/etc/systemd/system/pikube-agent.service`, 'utf8'), readFileSync(join(packageRoot, 'systemd/pikube-agent.service'), 'utf8'));
  t.is(statSync(`${root}/usr/local/sbin/pikube-setup`).mode & 0o777, 0o755);
  t.true(existsSync(`${root}/etc/systemd/system/multi-user.target.wants/pikube-setup.service`));
  t.is(readFileSync(`${root}/etc/hostname`, 'utf8'), 'pi-worker-2\n');
  t.regex(readFileSync(`${root}/etc/hosts`, 'utf8'), /^127\.0\.1\.1\tpi-worker-2$/m);
  // The reboot that follows firstrun.sh already brings the cgroup: no second one.
  t.false(existsSync(`${root}/run/pikube-reboot-required`));
  const verify = spawnSync('systemd-analyze', ['verify', `${root}/etc/systemd/system/pikube-setup.service`], { encoding: 'utf8' });
  t.deepEqual(verify.stderr.split('\n').filter((line) => line.trim() !== '' && !/executable|No such file/i.test(line)), []);
});

const refusals: Array<[string, string[], RegExp]> = [
  ['missing flags', ['--node-name', 'pi-2'], /missing --controller, --join-token, --out/],
  ['a node name that is no DNS label', ['--node-name', 'Pi.2', '--controller', 'h', '--join-token', 't', '--out', 'X'], /not a DNS label/],
  ['Wi-Fi without a country', ['--node-name', 'pi-2', '--controller', 'h', '--join-token', 't', '--out', 'X', '--wifi-ssid', 'n'], /--wifi-country/],
  ['two different ports', ['--node-name', 'pi-2', '--controller', 'h:1884', '--mqtt-port', '1883', '--join-token', 't', '--out', 'X'], /port once/],
  ['a missing key file', ['--node-name', 'pi-2', '--controller', 'h', '--join-token', 't', '--out', 'X', '--ssh-authorized-key', '/nonexistent/key.pub'], /cannot read/],
  ['an unknown flag', ['--node', 'pi-2'], /Unknown option '--node'/],
  ['a token with spaces', ['--node-name', 'pi-2', '--controller', 'h', '--join-token', 'a b', '--out', 'X'], /join token/],
];

for (const [what, argv, message] of refusals) {
  test(`refuses ${what} with one line and exit 2, writing nothing`, (t) => {
    const dir = tempDir(t);
    const out = join(dir, 'boot');
    const result = runCommand('flash-config', argv.map((arg) => (arg === 'X' ? out : arg)));
    t.is(result.code, 2);
    t.regex(result.stderr, message);
    t.is(result.stderr.trim().split('\n').length, 1);
    t.deepEqual(readdirSync(dir), []);
  });
}

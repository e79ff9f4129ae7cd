import test from 'ava';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { writeMosquittoConfig, mosquittoPasswordLine, verifyMosquittoPassword, mosquittoPaths } from '../../controller/broker/mosquitto-config.js';
import { run } from '../../cli/commands/mosquitto-config-command.js';
import { brokerPropertyTests } from './broker-properties.js';
import { freePort, sleep, tempDir, waitUntil } from './helpers.js';
import { existsSync } from 'node:fs';

const mosquittoBinary = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find(existsSync);
const haveMosquitto = mosquittoBinary !== undefined;
if (!haveMosquitto && process.env.CI === 'true') throw new Error('mosquitto is required in CI');
const maybe = haveMosquitto ? test : test.skip;

async function startMosquitto(conf: string, port: number): Promise<ChildProcess> {
  const child = spawn(mosquittoBinary!, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  const net = await import('node:net');
  await waitUntil(() => child.exitCode === null, 100).catch(() => undefined);
  const deadline = Date.now() + 5000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${stderr}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return child;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen: ${stderr}`);
    await sleep(50);
  }
}

if (haveMosquitto) {
  brokerPropertyTests(test, 'mosquitto', async () => {
    const dataDir = await tempDir('pikube-mosq-');
    const port = await freePort();
    const files = await writeMosquittoConfig({ dataDir, listen: `127.0.0.1:${port}`, nodes: ['node-a', 'node-b'] });
    const child = await startMosquitto(files.conf, port);
    return {
      url: `mqtt://127.0.0.1:${port}`,
      dataDir,
      externalBroker: 'mosquitto',
      close: async () => {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      },
    };
  });
}

maybe('our $7$ password lines match mosquitto_passwd both ways', async (t) => {
  const dir = await tempDir('pikube-pw-');
  const file = `${dir}/pw`;
  execFileSync('mosquitto_passwd', ['-c', '-b', file, 'alice', 's3cret']);
  const line = (await readFile(file, 'utf8')).trim();
  t.true(verifyMosquittoPassword(line, 's3cret'));
  t.false(verifyMosquittoPassword(line, 's3cret!'));
  const ours = mosquittoPasswordLine('bob', 'hunter2');
  t.regex(ours, /^bob:\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
  t.true(verifyMosquittoPassword(ours, 'hunter2'));
  t.false(verifyMosquittoPassword(ours, 'hunter3'));
  // Same salt, same result: the format is deterministic in (password, salt, iterations).
  const salt = Buffer.from(line.split('$')[3]!, 'base64');
  t.is(mosquittoPasswordLine('alice', 's3cret', { salt }), line);
});

test('mosquitto-config command writes conf, password file and ACL, and refuses bad input', async (t) => {
  const dataDir = await tempDir('pikube-mcfg-');
  const out = await tempDir('pikube-mcfg-out-');
  const write = process.stdout.write;
  const errWrite = process.stderr.write;
  let stderr = '';
  let before = '';
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => { stderr += s; return true; }) as typeof process.stderr.write;
  try {
    t.is(await run(['--data-dir', dataDir, '--listen', '127.0.0.1:1884', '--out', out, '--node', 'pi-1', '--node', 'pi-2']), 0);
    before = await readFile(mosquittoPaths(dataDir).passwd, 'utf8');
    t.is(await run(['--data-dir', dataDir, '--node', 'Not_Valid']), 1);
    t.is(await run(['--data-dir', dataDir, '--listen', 'nope']), 1);
    t.is(await run(['--bogus']), 2);
  } finally {
    process.stdout.write = write;
    process.stderr.write = errWrite;
  }
  t.regex(stderr, /invalid node name/);
  const conf = await readFile(`${out}/mosquitto.conf`, 'utf8');
  t.regex(conf, /^listener 1884 127\.0\.0\.1$/m);
  t.regex(conf, /^allow_anonymous false$/m);
  const files = mosquittoPaths(dataDir);
  t.true(conf.includes(`password_file ${files.passwd}`));
  t.true(conf.includes(`acl_file ${files.acl}`));
  t.true(conf.includes(`pid_file ${files.pid}`));
  const users = (await readFile(files.passwd, 'utf8')).trim().split('\n').map((l) => l.split(':')[0]);
  t.deepEqual(users.sort(), ['pi-1', 'pi-2', 'pikube-controller', 'pikube-join']);
  const acl = await readFile(files.acl, 'utf8');
  t.regex(acl, /^pattern write pikube\/v1\/nodes\/%u\/status$/m);
  t.regex(acl, /^user pikube-controller\ntopic readwrite pikube\/#$/m);
  // The failed runs changed nothing.
  t.is(await readFile(files.passwd, 'utf8'), before);
});

// The real controller under a notify socket, as systemd runs it (Type=notify): READY=1
// only once the API answers, WATCHDOG=1 over and over, STOPPING=1 on SIGTERM, exit 0.
import test from 'ava';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CLI, freePort, removeDir, waitFor } from '../helpers/processes.js';

// A datagram socket like systemd's. On READY=1 it asks the API at once, so the test
// knows the API was answering when the controller said it was ready.
const RECEIVER = `
import json, socket, ssl, sys, urllib.request
name, url = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\\0" + name[1:])
print(json.dumps("listening"), flush=True)
while True:
    data = s.recv(65536).decode()
    print(json.dumps(data), flush=True)
    if "READY=1" in data.split("\\n"):
        try:
            code = urllib.request.urlopen(url, context=ssl._create_unverified_context(), timeout=2).status
        except Exception as e:
            code = str(e)
        print(json.dumps("api:" + str(code)), flush=True)
`;

test('READY=1 after the API answers, WATCHDOG=1 keeps coming, STOPPING=1 and exit 0 on SIGTERM', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pikube-notify-ctrl-'));
  t.teardown(() => removeDir(dir));
  const apiPort = await freePort();
  const mqttPort = await freePort();
  const socket = `@pikube-ctrl-${randomBytes(6).toString('hex')}`;
  const receiver = spawn('python3', ['-u', '-c', RECEIVER, socket, `https://127.0.0.1:${apiPort}/readyz`]);
  t.teardown(() => { receiver.kill('SIGKILL'); });
  const messages: string[] = [];
  createInterface({ input: receiver.stdout }).on('line', (line) => messages.push(JSON.parse(line) as string));
  await waitFor('the notify socket', () => messages.includes('listening'), 10_000, 20);

  const log = openSync(join(dir, 'controller.log'), 'a');
  const controller = spawn(process.execPath, [CLI, 'controller', '--data-dir', dir, '--api-listen', `127.0.0.1:${apiPort}`, '--mqtt-listen', `127.0.0.1:${mqttPort}`, '--mqtt-tls-listen', '127.0.0.1:0'], {
    stdio: ['ignore', log, log],
    env: { ...process.env, NOTIFY_SOCKET: socket, WATCHDOG_USEC: '400000' },
  });
  const exited = new Promise<number | null>((resolve) => controller.once('exit', (code) => resolve(code)));
  t.teardown(() => { controller.kill('SIGKILL'); });

  await waitFor('READY=1 and the API probe', () => messages.some((m) => m.startsWith('api:')), 30_000, 20);
  const payloads = messages.filter((m) => m !== 'BARRIER=1' && m !== 'listening');
  t.true(payloads[0]!.split('\n').includes('READY=1'), `first message: ${payloads[0]}`);
  t.is(payloads.find((m) => m.startsWith('api:')), 'api:200');

  await waitFor('three watchdog pings', () => messages.filter((m) => m === 'WATCHDOG=1').length >= 3, 10_000, 50);
  controller.kill('SIGTERM');
  t.is(await exited, 0);
  await waitFor('STOPPING=1', () => messages.includes('STOPPING=1'), 5_000, 20);
});

import { waitUntil } from '../helpers/wait.js';
import test from 'ava';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { notify, ready, stopping, startWatchdog, watchdogIntervalMs, parseState } from '../../cli/sd-notify.js';

// A real AF_UNIX datagram socket, as systemd has, printing each datagram as JSON.
const RECEIVER = `
import json, socket, sys
name = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\\0" + name[1:] if name.startswith("@") else name)
print("listening", flush=True)
while True:
    data, _anc, _flags, _addr = s.recvmsg(65536, 0)
    print(json.dumps(data.decode()), flush=True)
`;

interface Receiver {
  messages: string[];
  process: ChildProcessWithoutNullStreams;
  stop(): void;
}

async function startReceiver(address: string): Promise<Receiver> {
  const child = spawn('python3', ['-u', '-c', RECEIVER, address]);
  const messages: string[] = [];
  const lines = createInterface({ input: child.stdout });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`receiver exited with ${code}`)));
    lines.on('line', (line) => {
      if (line === 'listening') return resolve();
      messages.push(JSON.parse(line) as string);
    });
  });
  return { messages, process: child, stop: () => child.kill('SIGTERM') };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const waitFor = (check: () => boolean, timeoutMs = 5000): Promise<void> => waitUntil('the notify messages', check, timeoutMs);

function withoutBarriers(messages: string[]): string[] {
  // systemd-notify follows each message with BARRIER=1 to wait for the manager.
  return messages.filter((message) => message !== 'BARRIER=1');
}

async function lifecycle(t: import('ava').ExecutionContext, socketAddress: string) {
  const receiver = await startReceiver(socketAddress);
  t.teardown(() => receiver.stop());
  const env = { ...process.env, NOTIFY_SOCKET: socketAddress, WATCHDOG_USEC: '200000', WATCHDOG_PID: String(process.pid) };

  await ready('serving', { env });
  const stop = startWatchdog({ env, onError: (error) => t.fail(error.message) });
  await waitFor(() => withoutBarriers(receiver.messages).filter((m) => m === 'WATCHDOG=1').length >= 3);
  stop();
  await stopping({ env });
  await waitFor(() => receiver.messages.includes('STOPPING=1'));

  const messages = withoutBarriers(receiver.messages);
  t.is(messages[0], 'READY=1\nSTATUS=serving');
  t.true(messages.filter((m) => m === 'WATCHDOG=1').length >= 3);
  t.is(messages.at(-1), 'STOPPING=1');

  // After stop() no more pings arrive.
  const count = receiver.messages.length;
  await sleep(300);
  t.is(receiver.messages.length, count);
}

test('READY, repeated WATCHDOG and STOPPING reach an abstract datagram socket', async (t) => {
  await lifecycle(t, `@pikube-test-${randomBytes(6).toString('hex')}`);
});

test('messages reach a datagram socket on a path', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pikube-notify-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await lifecycle(t, join(dir, 'notify.sock'));
});

test('nothing happens without NOTIFY_SOCKET', async (t) => {
  const env = { PATH: process.env.PATH, WATCHDOG_USEC: '200000' };
  // A missing helper would reject if notify tried to run it.
  await t.notThrowsAsync(notify('READY=1', { env, binary: '/nonexistent/systemd-notify' }));
  t.is(watchdogIntervalMs(env), undefined);
  const stop = startWatchdog({ env, binary: '/nonexistent/systemd-notify', onError: () => t.fail('pinged') });
  await sleep(250);
  stop();
});

test('a missing helper is reported when NOTIFY_SOCKET is set', async (t) => {
  const env = { NOTIFY_SOCKET: '@pikube-nobody' };
  await t.throwsAsync(notify('READY=1', { env, binary: '/nonexistent/systemd-notify' }), { message: /sd_notify/ });
});

test('the watchdog interval is half of WATCHDOG_USEC and honours WATCHDOG_PID', (t) => {
  const env = { NOTIFY_SOCKET: '@x', WATCHDOG_USEC: '30000000' };
  t.is(watchdogIntervalMs(env, 42), 15000);
  t.is(watchdogIntervalMs({ ...env, WATCHDOG_PID: '42' }, 42), 15000);
  t.is(watchdogIntervalMs({ ...env, WATCHDOG_PID: '43' }, 42), undefined);
  t.is(watchdogIntervalMs({ ...env, WATCHDOG_USEC: 'soon' }, 42), undefined);
  t.is(watchdogIntervalMs({ NOTIFY_SOCKET: '@x' }, 42), undefined);
});

test('a state that is not VARIABLE=value is refused', (t) => {
  t.deepEqual(parseState('READY=1\nSTATUS=up'), ['READY=1', 'STATUS=up']);
  t.throws(() => parseState(''), { message: /empty/ });
  t.throws(() => parseState('ready'), { message: /not a VARIABLE=value/ });
});

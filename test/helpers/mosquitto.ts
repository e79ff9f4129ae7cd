// Debian's mosquitto as a test broker: started on a config `pikube mosquitto-config` wrote,
// ready once its listener accepts connections, killed with SIGKILL at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { execa } from 'execa';
import { waitFor } from './wait.js';

export const MOSQUITTO_BINARY = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find(existsSync);

export interface MosquittoHandle { child: ChildProcess; log(): string; kill(): Promise<void> }

export async function startMosquitto(conf: string, port: number): Promise<MosquittoHandle> {
  if (!MOSQUITTO_BINARY) throw new Error('mosquitto is not installed (apt-get install -y mosquitto mosquitto-clients)');
  const child = spawn(MOSQUITTO_BINARY, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d) => { log += d; });
  child.stderr!.on('data', (d) => { log += d; });
  await waitFor('mosquitto to listen', async () => {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${log}`);
    return new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
  }, 10_000, 50);
  return {
    child,
    log: () => log,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface Subscription {
  /** The finished mosquitto_sub (exit code, stderr); its stdout still carries the debug lines. */
  done: Promise<{ exitCode?: number; stderr: string }>;
  /** What it printed so far, without its debug lines: one message (or `topic payload`) a line. */
  lines(): string[];
}

/**
 * Debian's mosquitto_sub, resolved once the broker has answered its SUBSCRIBE (granted or
 * refused): anything published after this reaches it, however loaded the machine. The
 * SUBACK is read from `-d`'s debug lines, which `lines()` leaves out.
 */
export async function subscribe(args: readonly string[]): Promise<Subscription> {
  // Line-buffered: mosquitto_sub flushes its messages but not its debug lines.
  const child = execa('stdbuf', ['-oL', 'mosquitto_sub', '-d', ...args], { reject: false });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  // A refused subscription ends mosquitto_sub right after its SUBACK: that is an answer too.
  const ended = child.then(() => { if (!out.includes('received SUBACK')) throw new Error(`mosquitto_sub ended before it subscribed: ${out}`); });
  await Promise.race([ended, waitFor('mosquitto_sub to be subscribed', () => out.includes('received SUBACK'), 15_000, 20)]);
  ended.catch(() => {});
  const isDebug = (l: string) => /^Client \S+ (sending|received) [A-Z]+/.test(l) || /^Subscribed \(mid: /.test(l) || l === 'All subscription requests were denied.';
  return {
    done: child.then((r) => ({ exitCode: r.exitCode, stderr: String(r.stderr) })),
    lines: () => out.split('\n').filter((l) => l !== '' && !isDebug(l)),
  };
}

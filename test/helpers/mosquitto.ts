// Debian's mosquitto as a test broker: started on a config `pikube mosquitto-config` wrote,
// ready once its listener accepts connections, killed with SIGKILL at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
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

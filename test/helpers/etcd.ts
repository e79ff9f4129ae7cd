// Real etcd members for tests: Debian's etcd binary on free loopback ports, data in a
// temporary directory, SIGKILL and restart on the same data.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor, removeDir } from './processes.js';

export const ETCD_BIN = '/usr/bin/etcd';

export function etcdAvailable(): boolean {
  return existsSync(ETCD_BIN);
}

export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  child?: ChildProcess;
  kill(): Promise<void>;
  start(): Promise<void>;
}

export interface EtcdCluster {
  members: EtcdMember[];
  endpoints: string[];
  dir: string;
  stop(): Promise<void>;
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    return res.ok && ((await res.json()) as { health?: string }).health === 'true';
  } catch {
    return false;
  }
}

/** Starts `size` members forming one cluster and waits until each answers healthy. */
export async function startEtcdCluster(size = 1, opts: { dir?: string } = {}): Promise<EtcdCluster> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'pikube-etcd-'));
  const ports = await Promise.all(Array.from({ length: size }, async () => ({ client: await freePort(), peer: await freePort() })));
  const initial = ports.map((p, i) => `e${i}=http://127.0.0.1:${p.peer}`).join(',');
  const members: EtcdMember[] = ports.map((p, i) => {
    const m: EtcdMember = {
      name: `e${i}`, clientUrl: `http://127.0.0.1:${p.client}`, peerUrl: `http://127.0.0.1:${p.peer}`, dataDir: join(dir, `e${i}`),
      async kill() {
        const c = m.child;
        if (!c || c.exitCode !== null) return;
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGKILL');
        await exited;
      },
      async start() {
        const log = openSync(join(dir, `${m.name}.log`), 'a');
        m.child = spawn(ETCD_BIN, [
          '--name', m.name, '--data-dir', m.dataDir,
          '--listen-client-urls', m.clientUrl, '--advertise-client-urls', m.clientUrl,
          '--listen-peer-urls', m.peerUrl, '--initial-advertise-peer-urls', m.peerUrl,
          '--initial-cluster', initial, '--initial-cluster-state', 'new', '--initial-cluster-token', 'pikube-test',
          '--experimental-watch-progress-notify-interval', '2s', '--heartbeat-interval', '100', '--election-timeout', '1000',
        ], { stdio: ['ignore', log, log] });
      },
    };
    return m;
  });
  await Promise.all(members.map((m) => m.start()));
  await Promise.all(members.map((m) => waitFor(`etcd ${m.name} healthy`, () => healthy(m.clientUrl), 30_000)));
  return {
    members, endpoints: members.map((m) => m.clientUrl), dir,
    async stop() {
      await Promise.all(members.map((m) => m.kill()));
      removeDir(dir);
    },
  };
}

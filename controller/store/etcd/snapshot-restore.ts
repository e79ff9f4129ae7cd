// `pikube store snapshot restore FILE --data-dir DIR` for an etcd snapshot: etcdctl makes
// a one-member etcd data dir from it in <DIR>/etcd/data (a new cluster, as upstream's
// disaster recovery does), and `pikube controller --cluster-init --data-dir DIR` then
// starts its managed member on that data; the other Pis join it again with --join.
// DIR must hold the cluster's shared files (pki/ca.crt, pki/ca.key, join-token, ... —
// the same on every controller), since the secrets in the snapshot are sealed with that
// token and the member certificates must come from that CA.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { verifyEtcdSnapshot } from './snapshot-save.js';

export const ETCDCTL_BINARY = process.env.PIKUBE_ETCDCTL_BINARY ?? '/usr/bin/etcdctl';

/** Files a controller of the cluster keeps in its data dir that the restored one needs. */
const NEEDED = ['pki/ca.crt', 'pki/ca.key', 'join-token'];

export interface EtcdRestoreOptions {
  file: string;
  dataDir: string;
  /** The member's name and peer URL: the ones `pikube controller --cluster-init` will use. */
  name: string;
  peerUrl: string;
}

export async function restoreEtcdSnapshot(o: EtcdRestoreOptions): Promise<{ dataPath: string; bytes: number }> {
  const bytes = await readFile(o.file);
  if (!verifyEtcdSnapshot(bytes)) throw new Error(`${o.file} is damaged: its SHA-256 does not match its content`);
  const missing = NEEDED.filter((f) => !existsSync(join(o.dataDir, f)));
  if (missing.length) {
    throw new Error(`${o.dataDir} lacks ${missing.join(', ')}: copy pki/, admin-token, mqtt-secret, mqtt-controller-password and join-token from a controller of the cluster into it first`);
  }
  const dataPath = join(o.dataDir, 'etcd', 'data');
  if (existsSync(join(dataPath, 'member'))) throw new Error(`${dataPath} already holds an etcd member: restore into a data directory without one`);
  if (!existsSync(ETCDCTL_BINARY)) throw new Error(`${ETCDCTL_BINARY} not found: install Debian's etcd-client (apt-get install etcd-client)`);
  mkdirSync(join(o.dataDir, 'etcd'), { recursive: true, mode: 0o700 });
  rmSync(dataPath, { recursive: true, force: true });
  try {
    await promisify(execFile)(ETCDCTL_BINARY, [
      'snapshot', 'restore', o.file, '--data-dir', dataPath, '--name', o.name,
      '--initial-cluster', `${o.name}=${o.peerUrl}`, '--initial-advertise-peer-urls', o.peerUrl, '--initial-cluster-token', 'pikube',
    ], { env: { ...process.env, ETCDCTL_API: '3' } });
  } catch (err) {
    rmSync(dataPath, { recursive: true, force: true });
    const e = err as { stderr?: string; message: string };
    throw new Error(`etcdctl snapshot restore failed: ${(e.stderr || e.message).trim().split('\n').pop()}`);
  }
  // The old cluster's other members are gone from this one: forget their addresses.
  rmSync(join(o.dataDir, 'etcd', 'cluster.json'), { force: true });
  return { dataPath, bytes: bytes.length };
}

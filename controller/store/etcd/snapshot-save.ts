// etcd's own snapshot, for `pikube store snapshot save` on an etcd-backed cluster: the
// Maintenance.Snapshot stream of one member written to a file (temp file, fsync, rename),
// which `etcdctl snapshot restore` turns back into a data dir.
import { createHash } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import type { Etcd3, ISnapshotResponse } from 'etcd3';
import { etcdClient, type EtcdEndpointOptions } from './connect.js';

export interface EtcdSnapshotResult { path: string; bytes: number; revision: number }

/** Streams a snapshot from `client` (or a client made from `endpoints`) into `path`. */
export async function saveEtcdSnapshot(target: Etcd3 | EtcdEndpointOptions, path: string): Promise<EtcdSnapshotResult> {
  const client = 'endpoints' in target ? etcdClient(target) : target;
  const tmp = `${path}.part`;
  const file = await open(tmp, 'w', 0o600);
  let bytes = 0;
  let revision = 0;
  try {
    const stream = await client.maintenance.snapshot();
    await new Promise<void>((resolve, reject) => {
      let writing = Promise.resolve();
      stream.on('data', (chunk: ISnapshotResponse) => {
        revision ||= Number(chunk.header?.revision ?? 0);
        const blob = chunk.blob;
        bytes += blob.length;
        writing = writing.then(() => file.write(blob).then(() => undefined));
      });
      stream.on('error', reject);
      stream.on('end', () => { writing.then(resolve, reject); });
    });
    if (bytes === 0) throw new Error('etcd sent an empty snapshot');
    await file.sync();
    await file.close();
    await rename(tmp, path);
    return { path, bytes, revision };
  } catch (err) {
    await file.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  } finally {
    if ('endpoints' in target) client.close();
  }
}

/** Bytes etcd appends to a snapshot: the SHA-256 of everything before them. */
export const ETCD_SNAPSHOT_HASH_BYTES = 32;

/** The whole snapshot in memory (a home lab's database is a few MB), for the API route. */
export async function readEtcdSnapshot(client: Etcd3): Promise<{ bytes: Buffer; revision: number }> {
  const stream = await client.maintenance.snapshot();
  const chunks: Buffer[] = [];
  let revision = 0;
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: ISnapshotResponse) => { revision ||= Number(chunk.header?.revision ?? 0); chunks.push(Buffer.from(chunk.blob)); });
    stream.on('error', reject);
    stream.on('end', () => resolve());
  });
  const bytes = Buffer.concat(chunks);
  if (!verifyEtcdSnapshot(bytes)) throw new Error('etcd sent a snapshot whose checksum does not match');
  return { bytes, revision };
}

/** Whether a file is a whole etcd snapshot: its database followed by that database's SHA-256. */
export function verifyEtcdSnapshot(bytes: Buffer): boolean {
  if (bytes.length <= ETCD_SNAPSHOT_HASH_BYTES) return false;
  const body = bytes.subarray(0, bytes.length - ETCD_SNAPSHOT_HASH_BYTES);
  return createHash('sha256').update(body).digest().equals(bytes.subarray(bytes.length - ETCD_SNAPSHOT_HASH_BYTES));
}

/** bbolt's magic number in the first meta page: tells an etcd snapshot from the embedded store's. */
export function looksLikeEtcdSnapshot(bytes: Buffer): boolean {
  return bytes.length > 32 && bytes.readUInt32LE(16) === 0xed0cdaed;
}

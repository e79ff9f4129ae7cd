// etcd's own snapshot, for `pikube store snapshot save` on an etcd-backed cluster: the
// Maintenance.Snapshot stream of one member written to a file (temp file, fsync, rename),
// which `etcdctl snapshot restore` turns back into a data dir.
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

// GET /pikube/v1/store/snapshot on an etcd-backed controller: etcd's own snapshot
// (Maintenance.Snapshot of the member this controller talks to, checksum included), for
// `pikube store snapshot save`. The same path, token and admin-only rule as the embedded
// store's route; the format is named in a header so the command knows what it holds.
import type { Etcd3 } from 'etcd3';
import type { ExtraRoute } from './server.js';
import { ApiError } from '../errors.js';
import { SNAPSHOT_PATH } from './store-snapshot-route.js';
import { readEtcdSnapshot } from '../../store/etcd/snapshot-save.js';

export const SNAPSHOT_FORMAT_HEADER = 'X-Pikube-Snapshot-Format';

export function etcdSnapshotRoute(client: Etcd3): ExtraRoute {
  return async (req, res, url, user) => {
    if (url.pathname !== SNAPSHOT_PATH) return false;
    if (!user.groups?.includes('system:masters')) {
      throw new ApiError(403, 'Forbidden', `user "${user.username}" cannot read the store snapshot: only the cluster admin can`);
    }
    if (req.method !== 'GET') throw new ApiError(405, 'MethodNotAllowed', 'the store snapshot is read with GET');
    let snap;
    try {
      snap = await readEtcdSnapshot(client);
    } catch (err) {
      throw new ApiError(503, 'ServiceUnavailable', `etcd did not give a snapshot: ${(err as Error).message}`);
    }
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream', 'Content-Length': String(snap.bytes.length), 'Cache-Control': 'no-store',
      'X-Pikube-Revision': String(snap.revision), [SNAPSHOT_FORMAT_HEADER]: 'etcd',
    });
    res.end(snap.bytes);
    return true;
  };
}

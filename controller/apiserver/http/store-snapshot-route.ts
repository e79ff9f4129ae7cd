// GET /pikube/v1/store/snapshot: a consistent copy of the store while the controller
// runs, for `pikube store snapshot save`. Served through the API server, so a backup can
// be taken from any machine with the admin kubeconfig over the same TLS and token, and
// nothing new listens. Only the cluster admin may read it: it holds every Secret.
import type { ExtraRoute } from './server.js';
import { ApiError } from '../errors.js';

export const SNAPSHOT_PATH = '/pikube/v1/store/snapshot';

export function snapshotRoute(store: { snapshotFile(): { revision: number; bytes: Buffer } }): ExtraRoute {
  return (req, res, url, user) => {
    if (url.pathname !== SNAPSHOT_PATH) return false;
    if (!user.groups?.includes('system:masters')) {
      throw new ApiError(403, 'Forbidden', `user "${user.username}" cannot read the store snapshot: only the cluster admin can`);
    }
    if (req.method !== 'GET') throw new ApiError(405, 'MethodNotAllowed', 'the store snapshot is read with GET');
    // Serialised in one go from the durable state: one revision, nothing half-applied.
    const { revision, bytes } = store.snapshotFile();
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.length), 'X-Pikube-Revision': String(revision), 'Cache-Control': 'no-store' });
    res.end(bytes);
    return true;
  };
}

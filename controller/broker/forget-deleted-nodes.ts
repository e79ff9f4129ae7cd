// `kubectl delete node NAME` frees the name: the node's stored MQTT password is dropped,
// so the next join with a join token may take the name again (k3s does the same with its
// node-password secrets).
import type { ClusterClient } from '../apiserver/client.js';
import { R } from '../apiserver/client.js';
import type { ControlLoop } from '../client/control-loop.js';
import { deriveNodePassword, loadClusterSecret } from './credentials.js';
import { NodePasswords } from './node-passwords.js';

export function forgetDeletedNodes(client: ClusterClient, dataDir: string, log: { info: (o: object, m: string) => void }): ControlLoop {
  const passwords = new NodePasswords(dataDir);
  // Started at once: the watch's first, synthetic events are ADDED and ignored.
  const h = client.watch(R.nodes, {}, (e) => {
    if (e.type !== 'DELETED') return;
    const name = e.object.metadata.name!;
    if (passwords.remove(name)) log.info({ node: name }, 'node deleted: its name may join again');
  });
  return { name: 'node-password-release', start() {}, stop: () => h.stop() };
}

/** Nodes that joined when passwords were derived from the cluster secret keep working. */
export async function adoptJoinedNodes(nodes: string[], dataDir: string): Promise<void> {
  const passwords = new NodePasswords(dataDir);
  const missing = nodes.filter((n) => !passwords.has(n));
  if (!missing.length) return;
  const secret = await loadClusterSecret(dataDir);
  for (const n of missing) passwords.adopt(n, deriveNodePassword(secret, n));
}

// Moves the embedded store's objects into etcd (`pikube store migrate --to etcd`). Every
// object is written with its content unchanged, one transaction each, in the order of its
// old resourceVersion; first etcd's revision is raised past the old store's, so that every
// new resourceVersion is higher than any a client may hold from before — resourceVersions
// keep rising across the move, as a client's watch or cache expects.
import type { KubeObject } from '../../../protocol/kube/types.js';
import type { LocalStore } from '../local-store.js';
import type { EtcdStore } from './etcd-store.js';
import { encodeObject } from './keys.js';

export interface MigrationResult { objects: number; oldRevision: number; firstRevision: number; lastRevision: number }

/** Everything the embedded store holds, oldest change first. */
function allObjects(local: LocalStore): { gr: string; obj: KubeObject }[] {
  const out: { gr: string; obj: KubeObject }[] = [];
  const grs = local.groupResources();
  for (const gr of grs) for (const obj of local.list(gr)) out.push({ gr, obj });
  return out.sort((a, b) => Number(a.obj.metadata.resourceVersion) - Number(b.obj.metadata.resourceVersion));
}

export async function migrateToEtcd(local: LocalStore, etcd: EtcdStore, progress?: (done: number, total: number) => void): Promise<MigrationResult> {
  const existing = await etcd.client.getAll().prefix(etcd.keys.registry).count();
  if (existing > 0) throw new Error(`etcd already holds ${existing} objects under ${etcd.keys.registry}: migrate into an empty datastore (or another --datastore-prefix)`);
  const objects = allObjects(local);
  const oldRevision = local.revision;
  // Raise etcd's revision above the old one: each transaction adds one.
  const filler = `${etcd.keys.prefix}migrate-revision`;
  let rev = etcd.revision;
  while (rev < oldRevision) {
    const batch = Math.min(64, oldRevision - rev);
    const res = await Promise.all(Array.from({ length: batch }, () => etcd.client.put(filler).value('').exec()));
    rev = Math.max(...res.map((r) => Number(r.header.revision)));
  }
  await etcd.client.delete().key(filler).exec();
  let first = 0;
  let last = 0;
  let done = 0;
  for (const { gr, obj } of objects) {
    const key = etcd.keys.objectKey(gr, obj.metadata.namespace ?? '', obj.metadata.name!);
    const res = await etcd.client.if(key, 'Create', '==', 0).then(etcd.client.put(key).value(encodeObject(obj))).commit();
    if (!res.succeeded) throw new Error(`${key} appeared in etcd during the migration`);
    last = Number(res.header.revision);
    first ||= last;
    if (++done % 100 === 0) progress?.(done, objects.length);
  }
  await etcd.caughtUp(last);
  // Verify: the same objects, the same content.
  for (const { gr, obj } of objects) {
    const copy = etcd.get(gr, obj.metadata.namespace ?? '', obj.metadata.name!);
    if (!copy || encodeObject(copy) !== encodeObject(obj)) throw new Error(`verification failed for ${gr} ${obj.metadata.namespace ?? ''}/${obj.metadata.name}`);
  }
  return { objects: objects.length, oldRevision, firstRevision: first, lastRevision: last };
}

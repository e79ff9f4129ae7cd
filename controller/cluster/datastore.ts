// Which store a controller runs on: the embedded one in its data dir (one Pi, the
// default), or etcd when `--datastore-endpoint` is given — then the cluster's secrets are
// shared through it before anything reads them from the data dir.
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { StoreBackend } from '../store/backend.js';
import { LocalStore } from '../store/local-store.js';
import type { EtcdEndpointOptions } from '../store/etcd/endpoints.js';
import { syncClusterSecrets } from './shared-secrets.js';

/** The etcd endpoints and TLS material, and the key prefix the cluster's objects live under. */
export interface DatastoreOptions extends EtcdEndpointOptions {
  prefix?: string;
}

export async function openDatastore(dataDir: string, datastore: DatastoreOptions | undefined, token: string | undefined, log: Logger, tokenCaHash?: string): Promise<StoreBackend> {
  if (!datastore) {
    const store = new LocalStore({ dir: join(dataDir, 'store'), log: log.child({ component: 'store' }) });
    await store.open();
    return store;
  }
  // Loaded only here: the etcd client library is a tenth of a controller's memory on the embedded store.
  const { EtcdStore } = await import('../store/etcd/etcd-store.js');
  const slog = log.child({ component: 'store' });
  const store = new EtcdStore({
    ...datastore, log: slog,
    onFatal: (err) => {
      // The mirror missed history it cannot get back: restart and relist (systemd restarts us).
      slog.fatal({ err: err.message }, 'etcd mirror lost; exiting to start afresh');
      process.exit(70);
    },
  });
  await store.open();
  try {
    await syncClusterSecrets(store, dataDir, token, slog, tokenCaHash);
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}

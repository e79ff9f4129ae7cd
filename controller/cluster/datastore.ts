// Which store a controller runs on: the embedded one in its data dir (one Pi, the
// default), or etcd when `--datastore-endpoint` is given — then the cluster's secrets are
// shared through it before anything reads them from the data dir.
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { StoreBackend } from '../store/backend.js';
import { LocalStore } from '../store/local-store.js';
import { EtcdStore } from '../store/etcd/etcd-store.js';
import { syncClusterSecrets } from './shared-secrets.js';

export interface DatastoreOptions {
  endpoints: string[];
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** Or PEM texts (the managed etcd member's client certificate). */
  ca?: string;
  cert?: string;
  key?: string;
  prefix?: string;
}

export async function openDatastore(dataDir: string, datastore: DatastoreOptions | undefined, token: string | undefined, log: Logger, tokenCaHash?: string): Promise<StoreBackend> {
  if (!datastore) {
    const store = new LocalStore({ dir: join(dataDir, 'store'), log: log.child({ component: 'store' }) });
    await store.open();
    return store;
  }
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

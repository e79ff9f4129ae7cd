// `pikube store migrate --to etcd`: moves a single-Pi cluster's state from the embedded
// store in the data dir into etcd, with the cluster's secrets, so that the controller can
// start again with --datastore-endpoint (and more controllers can join it with --token).
import { parseArgs } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalStore } from '../../controller/store/local-store.js';
import { EtcdStore } from '../../controller/store/etcd/etcd-store.js';
import { parseEndpoints } from '../../controller/store/etcd/endpoints.js';
import { migrateToEtcd } from '../../controller/store/etcd/migrate.js';
import { syncClusterSecrets } from '../../controller/cluster/shared-secrets.js';
import { JOIN_TOKEN_FILE } from '../../controller/broker/credentials.js';
import { defaultDataDir, UsageError } from '../args.js';

export const USAGE = `Usage: pikube store migrate --to etcd --datastore-endpoint URL[,URL...] [flags]

Copies every object of the embedded store (<data-dir>/store) into etcd, in resourceVersion
order and with every new resourceVersion above the old ones, then the cluster's CA, keys
and tokens. Stop the controller first; afterwards start it with the same
--datastore-endpoint. The embedded store is left as it was.

  --data-dir DIR              the controller's data dir (default /var/lib/pikube as root)
  --datastore-endpoint URLS   etcd client URLs, http(s)://HOST:2379
  --datastore-cafile FILE     CA of etcd's certificates (https://)
  --datastore-certfile FILE   client certificate, with --datastore-keyfile FILE
  --datastore-prefix PREFIX   key prefix (default /pikube/)
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      to: { type: 'string' }, 'data-dir': { type: 'string' }, 'datastore-endpoint': { type: 'string' },
      'datastore-cafile': { type: 'string' }, 'datastore-certfile': { type: 'string' }, 'datastore-keyfile': { type: 'string' },
      'datastore-prefix': { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { process.stdout.write(USAGE); return 0; }
  if (values.to !== 'etcd') throw new UsageError('--to etcd is the only migration there is');
  if (!values['datastore-endpoint']) throw new UsageError('--datastore-endpoint is required');
  let endpoints: string[];
  try { endpoints = parseEndpoints(values['datastore-endpoint']); } catch (err) { throw new UsageError((err as Error).message); }
  const dataDir = values['data-dir'] ?? defaultDataDir('controller');
  if (!existsSync(join(dataDir, 'store'))) throw new UsageError(`${dataDir}/store does not exist: is --data-dir the controller's?`);
  const local = new LocalStore({ dir: join(dataDir, 'store') });
  await local.open();
  const etcd = new EtcdStore({
    endpoints, ...(values['datastore-prefix'] ? { prefix: values['datastore-prefix'] } : {}),
    ...(values['datastore-cafile'] ? { caFile: values['datastore-cafile'] } : {}),
    ...(values['datastore-certfile'] ? { certFile: values['datastore-certfile'], keyFile: values['datastore-keyfile'] } : {}),
  });
  try {
    await etcd.open();
    const r = await migrateToEtcd(local, etcd, (done, total) => process.stderr.write(`\r${done}/${total} objects`));
    if (r.objects >= 100) process.stderr.write('\n');
    const token = existsSync(join(dataDir, JOIN_TOKEN_FILE)) ? readFileSync(join(dataDir, JOIN_TOKEN_FILE), 'utf8').trim() : undefined;
    await syncClusterSecrets(etcd, dataDir, token);
    process.stdout.write(`migrated ${r.objects} objects to etcd: resourceVersions ${r.firstRevision}..${r.lastRevision} (the embedded store was at ${r.oldRevision})\n`
      + `start the controller with --datastore-endpoint ${endpoints.join(',')}; more controllers join with --token <${join(dataDir, JOIN_TOKEN_FILE)}>\n`);
    return 0;
  } finally {
    await etcd.close();
    await local.close();
  }
}

// `pikube store snapshot restore FILE --data-dir DIR`: the embedded store's snapshot
// becomes DIR's store; an etcd snapshot becomes DIR's managed etcd member (a new
// one-member cluster, started with `pikube controller --cluster-init --data-dir DIR`).
import { parseArgs } from 'node:util';
import { open } from 'node:fs/promises';
import { hostname } from 'node:os';
import { restoreSnapshot } from '../../../controller/store/restore.js';
import { looksLikeEtcdSnapshot } from '../../../controller/store/etcd/snapshot-save.js';
import { restoreEtcdSnapshot } from '../../../controller/store/etcd/snapshot-restore.js';
import { hostAddresses } from '../../../controller/apiserver/certs.js';
import { UsageError } from '../../args.js';

const HELP = `Usage: pikube store snapshot restore FILE --data-dir DIR [--etcd-name NAME] [--etcd-peer-url URL]

Verifies FILE and makes it the store of DIR, a new data directory; then start
\`pikube controller --data-dir DIR\`. It gets fresh certificates and tokens unless you copy
the old data directory's other files in first.

An etcd snapshot (from an etcd-backed cluster) becomes DIR's etcd member instead: copy
pki/, admin-token, mqtt-secret, mqtt-controller-password and join-token from a controller
of the cluster into DIR first, then start \`pikube controller --cluster-init --data-dir DIR\`
with the same --etcd-name and peer address, and --join the other Pis to it again.
  --etcd-name NAME      the member's name (default: host name)
  --etcd-peer-url URL   its peer URL (default: https://<this host's address>:2380)
`;

async function head(file: string): Promise<Buffer> {
  const f = await open(file, 'r');
  try {
    const b = Buffer.alloc(64);
    const { bytesRead } = await f.read(b, 0, 64, 0);
    return b.subarray(0, bytesRead);
  } finally {
    await f.close();
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { 'data-dir': { type: 'string' }, 'etcd-name': { type: 'string' }, 'etcd-peer-url': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) { process.stdout.write(HELP); return 0; }
  const [file, ...extra] = positionals;
  if (!file || extra.length) throw new UsageError('give exactly one snapshot FILE');
  if (!values['data-dir']) throw new UsageError('--data-dir DIR is required: the new data directory to restore into');
  let first: Buffer;
  try { first = await head(file); } catch (err) { throw new UsageError(`cannot read ${file}: ${(err as Error).message}`); }
  if (looksLikeEtcdSnapshot(first)) {
    const name = values['etcd-name'] ?? hostname().toLowerCase();
    const host = hostAddresses().find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a) && !a.startsWith('127.')) ?? '127.0.0.1';
    const peerUrl = values['etcd-peer-url'] ?? `https://${host}:2380`;
    if (!/^https:\/\/[^/]+:\d+$/.test(peerUrl)) throw new UsageError('--etcd-peer-url must be https://HOST:PORT');
    const r = await restoreEtcdSnapshot({ file, dataDir: values['data-dir'], name, peerUrl });
    process.stdout.write(`restored the etcd snapshot (${r.bytes} bytes) into ${r.dataPath} as member ${name} (${peerUrl}); start it with pikube controller --cluster-init --data-dir ${values['data-dir']}\n`);
    return 0;
  }
  if ((values['etcd-name'] || values['etcd-peer-url'])) throw new UsageError('--etcd-name and --etcd-peer-url apply to etcd snapshots only');
  const r = await restoreSnapshot(file, values['data-dir']);
  process.stdout.write(`restored revision ${r.revision} (${r.objects} objects) into ${r.storeDir}\n`);
  return 0;
}

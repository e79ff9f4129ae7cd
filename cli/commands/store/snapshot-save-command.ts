// `pikube store snapshot save FILE`: asks the running controller for a consistent copy of
// its store over the API (admin kubeconfig), verifies it, and writes it durably.
import { parseArgs } from 'node:util';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { decodeSnapshot } from '../../../controller/store/snapshot.js';
import { writeFileDurably } from '../../../controller/store/durable-file.js';
import { SNAPSHOT_PATH } from '../../../controller/apiserver/http/store-snapshot-route.js';
import { defaultDataDir, UsageError } from '../../args.js';
import { SNAPSHOT_FORMAT_HEADER } from '../../../controller/apiserver/http/etcd-snapshot-route.js';
import { verifyEtcdSnapshot } from '../../../controller/store/etcd/snapshot-save.js';

interface Access { server: string; ca?: string; token?: string }

function readKubeconfig(path: string): Access {
  let doc: { clusters?: { cluster: { server: string; 'certificate-authority-data'?: string } }[]; users?: { user: { token?: string } }[] };
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read kubeconfig ${path}: ${(err as Error).message}`);
  }
  const cluster = doc.clusters?.[0]?.cluster;
  if (!cluster?.server) throw new UsageError(`kubeconfig ${path} names no server`);
  const caData = cluster['certificate-authority-data'];
  return { server: cluster.server, ...(caData ? { ca: Buffer.from(caData, 'base64').toString() } : {}), ...(doc.users?.[0]?.user.token ? { token: doc.users[0].user.token } : {}) };
}

function download(a: Access): Promise<{ body: Buffer; format: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(SNAPSHOT_PATH, a.server), {
      method: 'GET', ...(a.ca ? { ca: a.ca } : {}), headers: a.token ? { Authorization: `Bearer ${a.token}` } : {}, timeout: 120_000,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        if (res.statusCode === 200) return resolve({ body, format: String(res.headers[SNAPSHOT_FORMAT_HEADER.toLowerCase()] ?? 'pikube') });
        let msg = body.toString('utf8').slice(0, 300);
        try { msg = (JSON.parse(msg) as { message?: string }).message ?? msg; } catch { /* plain text */ }
        reject(new Error(`the controller answered ${res.statusCode}: ${msg}`));
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('the controller did not answer within 120 s')));
    req.on('error', (err) => reject(new Error(`cannot reach the controller at ${a.server}: ${err.message}`)));
    req.end();
  });
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { 'data-dir': { type: 'string' }, kubeconfig: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) { process.stdout.write('Usage: pikube store snapshot save FILE [--data-dir DIR | --kubeconfig FILE]\n\nA consistent copy of the running controller\'s store, taken through its API with the\nadmin kubeconfig (from the data directory unless --kubeconfig is given). On an\netcd-backed cluster it is etcd\'s own snapshot of the member the controller uses.\n'); return 0; }
  const [file, ...extra] = positionals;
  if (!file || extra.length) throw new UsageError('give exactly one FILE to save to');
  const kubeconfig = values.kubeconfig ?? join(values['data-dir'] ?? defaultDataDir('controller'), 'kubeconfig');
  const { body: bytes, format } = await download(readKubeconfig(kubeconfig));
  if (format === 'etcd') {
    // etcd's own snapshot: its checksum is checked here and again by the restore.
    if (!verifyEtcdSnapshot(bytes)) throw new Error('the downloaded etcd snapshot is damaged (checksum mismatch)');
    await writeFileDurably(file, bytes);
    process.stdout.write(`saved etcd snapshot (${bytes.length} bytes) to ${file}; restore with: pikube store snapshot restore ${file} --data-dir DIR\n`);
    return 0;
  }
  const data = decodeSnapshot(bytes, 'the downloaded snapshot');
  await writeFileDurably(file, bytes);
  const objects = Object.values(data.objects).reduce((n, m) => n + Object.keys(m).length, 0);
  process.stdout.write(`saved revision ${data.revision} (${objects} objects, ${bytes.length} bytes) to ${file}\n`);
  return 0;
}

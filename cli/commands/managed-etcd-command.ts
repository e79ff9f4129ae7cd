// `pikube controller --cluster-init` / `--join URL --token TOKEN`: sets up the managed
// etcd member this controller runs next to it, and the datastore options that point the
// controller at it (own member first, then the others).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ensurePki, hostAddresses } from '../../controller/apiserver/certs.js';
import { BrokerCredentials, JOIN_TOKEN_FILE, isWellFormedJoinToken, writePrivateFile } from '../../controller/broker/credentials.js';
import { TokenSigner } from '../../controller/controller-manager/index.js';
import { ensureMemberPki } from '../../controller/cluster/etcd-pki.js';
import type { ManagedEtcd } from '../../controller/cluster/managed-etcd.js';
import { requestJoin } from '../../controller/cluster/join-route.js';
import { writeShared } from '../../controller/cluster/shared-secrets.js';
import type { DatastoreOptions } from '../../controller/cluster/datastore.js';
import { parseHostPort, parseTokenFlag, UsageError } from '../args.js';
import { assertTokenCa } from '../../protocol/pinned-ca.js';

export const MANAGED_ETCD_FLAGS = {
  'cluster-init': { type: 'boolean', default: false },
  join: { type: 'string' },
  'etcd-name': { type: 'string' },
  'etcd-client-listen': { type: 'string', default: '0.0.0.0:2379' },
  'etcd-peer-listen': { type: 'string', default: '0.0.0.0:2380' },
  'advertise-address': { type: 'string' },
} as const;

export const MANAGED_ETCD_USAGE = `
Managed etcd (k3s-style, Debian's etcd binary run by the controller):
  --cluster-init                    first controller: start a new etcd cluster in <data-dir>/etcd
  --join https://HOST:6443          further controllers: join that controller's cluster (needs --token)
  --etcd-name NAME                  member name (default: host name)
  --etcd-client-listen HOST:PORT    etcd's client listener (default 0.0.0.0:2379)
  --etcd-peer-listen HOST:PORT      etcd's peer listener (default 0.0.0.0:2380)
  --advertise-address IP            address other Pis reach this one at (default: the API's, else the first LAN address)
`;

export interface ManagedEtcdValues {
  'cluster-init'?: boolean; join?: string; 'etcd-name'?: string; 'etcd-client-listen'?: string; 'etcd-peer-listen'?: string;
  'advertise-address'?: string; token?: string; 'datastore-endpoint'?: string; 'api-listen'?: string;
}

interface SavedCluster { clientUrls: string[] }

export async function setUpManagedEtcd(v: ManagedEtcdValues, dataDir: string, log: Logger): Promise<{ etcd: ManagedEtcd; datastore: DatastoreOptions } | undefined> {
  if (!v['cluster-init'] && !v.join) return undefined;
  if (v['cluster-init'] && v.join) throw new UsageError('--cluster-init and --join exclude each other');
  if (v['datastore-endpoint']) throw new UsageError('--cluster-init/--join run their own etcd: leave out --datastore-endpoint');
  if (v.join && !v.token) throw new UsageError('--join needs --token (the first controller\'s <data-dir>/join-token)');
  // The K10<ca-hash>::<token> form `pikube token show` prints: the hash pins the cluster's CA.
  let caHash: string | undefined;
  if (v.token) {
    const parsed = parseTokenFlag(v.token);
    caHash = parsed.caHash;
    v = { ...v, token: parsed.credentials };
  }
  if (v.token && !isWellFormedJoinToken(v.token)) throw new UsageError('--token must look like abcdef.0123456789abcdef');
  if (v.join && !/^https:\/\/[^/]+$/.test(v.join.replace(/\/$/, ''))) throw new UsageError('--join must be https://HOST:PORT of a running controller');
  const clientListen = parseHostPort(v['etcd-client-listen']!, '--etcd-client-listen');
  const peerListen = parseHostPort(v['etcd-peer-listen']!, '--etcd-peer-listen');
  const apiHost = v['api-listen'] ? parseHostPort(v['api-listen'], '--api-listen').host : '0.0.0.0';
  const advertise = v['advertise-address'] ?? (apiHost !== '0.0.0.0' && apiHost !== '::' ? apiHost
    : hostAddresses().find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a) && !a.startsWith('127.')) ?? '127.0.0.1');
  const name = v['etcd-name'] ?? hostname().toLowerCase();
  mkdirSync(join(dataDir, 'etcd'), { recursive: true, mode: 0o700 });
  const savedPath = join(dataDir, 'etcd', 'cluster.json');
  const hasData = existsSync(join(dataDir, 'etcd', 'data', 'member'));
  let initialCluster: string | undefined;
  let others: string[] = [];
  if (v['cluster-init'] || hasData) {
    // First member, or any member restarting on its own data: the secrets are here already.
    if (v.token && !existsSync(join(dataDir, JOIN_TOKEN_FILE))) await writePrivateFile(join(dataDir, JOIN_TOKEN_FILE), v.token + '\n');
    await ensurePki(dataDir, [advertise]);
    if (caHash) assertTokenCa(readFileSync(join(dataDir, 'pki', 'ca.crt'), 'utf8'), caHash, 'this controller\'s data directory');
    await BrokerCredentials.load(dataDir);
    new TokenSigner(join(dataDir, 'pki', 'service-account.key')).publicJwk();
    if (existsSync(savedPath)) others = (JSON.parse(readFileSync(savedPath, 'utf8')) as SavedCluster).clientUrls;
  } else {
    const peerUrl = `https://${advertise.includes(':') ? `[${advertise}]` : advertise}:${peerListen.port}`;
    log.info({ server: v.join, name, peerUrl }, 'joining the etcd cluster');
    const answer = await requestJoin(v.join!.replace(/\/$/, ''), v.token!, name, peerUrl, caHash ? { caHash } : {});
    await writeShared(dataDir, answer.files);
    initialCluster = answer.initialCluster;
    others = answer.clientUrls;
  }
  const ca = { cert: readFileSync(join(dataDir, 'pki', 'ca.crt'), 'utf8'), key: readFileSync(join(dataDir, 'pki', 'ca.key'), 'utf8') };
  const pki = await ensureMemberPki(dataDir, ca, [advertise]);
  // Loaded here: a controller without a managed etcd never loads the etcd client library.
  const { ManagedEtcd } = await import('../../controller/cluster/managed-etcd.js');
  const etcd = new ManagedEtcd({
    dataDir, name, advertiseHost: advertise, clientListen, peerListen, pki,
    initialState: v['cluster-init'] || hasData ? 'new' : 'existing',
    ...(initialCluster ? { initialCluster } : {}), log: log.child({ component: 'etcd' }),
  });
  await etcd.start();
  const endpoints = [etcd.clientUrl, ...others.filter((u) => u !== etcd.clientUrl)];
  writeFileSync(savedPath, JSON.stringify({ clientUrls: endpoints } satisfies SavedCluster) + '\n');
  return { etcd, datastore: { endpoints, ca: pki.ca, cert: pki.cert, key: pki.key } };
}

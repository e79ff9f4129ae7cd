// `pikube controller`: the control plane as one process.
import { parseArgs } from 'node:util';
import { Controller, type ControllerOptions } from '../../controller/control-plane.js';
import { createLogger } from '../logger.js';
import { defaultDataDir, parseDuration, parseHostPort, parseTokenFlag, UsageError } from '../args.js';
import { BEATS_PER_GRACE_PERIOD, MIN_GRACE_PERIOD_SECONDS } from '../../protocol/mqtt/heartbeat-policy.js';
import { readFileSync } from 'node:fs';
import { parseRegistriesConfig, RegistriesConfigError } from '../../protocol/images/registries-yaml.js';
import { parseEndpoints } from '../../controller/store/etcd/endpoints.js';
import { joinRoute } from '../../controller/cluster/join-route.js';
import { isLoopbackHost } from '../../controller/broker/listeners.js';
import { CaMismatchError } from '../../protocol/pinned-ca.js';
import { MANAGED_ETCD_FLAGS, MANAGED_ETCD_USAGE, setUpManagedEtcd } from './managed-etcd-command.js';

export const CONTROLLER_FLAGS = {
  'data-dir': { type: 'string' },
  'api-listen': { type: 'string', default: '0.0.0.0:6443' },
  'mqtt-listen': { type: 'string' },
  'mqtt-tls-listen': { type: 'string' },
  'mqtt-insecure-listen': { type: 'string' },
  'mqtt-url': { type: 'string' },
  'base-topic': { type: 'string', default: 'pikube' },
  'node-monitor-grace-period': { type: 'string', default: '20s' },
  'default-toleration-seconds': { type: 'string', default: '60' },
  'service-cluster-ip-range': { type: 'string', default: '10.43.0.0/16' },
  'cluster-cidr': { type: 'string', default: '10.42.0.0/16' },
  'node-cidr-mask-size': { type: 'string', default: '24' },
  'cluster-domain': { type: 'string', default: 'cluster.local' },
  homeassistant: { type: 'boolean', default: false },
  'homeassistant-user': { type: 'string' },
  'snapshot-interval': { type: 'string', default: '12h' },
  'snapshot-retain': { type: 'string', default: '5' },
  'snapshot-dir': { type: 'string' },
  'audit-log': { type: 'string' },
  'service-account-max-token-expiration': { type: 'string', default: '48h' },
  'registries-config': { type: 'string' },
  'image-platform-check': { type: 'string', default: 'on' },
  'datastore-endpoint': { type: 'string' },
  'datastore-cafile': { type: 'string' },
  'datastore-certfile': { type: 'string' },
  'datastore-keyfile': { type: 'string' },
  token: { type: 'string' },
  'leader-elect-lease-duration': { type: 'string', default: '6s' },
  'leader-elect-renew-deadline': { type: 'string', default: '4s' },
  'leader-elect-retry-period': { type: 'string', default: '1s' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export const CONTROLLER_USAGE = `Usage: pikube controller [flags]

Runs the control plane: API server, store, scheduler, controllers and an MQTT broker.

  --data-dir DIR                    state, certificates, kubeconfig (default /var/lib/pikube as root, else ~/.pikube)
  --api-listen HOST:PORT            HTTPS API (default 0.0.0.0:6443)
  --mqtt-tls-listen HOST:PORT       embedded MQTT broker's TLS listener, for agents (default 0.0.0.0:8883;
                                    certificate from the cluster CA, named in the K10… join tokens)
  --mqtt-listen HOST:PORT           its plaintext listener, loopback only (default 127.0.0.1:1883)
  --mqtt-insecure-listen HOST:PORT  the plaintext listener on any address instead of --mqtt-listen
                                    (logged: node passwords and secrets travel in clear)
  --mqtt-url URL                    use an external broker instead (e.g. Mosquitto)
  --base-topic NAME                 MQTT base topic (default pikube)
  --node-monitor-grace-period DUR   silence before a node is NotReady (default 20s, at least 4s;
                                    agents say they are alive every quarter of it)
  --default-toleration-seconds N    how long pods stay on a NotReady node (default 60)
  --service-cluster-ip-range CIDR   ClusterIPs (default 10.43.0.0/16)
  --cluster-cidr CIDR               pod addresses, split per node (default 10.42.0.0/16)
  --node-cidr-mask-size N           size of each node's pod range (default 24)
  --cluster-domain NAME             DNS domain of Services (default cluster.local)
  --homeassistant                   announce nodes to Home Assistant by MQTT discovery
  --homeassistant-user NAME         with --homeassistant: controls (replicas, restart, run now, suspend,
                                    cordon) that act as this API user, within its RBAC rights
  --snapshot-interval DUR           store snapshot every DUR when something changed; 0 turns it off (default 12h)
  --snapshot-retain N               scheduled snapshots kept (default 5)
  --snapshot-dir DIR                where they go, e.g. a USB stick or NAS mount (default <data-dir>/snapshots)
  --audit-log FILE                  one JSON line per mutating API request (off by default: spares the SD card)
  --service-account-max-token-expiration DUR  longest token kubectl create token may get (default 48h)
  --registries-config FILE          registries.yaml (k3s format): mirrors, CAs and credentials used
                                    to read images' platforms from their registries
  --image-platform-check on|off     place pods only on nodes whose architecture their images offer (default on)

High availability (several controllers on etcd):
  --datastore-endpoint URL[,URL...] keep the cluster in etcd (http(s)://HOST:2379) instead of the data dir
  --datastore-cafile FILE           CA of etcd's certificates (https:// endpoints)
  --datastore-certfile FILE         client certificate for etcd, with --datastore-keyfile FILE
  --token TOKEN                     the cluster's token (the first controller's <data-dir>/join-token):
                                    other controllers take the CA, keys and tokens from the datastore with it
  --leader-elect-lease-duration DUR how long a leader's Lease holds without renewal (default 6s)
  --leader-elect-renew-deadline DUR a leader that could not renew for this long stops (default 4s)
  --leader-elect-retry-period DUR   how often candidates try and the leader renews (default 1s)
`;

type Values = { [K in keyof typeof CONTROLLER_FLAGS]?: (typeof CONTROLLER_FLAGS)[K]['type'] extends 'boolean' ? boolean : string };

export function controllerOptions(v: Values, log: ControllerOptions['log']): ControllerOptions {
  const tolerations = Number(v['default-toleration-seconds']);
  if (!Number.isInteger(tolerations) || tolerations < 0) throw new UsageError(`--default-toleration-seconds must be a whole number of seconds, got "${v['default-toleration-seconds']}"`);
  const mask = Number(v['node-cidr-mask-size']);
  if (!Number.isInteger(mask) || mask < 16 || mask > 30) throw new UsageError(`--node-cidr-mask-size must be between 16 and 30`);
  for (const flag of ['service-cluster-ip-range', 'cluster-cidr'] as const) {
    if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(v[flag] ?? '')) throw new UsageError(`--${flag} must be an IPv4 CIDR such as 10.42.0.0/16`);
  }
  const retain = Number(v['snapshot-retain'] ?? '5');
  if (!Number.isInteger(retain) || retain < 1) throw new UsageError(`--snapshot-retain must be a whole number of at least 1, got "${v['snapshot-retain']}"`);
  const snapshotInterval = v['snapshot-interval'] === '0' ? 0 : parseDuration(v['snapshot-interval'] ?? '12h', '--snapshot-interval');
  if (v['mqtt-url'] && !/^mqtts?:\/\//.test(v['mqtt-url'])) throw new UsageError(`--mqtt-url must start with mqtt:// or mqtts://`);
  const graceMs = parseDuration(v['node-monitor-grace-period']!, '--node-monitor-grace-period');
  if (graceMs < MIN_GRACE_PERIOD_SECONDS * 1000) {
    throw new UsageError(`--node-monitor-grace-period must be at least ${MIN_GRACE_PERIOD_SECONDS}s: agents beat at most once a second and ${BEATS_PER_GRACE_PERIOD - 1} lost beats must not mark a node NotReady`);
  }
  return {
    dataDir: v['data-dir'] ?? defaultDataDir('controller'),
    apiListen: parseHostPort(v['api-listen']!, '--api-listen'),
    ...mqttListeners(v),
    ...(v['mqtt-url'] ? { mqttUrl: v['mqtt-url'] } : {}),
    baseTopic: v['base-topic']!,
    nodeMonitorGracePeriodMs: graceMs,
    defaultTolerationSeconds: tolerations,
    serviceCIDR: v['service-cluster-ip-range']!,
    clusterCIDR: v['cluster-cidr']!,
    nodeCIDRMaskSize: mask,
    clusterDomain: v['cluster-domain']!,
    homeassistant: v.homeassistant ?? false,
    ...(v['homeassistant-user'] ? { homeassistantUser: v['homeassistant-user'] } : {}),
    snapshots: { intervalMs: snapshotInterval, retain, ...(v['snapshot-dir'] ? { dir: v['snapshot-dir'] } : {}) },
    ...(v['audit-log'] ? { auditLog: v['audit-log'] } : {}),
    maxTokenSeconds: maxTokenSeconds(v['service-account-max-token-expiration'] ?? '48h'),
    ...imageOptions(v),
    ...haOptions(v),
    log,
  };
}

/** Plaintext on loopback unless --mqtt-insecure-listen says otherwise; TLS for everyone else. */
function mqttListeners(v: Values): Pick<ControllerOptions, 'mqttListen' | 'mqttListenInsecure' | 'mqttTlsListen' | 'mqttTlsListenDefaulted'> {
  // --mqtt-insecure-listen moves the plaintext listener (and wins over --mqtt-listen, which the unit file always passes).
  const insecure = v['mqtt-insecure-listen'];
  const mqttListen = parseHostPort(insecure ?? v['mqtt-listen'] ?? '127.0.0.1:1883', insecure ? '--mqtt-insecure-listen' : '--mqtt-listen');
  if (!insecure && !isLoopbackHost(mqttListen.host)) {
    throw new UsageError(`--mqtt-listen ${v['mqtt-listen']} is not a loopback address: plaintext MQTT would carry node passwords and secrets; agents join over TLS (--mqtt-tls-listen, default 0.0.0.0:8883); to serve plaintext anyway, use --mqtt-insecure-listen ${v['mqtt-listen']}`);
  }
  return {
    mqttListen, ...(insecure ? { mqttListenInsecure: true } : {}),
    mqttTlsListen: parseHostPort(v['mqtt-tls-listen'] ?? '0.0.0.0:8883', '--mqtt-tls-listen'),
    ...(v['mqtt-tls-listen'] ? {} : { mqttTlsListenDefaulted: true }),
  };
}

function maxTokenSeconds(text: string): number {
  const s = Math.round(parseDuration(text, '--service-account-max-token-expiration') / 1000);
  if (s < 600) throw new UsageError('--service-account-max-token-expiration must be at least 10m');
  return s;
}

function imageOptions(v: Values): Pick<ControllerOptions, 'registries' | 'imagePlatformCheck'> {
  const check = v['image-platform-check'] ?? 'on';
  if (check !== 'on' && check !== 'off') throw new UsageError(`--image-platform-check must be on or off, got "${check}"`);
  const file = v['registries-config'];
  if (!file) return { imagePlatformCheck: check === 'on' };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--registries-config: cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return { imagePlatformCheck: check === 'on', registries: parseRegistriesConfig(text) };
  } catch (err) {
    if (err instanceof RegistriesConfigError) throw new UsageError(`--registries-config ${file}: ${err.message}`);
    throw err;
  }
}

function haOptions(v: Values): Pick<ControllerOptions, 'datastore' | 'token' | 'tokenCaHash' | 'leaderElection'> {
  const leaderElection = leaderElectionOptions(v);
  // The K10… form `pikube token show` prints is taken too: the datastore key is its token
  // part, and the hash must name the CA the datastore's cluster holds.
  let tokenCaHash: string | undefined;
  if (v.token) {
    const parsed = parseTokenFlag(v.token);
    tokenCaHash = parsed.caHash;
    v = { ...v, token: parsed.credentials };
  }
  const pinned = tokenCaHash ? { tokenCaHash } : {};
  if (!v['datastore-endpoint']) return { leaderElection, ...(v.token ? { token: v.token } : {}), ...pinned };
  let endpoints: string[];
  try {
    endpoints = parseEndpoints(v['datastore-endpoint']);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!!v['datastore-certfile'] !== !!v['datastore-keyfile']) throw new UsageError('--datastore-certfile and --datastore-keyfile go together');
  return {
    datastore: {
      endpoints,
      ...(v['datastore-cafile'] ? { caFile: v['datastore-cafile'] } : {}),
      ...(v['datastore-certfile'] ? { certFile: v['datastore-certfile'], keyFile: v['datastore-keyfile']! } : {}),
    },
    ...(v.token ? { token: v.token } : {}),
    ...pinned,
    leaderElection,
  };
}

function leaderElectionOptions(v: Values): NonNullable<ControllerOptions['leaderElection']> {
  const leaseDurationMs = parseDuration(v['leader-elect-lease-duration']!, '--leader-elect-lease-duration');
  const renewDeadlineMs = parseDuration(v['leader-elect-renew-deadline']!, '--leader-elect-renew-deadline');
  const retryPeriodMs = parseDuration(v['leader-elect-retry-period']!, '--leader-elect-retry-period');
  if (!(leaseDurationMs > renewDeadlineMs && renewDeadlineMs > retryPeriodMs && retryPeriodMs > 0)) {
    throw new UsageError('leader election needs --leader-elect-lease-duration > --leader-elect-renew-deadline > --leader-elect-retry-period');
  }
  return { leaseDurationMs, renewDeadlineMs, retryPeriodMs };
}

export { runUntilSignal } from '../run-until-signal.js';
import { runUntilSignal } from '../run-until-signal.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...CONTROLLER_FLAGS, ...MANAGED_ETCD_FLAGS }, allowPositionals: false, strict: true });
  if (values.help) { process.stdout.write(CONTROLLER_USAGE + MANAGED_ETCD_USAGE); return 0; }
  const log = createLogger('pikube-controller');
  const opts = controllerOptions(values, log);
  let managed: Awaited<ReturnType<typeof setUpManagedEtcd>>;
  try {
    managed = await setUpManagedEtcd(values, opts.dataDir, log);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    log.error({ err: String((err as Error)?.message ?? err) }, 'managed etcd failed to start');
    if (err instanceof CaMismatchError) process.stderr.write(`pikube controller: ${err.message}\n`);
    return 1;
  }
  if (managed) {
    opts.datastore = managed.datastore;
    opts.extraSelfRoutes = [joinRoute(opts.dataDir, managed.etcd)];
  }
  if (opts.token && !opts.datastore) throw new UsageError('--token needs --datastore-endpoint, --cluster-init or --join');
  const controller = new Controller(opts);
  const stopAll = async () => { await controller.stop(); await managed?.etcd.stop(); };
  try {
    await controller.start();
  } catch (err) {
    // A damaged store is the operator's to repair: say so in one line, not a stack.
    if ((err as Error)?.name === 'StoreCorrupt' || err instanceof CaMismatchError) {
      log.error({ err: (err as Error).message }, 'controller refused to start');
      process.stderr.write(`pikube controller: ${(err as Error).message}\n`);
    } else log.error({ err: String((err as Error)?.stack ?? err) }, 'controller failed to start');
    await stopAll().catch(() => undefined);
    return 1;
  }
  return runUntilSignal(stopAll, log);
}

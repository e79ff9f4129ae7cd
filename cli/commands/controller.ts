// `pikube controller`: the control plane as one process.
import { parseArgs } from 'node:util';
import { Controller, type ControllerOptions } from '../../controller/controller.js';
import { createLogger } from '../logger.js';
import { defaultDataDir, parseDuration, parseHostPort, UsageError } from '../args.js';
import { parseEndpoints } from '../../controller/store/etcd/connect.js';
import { joinRoute } from '../../controller/cluster/join-route.js';
import { MANAGED_ETCD_FLAGS, MANAGED_ETCD_USAGE, setUpManagedEtcd } from './managed-etcd.js';

export const CONTROLLER_FLAGS = {
  'data-dir': { type: 'string' },
  'api-listen': { type: 'string', default: '0.0.0.0:6443' },
  'mqtt-listen': { type: 'string', default: '0.0.0.0:1883' },
  'mqtt-tls-listen': { type: 'string' },
  'mqtt-url': { type: 'string' },
  'base-topic': { type: 'string', default: 'pikube' },
  'node-monitor-grace-period': { type: 'string', default: '20s' },
  'default-toleration-seconds': { type: 'string', default: '60' },
  'service-cluster-ip-range': { type: 'string', default: '10.43.0.0/16' },
  'cluster-cidr': { type: 'string', default: '10.42.0.0/16' },
  'node-cidr-mask-size': { type: 'string', default: '24' },
  'cluster-domain': { type: 'string', default: 'cluster.local' },
  homeassistant: { type: 'boolean', default: false },
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
  --mqtt-listen HOST:PORT           embedded MQTT broker (default 0.0.0.0:1883)
  --mqtt-tls-listen HOST:PORT       embedded broker's TLS listener (cluster CA)
  --mqtt-url URL                    use an external broker instead (e.g. Mosquitto)
  --base-topic NAME                 MQTT base topic (default pikube)
  --node-monitor-grace-period DUR   silence before a node is NotReady (default 20s)
  --default-toleration-seconds N    how long pods stay on a NotReady node (default 60)
  --service-cluster-ip-range CIDR   ClusterIPs (default 10.43.0.0/16)
  --cluster-cidr CIDR               pod addresses, split per node (default 10.42.0.0/16)
  --node-cidr-mask-size N           size of each node's pod range (default 24)
  --cluster-domain NAME             DNS domain of Services (default cluster.local)
  --homeassistant                   announce nodes to Home Assistant by MQTT discovery

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
  if (v['mqtt-url'] && !/^mqtts?:\/\//.test(v['mqtt-url'])) throw new UsageError(`--mqtt-url must start with mqtt:// or mqtts://`);
  return {
    dataDir: v['data-dir'] ?? defaultDataDir('controller'),
    apiListen: parseHostPort(v['api-listen']!, '--api-listen'),
    mqttListen: parseHostPort(v['mqtt-listen']!, '--mqtt-listen'),
    ...(v['mqtt-tls-listen'] ? { mqttTlsListen: parseHostPort(v['mqtt-tls-listen'], '--mqtt-tls-listen') } : {}),
    ...(v['mqtt-url'] ? { mqttUrl: v['mqtt-url'] } : {}),
    baseTopic: v['base-topic']!,
    nodeMonitorGracePeriodMs: parseDuration(v['node-monitor-grace-period']!, '--node-monitor-grace-period'),
    defaultTolerationSeconds: tolerations,
    serviceCIDR: v['service-cluster-ip-range']!,
    clusterCIDR: v['cluster-cidr']!,
    nodeCIDRMaskSize: mask,
    clusterDomain: v['cluster-domain']!,
    homeassistant: v.homeassistant ?? false,
    ...haOptions(v),
    log,
  };
}

function haOptions(v: Values): Pick<ControllerOptions, 'datastore' | 'token' | 'leaderElection'> {
  const leaderElection = leaderElectionOptions(v);
  if (!v['datastore-endpoint']) return { leaderElection, ...(v.token ? { token: v.token } : {}) };
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
    log.error({ err: String((err as Error)?.stack ?? err) }, 'controller failed to start');
    await stopAll().catch(() => undefined);
    return 1;
  }
  return runUntilSignal(stopAll, log);
}

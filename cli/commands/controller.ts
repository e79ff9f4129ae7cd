// `pikube controller`: the control plane as one process.
import { parseArgs } from 'node:util';
import { Controller, type ControllerOptions } from '../../controller/controller.js';
import { createLogger } from '../logger.js';
import { defaultDataDir, parseDuration, parseHostPort, UsageError } from '../args.js';
import { readFileSync } from 'node:fs';
import { parseRegistriesConfig, RegistriesConfigError } from '../../protocol/images/registries-yaml.js';

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
  'registries-config': { type: 'string' },
  'image-platform-check': { type: 'string', default: 'on' },
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
  --registries-config FILE          registries.yaml (k3s format): mirrors, CAs and credentials used
                                    to read images' platforms from their registries
  --image-platform-check on|off     place pods only on nodes whose architecture their images offer (default on)
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
    ...imageOptions(v),
    log,
  };
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

export { runUntilSignal } from '../run-until-signal.js';
import { runUntilSignal } from '../run-until-signal.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: CONTROLLER_FLAGS, allowPositionals: false, strict: true });
  if (values.help) { process.stdout.write(CONTROLLER_USAGE); return 0; }
  const log = createLogger('pikube-controller');
  const controller = new Controller(controllerOptions(values, log));
  try {
    await controller.start();
  } catch (err) {
    log.error({ err: String((err as Error)?.stack ?? err) }, 'controller failed to start');
    await controller.stop().catch(() => undefined);
    return 1;
  }
  return runUntilSignal(() => controller.stop(), log);
}

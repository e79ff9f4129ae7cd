// `pikube agent`: the node agent (the kubelet of a home lab).
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { Agent, defaultNodeName, type AgentOptions } from '../../agent/agent.js';
import { detectRuntime, type RuntimeName } from '../../agent/runtime/index.js';
import { createLogger } from '../logger.js';
import { defaultDataDir, parseDuration, UsageError } from '../args.js';
import { runUntilSignal } from '../run-until-signal.js';
import { imageFlags } from './agent-image-flags.js';
import { agentV8Flags } from '../v8-flags.js';

const RUNTIMES = ['nerdctl', 'podman', 'docker', 'simulated'];

export const AGENT_USAGE = `Usage: pikube agent --mqtt-url URL [--join-token TOKEN] [flags]

Runs a node agent: reports this board's resources and runs the pods the controller assigns.

  --node-name NAME          node name (default: host name)
  --mqtt-url URL[,URL...]   the cluster's MQTT broker, mqtts://HOST:8883 (mqtt:// only on this
                            host); with several controllers list each one's (the leader's admits nodes)
  --join-token TOKEN        needed once, for the first join: the K10<ca-hash>::<token> that
                            pikube token create prints (the board checks the broker's CA with it)
  --data-dir DIR            credentials and the node's desired pods (default /var/lib/pikube-agent as root)
  --runtime NAME            nerdctl (default), podman, docker, simulated, or auto
  --runtime-namespace NS    containerd namespace for nerdctl (default pikube)
  --network NAME            runtime network for pods
  --pause-image REF         sandbox image (nerdctl, docker)
  --mqtt-ca FILE            CA certificate for mqtts:// (not needed with a K10… token)
  --mqtt-insecure           allow joining over plaintext mqtt:// to another host (token in clear)
  --base-topic NAME         MQTT base topic (default pikube)
  --heartbeat-interval DUR  node status period (default 5s)
  --proxy-mode MODE         Service forwarding: auto (iptables when root and usable, else
                            userspace), iptables, userspace, off (default auto; off with --runtime simulated)
  --cluster-dns on|off      DNS server for pods on the pod network's gateway (default on)
  --ingress on|off          built-in ingress proxy for Ingresses of class pikube (default on;
                            off with --runtime simulated)
  --ingress-http-port N     its plain HTTP port (default 80)
  --ingress-https-port N    its TLS port (default 443)
  --ingress-address ADDR    the address it listens on (default 0.0.0.0)
  --storage-dir DIR         where local-path volumes are made (default DATA-DIR/storage)
  --registries-config FILE  registries.yaml (k3s format): mirrors, insecure registries, per-host
                            TLS and credentials for pulls
  --podman-root DIR         podman only: keep images and containers in a store of the agent's own
  --sandbox-pool N          podman only: keep N pod sandboxes started ahead, so a new pod's first
                            container starts at once (default 0; each spare is a pod with an
                            infra container and an address on the pod network)
  --image-gc-high-threshold PCT  image store usage that starts image garbage collection (default 85)
  --image-gc-low-threshold PCT   usage image garbage collection frees down to (default 80)
  --image-minimum-gc-age DUR     unused images younger than this are kept (default 2m)
  --image-gc-period DUR          how often the image store is checked (default 5m)
  --eviction-hard LIST      disk pressure thresholds (default nodefs.available<10%,imagefs.available<15%)
  --eviction-soft LIST      thresholds that evict only after their grace period (same form)
  --eviction-soft-grace-period LIST  e.g. imagefs.available=2m, one per soft threshold
  --eviction-pressure-transition-period DUR  how long pressure must be gone before it clears (default 5m)
                            Past a threshold unused images are removed first, then one pod is
                            evicted per round, ranked as the kubelet ranks them
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      'node-name': { type: 'string' }, 'mqtt-url': { type: 'string' }, 'join-token': { type: 'string' },
      'data-dir': { type: 'string' }, runtime: { type: 'string', default: 'nerdctl' }, 'runtime-namespace': { type: 'string' },
      network: { type: 'string' }, 'pause-image': { type: 'string' }, 'mqtt-ca': { type: 'string' }, 'mqtt-insecure': { type: 'boolean' },
      'base-topic': { type: 'string', default: 'pikube' }, 'heartbeat-interval': { type: 'string', default: '5s' },
      'proxy-mode': { type: 'string', default: 'auto' }, 'cluster-dns': { type: 'string' }, 'storage-dir': { type: 'string' },
      ingress: { type: 'string' }, 'ingress-http-port': { type: 'string', default: '80' }, 'ingress-https-port': { type: 'string', default: '443' },
      'ingress-address': { type: 'string', default: '0.0.0.0' },
      'registries-config': { type: 'string' }, 'podman-root': { type: 'string' }, 'sandbox-pool': { type: 'string' },
      'image-gc-high-threshold': { type: 'string', default: '85' }, 'image-gc-low-threshold': { type: 'string', default: '80' },
      'image-minimum-gc-age': { type: 'string', default: '2m' }, 'image-gc-period': { type: 'string', default: '5m' },
      'eviction-hard': { type: 'string', default: 'nodefs.available<10%,imagefs.available<15%' },
      'eviction-pressure-transition-period': { type: 'string', default: '5m' },
      'eviction-soft': { type: 'string' }, 'eviction-soft-grace-period': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { process.stdout.write(AGENT_USAGE); return 0; }
  if (!values['mqtt-url']) throw new UsageError('--mqtt-url is required (e.g. mqtts://192.168.1.10:8883)');
  if (!values['mqtt-url'].split(',').every((u) => /^mqtts?:\/\/[^/]/.test(u.trim()))) throw new UsageError('--mqtt-url must be mqtt:// or mqtts:// URLs, comma-separated');
  let runtime = values.runtime!;
  if (runtime === 'auto') runtime = (await detectRuntime()) ?? '';
  if (!RUNTIMES.includes(runtime)) throw new UsageError(`--runtime must be one of ${RUNTIMES.join(', ')}${values.runtime === 'auto' ? ' (none was found)' : ''}`);
  const proxyMode = values['proxy-mode']!;
  if (!['auto', 'iptables', 'userspace', 'off'].includes(proxyMode)) throw new UsageError(`--proxy-mode must be auto, iptables, userspace or off, got "${proxyMode}"`);
  const clusterDns = values['cluster-dns'];
  if (clusterDns !== undefined && clusterDns !== 'on' && clusterDns !== 'off') throw new UsageError(`--cluster-dns must be on or off, got "${clusterDns}"`);
  const ingressOn = values.ingress ?? (runtime === 'simulated' ? 'off' : 'on');
  if (ingressOn !== 'on' && ingressOn !== 'off') throw new UsageError(`--ingress must be on or off, got "${ingressOn}"`);
  const port = (flag: string) => {
    const v = values[flag as 'ingress-http-port']!;
    if (!/^\d+$/.test(v) || Number(v) > 65535) throw new UsageError(`--${flag} must be a port number (0-65535), got "${v}"`);
    return Number(v);
  };
  const ingress = ingressOn === 'on' ? { address: values['ingress-address']!, httpPort: port('ingress-http-port'), httpsPort: port('ingress-https-port') } : false as const;
  const nodeName = values['node-name'] ?? defaultNodeName();
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(nodeName) || nodeName.length > 253) {
    throw new UsageError(`--node-name "${nodeName}" is not a valid node name (lower case letters, digits, '-' and '.')`);
  }
  const pool = values['sandbox-pool'];
  if (pool !== undefined && (!/^\d+$/.test(pool) || Number(pool) > 16)) throw new UsageError(`--sandbox-pool must be a whole number from 0 to 16, got "${pool}"`);
  if (pool !== undefined && Number(pool) > 0 && runtime !== 'podman') throw new UsageError('--sandbox-pool needs --runtime podman');
  const log = createLogger('pikube-agent').child({ node: nodeName });
  const opts: AgentOptions = {
    nodeName, mqttUrl: values['mqtt-url'], joinToken: values['join-token'],
    dataDir: values['data-dir'] ?? defaultDataDir('agent'), runtime: runtime as RuntimeName,
    baseTopic: values['base-topic']!, heartbeatMs: parseDuration(values['heartbeat-interval']!, '--heartbeat-interval'),
    runtimeNamespace: values['runtime-namespace'], runtimeNetwork: values.network, pauseImage: values['pause-image'],
    ...(values['storage-dir'] ? { storageDir: values['storage-dir'] } : {}),
    proxyMode: proxyMode as NonNullable<AgentOptions['proxyMode']>, ingress, optimizeOnHotIngress: agentV8Flags().includes('--no-opt'), ...(clusterDns ? { clusterDns: clusterDns === 'on' } : {}),
    ...(values['mqtt-ca'] ? { ca: readFileSync(values['mqtt-ca'], 'utf8') } : {}),
    ...(values['mqtt-insecure'] ? { mqttInsecure: true } : {}),
    ...imageFlags(values),
    ...(pool ? { sandboxPool: Number(pool) } : {}),
    log,
  };
  const agent = new Agent(opts);
  try {
    await agent.start();
  } catch (err) {
    log.error({ err: String((err as Error)?.message ?? err) }, 'agent failed to start');
    await agent.stop().catch(() => undefined);
    return 1;
  }
  return runUntilSignal(() => agent.stop(), log);
}

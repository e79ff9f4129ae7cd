// `pikube agent`: the node agent (the kubelet of a home lab).
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { Agent, defaultNodeName, type AgentOptions } from '../../agent/agent.js';
import { detectRuntime, type RuntimeName } from '../../agent/runtime/index.js';
import { createLogger } from '../logger.js';
import { defaultDataDir, parseDuration, UsageError } from '../args.js';
import { runUntilSignal } from '../run-until-signal.js';

const RUNTIMES = ['nerdctl', 'podman', 'docker', 'simulated'];

export const AGENT_USAGE = `Usage: pikube agent --mqtt-url URL [--join-token TOKEN] [flags]

Runs a node agent: reports this board's resources and runs the pods the controller assigns.

  --node-name NAME          node name (default: host name)
  --mqtt-url URL[,URL...]   the cluster's MQTT broker, mqtt://HOST:1883 or mqtts://HOST:8883;
                            with several controllers list each one's (the leader's admits nodes)
  --join-token TOKEN        needed once, for the first join (pikube token create)
  --data-dir DIR            credentials and the node's desired pods (default /var/lib/pikube-agent as root)
  --runtime NAME            nerdctl (default), podman, docker, simulated, or auto
  --runtime-namespace NS    containerd namespace for nerdctl (default pikube)
  --network NAME            runtime network for pods
  --pause-image REF         sandbox image (nerdctl, docker)
  --mqtt-ca FILE            CA certificate for mqtts://
  --base-topic NAME         MQTT base topic (default pikube)
  --heartbeat-interval DUR  node status period (default 5s)
  --proxy-mode MODE         Service forwarding: auto (iptables when root and usable, else
                            userspace), iptables, userspace, off (default auto; off with --runtime simulated)
  --cluster-dns on|off      DNS server for pods on the pod network's gateway (default on)
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      'node-name': { type: 'string' }, 'mqtt-url': { type: 'string' }, 'join-token': { type: 'string' },
      'data-dir': { type: 'string' }, runtime: { type: 'string', default: 'nerdctl' }, 'runtime-namespace': { type: 'string' },
      network: { type: 'string' }, 'pause-image': { type: 'string' }, 'mqtt-ca': { type: 'string' },
      'base-topic': { type: 'string', default: 'pikube' }, 'heartbeat-interval': { type: 'string', default: '5s' },
      'proxy-mode': { type: 'string', default: 'auto' }, 'cluster-dns': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { process.stdout.write(AGENT_USAGE); return 0; }
  if (!values['mqtt-url']) throw new UsageError('--mqtt-url is required (e.g. mqtt://192.168.1.10:1883)');
  if (!values['mqtt-url'].split(',').every((u) => /^mqtts?:\/\/[^/]/.test(u.trim()))) throw new UsageError('--mqtt-url must be mqtt:// or mqtts:// URLs, comma-separated');
  let runtime = values.runtime!;
  if (runtime === 'auto') runtime = (await detectRuntime()) ?? '';
  if (!RUNTIMES.includes(runtime)) throw new UsageError(`--runtime must be one of ${RUNTIMES.join(', ')}${values.runtime === 'auto' ? ' (none was found)' : ''}`);
  const proxyMode = values['proxy-mode']!;
  if (!['auto', 'iptables', 'userspace', 'off'].includes(proxyMode)) throw new UsageError(`--proxy-mode must be auto, iptables, userspace or off, got "${proxyMode}"`);
  const clusterDns = values['cluster-dns'];
  if (clusterDns !== undefined && clusterDns !== 'on' && clusterDns !== 'off') throw new UsageError(`--cluster-dns must be on or off, got "${clusterDns}"`);
  const nodeName = values['node-name'] ?? defaultNodeName();
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(nodeName) || nodeName.length > 253) {
    throw new UsageError(`--node-name "${nodeName}" is not a valid node name (lower case letters, digits, '-' and '.')`);
  }
  const log = createLogger('pikube-agent').child({ node: nodeName });
  const opts: AgentOptions = {
    nodeName, mqttUrl: values['mqtt-url'], joinToken: values['join-token'],
    dataDir: values['data-dir'] ?? defaultDataDir('agent'), runtime: runtime as RuntimeName,
    baseTopic: values['base-topic']!, heartbeatMs: parseDuration(values['heartbeat-interval']!, '--heartbeat-interval'),
    runtimeNamespace: values['runtime-namespace'], runtimeNetwork: values.network, pauseImage: values['pause-image'],
    proxyMode: proxyMode as NonNullable<AgentOptions['proxyMode']>, ...(clusterDns ? { clusterDns: clusterDns === 'on' } : {}),
    ...(values['mqtt-ca'] ? { ca: readFileSync(values['mqtt-ca'], 'utf8') } : {}),
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

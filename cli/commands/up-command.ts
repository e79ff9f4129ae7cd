// `pikube up`: a whole cluster on this machine (controller, embedded broker, one local
// agent) in one process, to try pikube out.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller } from '../../controller/control-plane.js';
import { Agent, defaultNodeName } from '../../agent/agent.js';
import { detectRuntime, type RuntimeName } from '../../agent/runtime/index.js';
import { createLogger } from '../logger.js';
import { UsageError } from '../args.js';
import { CONTROLLER_FLAGS, controllerOptions, runUntilSignal } from './controller-command.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: { ...CONTROLLER_FLAGS, runtime: { type: 'string' }, 'node-name': { type: 'string' } },
  });
  if (values.help) {
    process.stdout.write('Usage: pikube up [--data-dir DIR] [--api-listen HOST:PORT] [--mqtt-listen HOST:PORT] [--runtime nerdctl|podman|docker|simulated] [--node-name NAME]\n\nStarts a controller, its embedded broker and one local agent. Runtime: the first of nerdctl, podman, docker that answers, unless --runtime says otherwise.\n');
    return 0;
  }
  const runtime = values.runtime ?? (await detectRuntime());
  if (!runtime) throw new UsageError('no container runtime found (nerdctl, podman or docker); install one or pass --runtime simulated');
  if (!['nerdctl', 'podman', 'docker', 'simulated'].includes(runtime)) throw new UsageError(`--runtime must be nerdctl, podman, docker or simulated`);
  const log = createLogger('pikube');
  const opts = controllerOptions(values, log.child({ side: 'controller' }));
  const started = Date.now();
  const controller = new Controller(opts);
  let agent: Agent | undefined;
  try {
    await controller.start();
    const controllerReadyMs = Date.now() - started;
    agent = new Agent({
      nodeName: values['node-name'] ?? defaultNodeName(), mqttUrl: controller.mqttUrl!,
      joinToken: readFileSync(join(opts.dataDir, 'join-token'), 'utf8').trim(),
      dataDir: join(opts.dataDir, 'agent'), runtime: runtime as RuntimeName, baseTopic: opts.baseTopic,
      heartbeatMs: 5000, log: log.child({ side: 'agent' }),
      // Ingresses work out of the box, as with k3s: the node's own ports 80 and 443.
      ingress: runtime === 'simulated' ? false : { httpPort: 80, httpsPort: 443 },
    });
    await agent.start();
    log.info({ controllerReadyMs, runtime }, 'cluster up');
    const api = controller.apiAddress!;
    const host = api.host === '0.0.0.0' || api.host === '::' ? '127.0.0.1' : api.host.includes(':') ? `[${api.host}]` : api.host;
    // The admin token stays out of the output (it may end up in a journal).
    const ui = `https://${host}:${api.port}/ui/`;
    process.stdout.write(`\npikube is up (runtime: ${runtime}). Next:\n\n  kubectl --kubeconfig ${controller.kubeconfigPath} get nodes\n\nStatus page: ${ui} (sign in with the token in ${join(opts.dataDir, 'admin-token')}; self-signed certificate)\n\n`);
  } catch (err) {
    log.error({ err: String((err as Error)?.message ?? err) }, 'pikube up failed');
    await agent?.stop().catch(() => undefined);
    await controller.stop().catch(() => undefined);
    return 1;
  }
  return runUntilSignal(async () => { await agent!.stop(); await controller.stop(); }, log);
}

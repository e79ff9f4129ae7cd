// The set-up the podman end-to-end tests share: the compiled controller (embedded broker),
// one agent running pods through real podman, stock kubectl with its own HOME, and the
// node Ready. stop() kills both processes and removes everything podman holds for the node.
import { ensureBusyboxImage } from '../helpers/podman-image.js';
import { kubectl, removeDir, startAgent, startController, waitFor, type AgentHandle, type ControllerHandle, type Kubectl } from '../helpers/processes.js';
import { removeNodeContainers } from './e2e-helpers.js';

export interface PodmanCluster {
  node: string;
  ctrl: ControllerHandle;
  agent: AgentHandle;
  k: Kubectl;
  stop(): Promise<void>;
}

/** Waits until `kubectl get node` says Ready. */
export async function waitNodeReady(k: Kubectl, node: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(`node ${node} Ready`, async () => {
    const r = await k(['get', 'node', node, '--no-headers'], { reject: false });
    return r.exitCode === 0 && r.stdout.split(/\s+/)[1] === 'Ready';
  }, timeoutMs, 500);
}

/** Starts the cluster for `node`; a set-up that fails half way is cleaned up before it throws. */
export async function startPodmanCluster(node: string, opts: { agentArgs?: string[] } = {}): Promise<PodmanCluster> {
  await ensureBusyboxImage();
  const ctrl = await startController();
  const agent = startAgent(ctrl, { nodeName: node, runtime: 'podman', ...(opts.agentArgs ? { args: opts.agentArgs } : {}) });
  const k = kubectl(ctrl.kubeconfig);
  const stop = async () => {
    await agent.kill();
    await ctrl.kill();
    await removeNodeContainers(node);
    removeDir(ctrl.dir);
    removeDir(agent.dir);
    removeDir(k.home);
  };
  try {
    await waitNodeReady(k, node);
  } catch (err) {
    await stop();
    throw err;
  }
  return { node, ctrl, agent, k, stop };
}

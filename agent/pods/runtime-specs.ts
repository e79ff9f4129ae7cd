// What the runtime is asked to create for a pod: its sandbox (network namespace, host
// ports, DNS) and each container (image, env, mounts, limits, the labels the agent finds
// it by again). Pure builders; the pod worker makes the calls.
import type { Container } from '../../protocol/kube/types.js';
import type { DesiredPod } from '../../protocol/mqtt/payloads.js';
import { parseQuantity } from '../../protocol/kube/quantity.js';
import type { ContainerSpec, SandboxInfo, SandboxSpec } from '../runtime/container-runtime.js';
import { ConfigError, expandList, resolveEnv } from './env.js';
import { LABEL, containerName, podLabels, sandboxName, type PodIdentity } from './container-labels.js';
import { gracePeriodOf } from './pod-actions.js';
import { containerSpecHash } from './spec-hash.js';
import { containerMounts, type PreparedVolumes } from './volumes.js';

/** The node's settings every spec of a pod carries. */
export interface NodeSpecContext {
  nodeName: string;
  /** Generation of the desired set in force, written on what the worker creates. */
  generation: number;
  network?: string;
  dns?: { clusterDomain: string; serverIP?: string };
  /** Where pods reach the API server (KUBERNETES_SERVICE_HOST/PORT), when the node says. */
  kubernetesService?: { host: number | string; port: number };
}

export function sandboxSpecFor(dp: DesiredPod, id: PodIdentity, node: NodeSpecContext): SandboxSpec {
  const pod = dp.pod;
  const ports: SandboxSpec['ports'] = [];
  for (const c of pod.spec.containers) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      const m: SandboxSpec['ports'][number] = { hostPort: p.hostPort, containerPort: p.containerPort, protocol: (p.protocol ?? 'TCP').toLowerCase() === 'udp' ? 'udp' : 'tcp' };
      if (p.hostIP) m.hostIP = p.hostIP;
      ports.push(m);
    }
  }
  const spec: SandboxSpec = {
    name: sandboxName(id),
    labels: { ...podLabels(id, node.nodeName), [LABEL.kind]: 'sandbox', [LABEL.desiredGeneration]: String(node.generation), [LABEL.terminationGrace]: String(gracePeriodOf(pod)) },
    hostname: (pod.spec.hostname ?? id.name).slice(0, 63),
    hostNetwork: false,
    ports,
  };
  if (node.network) spec.network = node.network;
  const policy = pod.spec.dnsPolicy ?? 'ClusterFirst';
  if (node.dns?.serverIP && (policy === 'ClusterFirst' || policy === 'ClusterFirstWithHostNet')) {
    const d = node.dns.clusterDomain;
    spec.dns = { servers: [node.dns.serverIP], searches: [`${id.namespace}.svc.${d}`, `svc.${d}`, d], options: ['ndots:5'] };
  }
  return spec;
}

/** Where a container starts: the pod, its sandbox and addresses, and its prepared volumes. */
export interface StartContext {
  dp: DesiredPod;
  sandbox?: SandboxInfo;
  podIP?: string;
  hostIP?: string;
  volumes: PreparedVolumes;
}

export interface ContainerStart { container: Container; init: boolean; attempt: number }

/** The container to run; throws ConfigError (or VolumeError) when the spec cannot be resolved. */
export function containerSpecFor(start: ContainerStart, ctx: StartContext, id: PodIdentity, node: NodeSpecContext): ContainerSpec {
  const { container: c, init, attempt } = start;
  const dp = ctx.dp;
  const svc = kubernetesServiceOf(dp, node);
  const envCtx = { desired: dp, container: c, podIP: ctx.podIP, hostIP: ctx.hostIP, ...(svc ? { kubernetesService: svc } : {}) };
  const env = resolveEnv(envCtx);
  const spec: ContainerSpec = {
    name: containerName(id, c.name, attempt),
    image: c.image,
    pullPolicy: 'Never', // the puller has already applied the pod's policy
    env,
    labels: {
      ...podLabels(id, node.nodeName),
      [LABEL.container]: c.name,
      [LABEL.specHash]: containerSpecHash(c),
      [LABEL.restartCount]: String(attempt),
      [LABEL.kind]: init ? 'init' : 'app',
      [LABEL.desiredGeneration]: String(node.generation),
      [LABEL.terminationGrace]: String(gracePeriodOf(dp.pod)),
    },
    mounts: containerMounts(c, ctx.volumes),
  };
  const command = expandList(c.command, env);
  const args = expandList(c.args, env);
  if (command) spec.command = command;
  if (args) spec.args = args;
  if (c.workingDir) spec.workingDir = c.workingDir;
  if (ctx.sandbox) spec.sandboxId = ctx.sandbox.id;
  const limits = c.resources?.limits ?? {};
  try {
    if (limits.cpu) spec.cpus = parseQuantity(limits.cpu);
    if (limits.memory) spec.memoryBytes = Math.round(parseQuantity(limits.memory));
  } catch (err) {
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }
  if (c.securityContext?.runAsUser !== undefined) spec.user = String(c.securityContext.runAsUser);
  if (c.securityContext?.privileged) spec.privileged = true;
  if (c.tty) spec.tty = true;
  if (c.stdin) spec.stdin = true;
  return spec;
}

function kubernetesServiceOf(dp: DesiredPod, node: NodeSpecContext): { host: string; port: number } | undefined {
  if (node.kubernetesService) return { host: String(node.kubernetesService.host), port: node.kubernetesService.port };
  const url = dp.serviceAccount?.apiServer;
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) };
  } catch {
    return undefined;
  }
}

// Picks a container runtime driver by name, and finds which CLI this host has.
import { runProcess } from './child-process.js';
import type { Logger } from 'pino';
import { DockerRuntime } from './docker.js';
import { NerdctlRuntime } from './nerdctl.js';
import { PodmanRuntime } from './podman.js';
import { SimulatedRuntime } from './simulated.js';
import type { ContainerRuntime } from './container-runtime.js';
import type { RegistrySettings } from '../images/registries-config.js';

export type RuntimeName = 'nerdctl' | 'podman' | 'docker' | 'simulated';

export interface RuntimeOptions {
  /** containerd namespace (nerdctl only); default "pikube". */
  namespace?: string;
  /** Network for pod sandboxes; default: nerdctl "bridge", podman/docker their default. */
  network?: string;
  /** Pause image for sandboxes (nerdctl, docker: default registry.k8s.io/pause:3.10; podman: infra image). */
  pauseImage?: string;
  /** Sandbox IP range (simulated only); default 10.244.0.0/24. */
  podCidr?: string;
  /** Mirrors, per-host TLS and insecure registries (the agent's registries config). */
  registries?: RegistrySettings;
  /** podman: a storage root of the agent's own instead of the shared default store. */
  storageRoot?: string;
  /** podman: spare pod sandboxes kept ready (see PodmanOptions.sandboxPool). */
  sandboxPool?: { size: number; owner: string; dir: string; labels?: Record<string, string> };
  log?: Logger;
}

export function createRuntime(name: RuntimeName, opts: RuntimeOptions = {}): ContainerRuntime {
  const log = opts.log?.child({ runtime: name });
  switch (name) {
    case 'nerdctl':
      return new NerdctlRuntime({ namespace: opts.namespace, network: opts.network, pauseImage: opts.pauseImage, registries: opts.registries, log });
    case 'podman':
      return new PodmanRuntime({
        network: opts.network, infraImage: opts.pauseImage, registries: opts.registries, storageRoot: opts.storageRoot, log,
        ...(opts.sandboxPool ? { sandboxPool: opts.sandboxPool } : {}),
      });
    case 'docker':
      if (opts.registries?.hasMirrors) log?.warn('docker: registry mirrors are the daemon\'s own setting (registry-mirrors in daemon.json); only credentials apply here');
      return new DockerRuntime({ network: opts.network, pauseImage: opts.pauseImage, registries: opts.registries, log });
    case 'simulated':
      return new SimulatedRuntime({ podCidr: opts.podCidr, log });
    default:
      throw new Error(`unknown container runtime "${String(name)}" (want nerdctl, podman, docker or simulated)`);
  }
}

/** The first CLI, in order of preference, whose `version` answers. */
export async function detectRuntime(
  candidates: ('nerdctl' | 'podman' | 'docker')[] = ['nerdctl', 'podman', 'docker'],
): Promise<'nerdctl' | 'podman' | 'docker' | undefined> {
  for (const cli of candidates) {
    const r = await runProcess(cli, ['version', '--format', 'json'], { timeoutMs: 10_000 });
    if (r.exitCode === 0) return cli;
  }
  return undefined;
}

export { NerdctlRuntime, PodmanRuntime, DockerRuntime, SimulatedRuntime };
export * from './container-runtime.js';

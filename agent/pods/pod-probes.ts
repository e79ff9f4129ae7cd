// The probes of one pod: a ContainerProbes for each running app container that declares
// any, started when the container is first seen running and stopped when it is gone, as
// the kubelet's prober manager adds and removes probe workers per container.
import type { Container } from '../../protocol/kube/types.js';
import type { DesiredPod } from '../../protocol/mqtt/payloads.js';
import type { ContainerRuntime, RuntimeContainer } from '../runtime/container-runtime.js';
import type { Clock } from './clock.js';
import type { EventFn } from './image-puller.js';
import { LABEL } from './container-labels.js';
import { ContainerProbes } from './probes.js';

export interface PodProbesDeps {
  runtime: ContainerRuntime;
  clock: Clock;
  /** started or ready changed for a container. */
  onChange(): void;
  /** A liveness or startup probe gave up on a container: kill it with this message. */
  onKill(containerId: string, message: string): void;
  eventFn(c: Container): EventFn;
}

export class PodProbes {
  private readonly byContainerId = new Map<string, ContainerProbes>();

  constructor(private readonly deps: PodProbesDeps) {}

  /** The probes of a container instance, if it has any running. */
  get(containerId: string): ContainerProbes | undefined {
    return this.byContainerId.get(containerId);
  }

  /** Probes for exactly the running app containers among `all` that declare any. */
  sync(dp: DesiredPod, all: RuntimeContainer[], podIP: string | undefined): void {
    const running = new Map<string, RuntimeContainer>();
    for (const rc of all) if (rc.state === 'running' && rc.labels[LABEL.kind] !== 'init') running.set(rc.id, rc);
    for (const id of [...this.byContainerId.keys()]) if (!running.has(id)) this.drop(id);
    for (const [id, rc] of running) {
      if (this.byContainerId.has(id)) continue;
      const c = dp.pod.spec.containers.find((x) => x.name === rc.labels[LABEL.container]);
      if (!c || !(c.livenessProbe || c.readinessProbe || c.startupProbe)) continue;
      const target = { containerId: id, container: c, startedAt: Date.parse(rc.startedAt ?? '') || this.deps.clock.now(), podIP, hostNetwork: !!dp.pod.spec.hostNetwork };
      this.byContainerId.set(id, new ContainerProbes(this.deps.runtime, target, {
        onChange: () => this.deps.onChange(),
        onKill: (_kind, message) => this.deps.onKill(id, message),
        event: this.deps.eventFn(c),
      }, () => this.deps.clock.now()));
    }
  }

  /** Stops the probes of one container instance. */
  drop(containerId: string): void {
    this.byContainerId.get(containerId)?.stop();
    this.byContainerId.delete(containerId);
  }

  stopAll(): void {
    for (const p of this.byContainerId.values()) p.stop();
    this.byContainerId.clear();
  }
}

// What a pod worker tells the control plane about its pod (the kubelet's status manager):
// the status built from the containers a pass observed, with the waiting reasons only the
// worker knows (its executor's, and CrashLoopBackOff while back-off holds a restart), sent
// only when it changed and sent again on request (after the agent reconnects).
import type { Container, PodStatus } from '../../protocol/kube/types.js';
import type { DesiredPod, PodStatusUpdate } from '../../protocol/mqtt/payloads.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';
import type { ContainerRuntime, RuntimeContainer } from '../runtime/container-runtime.js';
import { goDuration, type Backoff } from './backoff.js';
import type { Clock } from './clock.js';
import { LABEL, podDescription, type PodIdentity } from './container-labels.js';
import { instancesOf, isDead, isLive, willRestart } from './pod-actions.js';
import { buildPodStatus, type ContainerView, type Waiting } from './pod-status.js';
import type { ContainerProbes } from './probes.js';

export interface PodStatusReporterDeps {
  id: PodIdentity;
  runtime: Pick<ContainerRuntime, 'name'>;
  clock: Clock;
  crashBackoff: Backoff;
  /** The worker's probes, by container id: readiness and startup come from them. */
  probes: { get(containerId: string): ContainerProbes | undefined };
  /** Why the executor holds a container back, by container name. */
  waits: ReadonlyMap<string, Waiting>;
  /** metadata.generation of the pod as desired now (sent as observedGeneration). */
  generation(): number | undefined;
  emitStatus(u: PodStatusUpdate): void;
}

/** What a status built in this pass can say beyond the containers: sandbox, addresses, init progress. */
export interface PublishOptions {
  sandboxReady: boolean;
  podIP: string | undefined;
  hostIP: string | undefined;
  initDone?: boolean;
  initFailed?: boolean;
  /** A last say over the status built (an evicted pod's terminal phase and reason). */
  finalise?: (s: PodStatus) => PodStatus;
}

export class PodStatusReporter {
  /** status.startTime: kept from the API status, else set by the worker's first pass that runs the pod. */
  startTime?: string;
  private lastStatus?: PodStatus;
  private lastStatusJSON = '';

  constructor(private readonly deps: PodStatusReporterDeps, startTime: string | undefined) {
    this.startTime = startTime;
  }

  /** Builds the pod's status from its containers `all` and sends it if it differs from the last one sent. */
  publish(dp: DesiredPod, all: RuntimeContainer[], opts: PublishOptions): void {
    const view = (c: Container): ContainerView => {
      const g = instancesOf(all, c.name);
      const probes = g.current ? this.deps.probes.get(g.current.id) : undefined;
      const v: ContainerView = {
        spec: c,
        restartCount: Number(g.current?.labels[LABEL.restartCount] ?? 0),
        ready: probes ? probes.ready : true,
        started: probes ? probes.started : true,
      };
      if (g.current) v.current = g.current;
      if (g.previous) v.previous = g.previous;
      const w = this.deps.waits.get(c.name);
      // a waiting reason outlives the container only while it is not running again
      if (w && !(g.current && isLive(g.current))) v.waiting = w;
      // dead and due for a restart: while back-off holds it, say so (the kubelet's CrashLoopBackOff);
      // otherwise the restart is imminent and the terminated state stands until it happens
      if (g.current && isDead(g.current) && !w && willRestart(dp.pod, c, g.current)) {
        const crash = this.crashLoopWaiting(c.name, g.current);
        if (crash) v.waiting = crash;
      }
      return v;
    };
    const status = buildPodStatus({
      pod: dp.pod,
      runtimeName: this.deps.runtime.name,
      podIP: opts.podIP,
      hostIP: opts.hostIP,
      startTime: this.startTime!,
      sandboxReady: opts.sandboxReady,
      init: (dp.pod.spec.initContainers ?? []).map(view),
      app: dp.pod.spec.containers.map(view),
      initDone: opts.initDone ?? false,
      initFailed: opts.initFailed ?? false,
      previous: this.lastStatus ?? dp.pod.status, // keeps transition times across agent restarts
      now: rfc3339Seconds(this.deps.clock.now()),
    });
    const final = opts.finalise ? opts.finalise(status) : status;
    const json = JSON.stringify(final);
    if (json === this.lastStatusJSON) return;
    this.lastStatus = final;
    this.lastStatusJSON = json;
    this.deps.emitStatus(this.statusUpdate(final));
  }

  /** Sends a status decided without the containers (a pod refused at admission), as it is. */
  publishFixed(status: PodStatus): void {
    this.lastStatus = status;
    this.lastStatusJSON = JSON.stringify(status);
    this.deps.emitStatus(this.statusUpdate(status));
  }

  /** Sends the last status again, if there is one. */
  resend(): void {
    if (this.lastStatus) this.deps.emitStatus(this.statusUpdate(this.lastStatus));
  }

  /** The waiting reason last reported for a container, if any. */
  waitingReason(name: string): string | undefined {
    const all = [...(this.lastStatus?.initContainerStatuses ?? []), ...(this.lastStatus?.containerStatuses ?? [])];
    return all.find((s) => s.name === name)?.state.waiting?.reason ?? this.deps.waits.get(name)?.reason;
  }

  private statusUpdate(status: PodStatus): PodStatusUpdate {
    const { id } = this.deps;
    const u: PodStatusUpdate = { uid: id.uid, namespace: id.namespace, name: id.name, status };
    const gen = this.deps.generation();
    if (gen !== undefined) u.observedGeneration = gen;
    return u;
  }

  /** The CrashLoopBackOff reason for a dead instance while back-off delays its restart. */
  private crashLoopWaiting(name: string, cur: RuntimeContainer): Waiting | undefined {
    const key = `${this.deps.id.uid}/${name}`;
    const finishedAt = Date.parse(cur.finishedAt ?? '') || this.deps.clock.now();
    if (!this.deps.crashBackoff.inBackoff(key, finishedAt)) return undefined;
    return { reason: 'CrashLoopBackOff', message: `back-off ${goDuration(this.deps.crashBackoff.delay(key))} restarting failed container=${name} pod=${podDescription(this.deps.id)}` };
  }
}

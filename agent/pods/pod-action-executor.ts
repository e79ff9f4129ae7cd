// Carries out a pod's plan (pod-actions.ts) against the runtime, the kubelet's SyncPod:
// the sandbox step, then each container action, recording why a container waits and
// when to look again. Deciding stays in the plan; this only does and reports.
import type { Container } from '../../protocol/kube/types.js';
import type { DesiredPod } from '../../protocol/mqtt/payloads.js';
import { podPullCredentials } from '../images/pull-credentials.js';
import { RuntimeError, type ContainerRuntime, type SandboxInfo } from '../runtime/container-runtime.js';
import { goDuration, type Backoff } from './backoff.js';
import { ConfigError } from './env.js';
import type { EventFn, ImagePuller } from './image-puller.js';
import { podDescription, type PodIdentity } from './container-labels.js';
import type { ContainerAction, PodPlan } from './pod-actions.js';
import type { Waiting } from './pod-status.js';
import { containerSpecFor, sandboxSpecFor, type ContainerStart, type NodeSpecContext, type StartContext } from './runtime-specs.js';
import { VolumeError } from './volumes.js';

export interface ExecutorDeps {
  id: PodIdentity;
  runtime: ContainerRuntime;
  puller: ImagePuller;
  crashBackoff: Backoff;
  /** Container ids a probe asked to kill; an executed kill takes its entry out. */
  killRequests: Map<string, string>;
  node(): NodeSpecContext;
  event(type: 'Normal' | 'Warning', reason: string, message: string): void;
  eventFn(c: Container, init: boolean): EventFn;
  /** Pass again after this many milliseconds (the earliest asked for wins). */
  wakeIn(ms: number): void;
  dropProbes(containerId: string): void;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class PodActionExecutor {
  /** Why each container is not running, by container name (pull errors, back-off, config errors). */
  readonly waits = new Map<string, Waiting>();
  /** The pod's running sandbox as last seen or made: trusted between full passes. */
  cachedSandbox?: SandboxInfo;
  /** Containers this pass started; undefined once it did anything else (then the pod is relisted). */
  passStarted?: string[];
  private readonly backoffEventFor = new Map<string, string>();

  constructor(private readonly deps: ExecutorDeps) {}

  /** Carries out the plan's sandbox step; replaced = an old one died and was removed with its containers stopped. */
  async applySandbox(dp: DesiredPod, plan: PodPlan): Promise<{ sandbox?: SandboxInfo; replaced: boolean; changed: boolean }> {
    const { runtime } = this.deps;
    for (const id of plan.removeSandboxes) await runtime.removeSandbox(id);
    const step = plan.sandbox;
    if (step.kind === 'host') return { replaced: false, changed: false };
    if (step.kind === 'keep') {
      this.cachedSandbox = step.sandbox?.running ? step.sandbox : undefined;
      return { ...(step.sandbox ? { sandbox: step.sandbox } : {}), replaced: false, changed: plan.removeSandboxes.length > 0 };
    }
    this.cachedSandbox = undefined;
    if (step.replace) {
      this.deps.event('Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      for (const id of step.replace.stopContainers) await runtime.stop(id, 0);
      for (const id of step.replace.removeSandboxes) await runtime.removeSandbox(id);
    }
    const replaced = step.replace !== undefined;
    try {
      this.cachedSandbox = await runtime.createSandbox(sandboxSpecFor(dp, this.deps.id, this.deps.node()));
      return { sandbox: this.cachedSandbox, replaced, changed: true };
    } catch (err) {
      this.deps.event('Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${errorText(err)}`);
      this.deps.wakeIn(5000);
      return { replaced, changed: true };
    }
  }

  /** Carries out one container action; true when it changed the runtime. */
  async execute(action: ContainerAction, ctx: StartContext): Promise<boolean> {
    const { runtime } = this.deps;
    switch (action.type) {
      case 'remove':
        await runtime.remove(action.id); // keep one dead instance, like the kubelet
        this.passStarted = undefined;
        return true;
      case 'kill':
        this.deps.killRequests.delete(action.id);
        this.deps.eventFn(action.container, false)('Normal', 'Killing', action.message);
        this.deps.dropProbes(action.id);
        await runtime.stop(action.id, action.graceSeconds);
        this.passStarted = undefined;
        return true;
      case 'backoff': {
        const c = action.container;
        const key = `${this.deps.id.uid}/${c.name}`;
        this.waits.set(c.name, { reason: 'CrashLoopBackOff', message: `back-off ${goDuration(action.delayMs)} restarting failed container=${c.name} pod=${podDescription(this.deps.id)}` });
        if (this.backoffEventFor.get(key) !== action.dead.id) {
          this.backoffEventFor.set(key, action.dead.id);
          this.deps.eventFn(c, action.init)('Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${podDescription(this.deps.id)}`);
        }
        this.deps.wakeIn(action.remainingMs);
        return false;
      }
      case 'start': {
        const after = action.after;
        if (after) {
          if (after.resetBackoff) this.deps.crashBackoff.reset(after.backoffKey);
          this.deps.crashBackoff.next(after.backoffKey);
          // the dead instance being replaced becomes the one kept
          if (after.removeBefore) { await runtime.remove(after.removeBefore); this.passStarted = undefined; }
        }
        return this.startContainer(action, ctx);
      }
    }
  }

  /** Pulls, resolves, creates and starts one container. False when it could not (status says why). */
  private async startContainer(start: ContainerStart, ctx: StartContext): Promise<boolean> {
    const c = start.container;
    const event = this.deps.eventFn(c, start.init);
    const pulled = await this.deps.puller.ensure(c, `${this.deps.id.uid}/${c.name}`, event, podPullCredentials(ctx.dp));
    if (!pulled.ok) {
      this.waits.set(c.name, { reason: pulled.reason, message: pulled.message });
      this.deps.wakeIn(pulled.retryInMs !== undefined ? pulled.retryInMs : 10_000);
      return false;
    }
    let spec;
    try {
      spec = containerSpecFor(start, ctx, this.deps.id, this.deps.node());
    } catch (err) {
      if (!(err instanceof ConfigError) && !(err instanceof VolumeError) && !(err instanceof RangeError)) throw err;
      this.waits.set(c.name, { reason: 'CreateContainerConfigError', message: err.message });
      event('Warning', 'Failed', `Error: ${err.message}`);
      this.deps.wakeIn(10_000);
      return false;
    }
    try {
      const id = await this.deps.runtime.run(spec);
      this.passStarted?.push(id);
    } catch (err) {
      this.passStarted = undefined;
      if (err instanceof RuntimeError && (err.kind === 'ImageNeverPull' || err.kind === 'ImageNotFound')) this.deps.puller.forgetImage(c.image);
      const message = err instanceof RuntimeError ? (err.stderr || err.message) : errorText(err);
      this.waits.set(c.name, { reason: 'CreateContainerError', message });
      event('Warning', 'Failed', `Error: ${message}`);
      const key = `${this.deps.id.uid}/${c.name}`;
      this.deps.crashBackoff.next(key);
      this.deps.wakeIn(this.deps.crashBackoff.delay(key));
      return true; // a failed run may leave a container behind
    }
    this.waits.delete(c.name);
    event('Normal', 'Created', `Created container ${c.name}`);
    event('Normal', 'Started', `Started container ${c.name}`);
    return true;
  }
}

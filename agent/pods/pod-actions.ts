// What one pass of a pod worker should do, decided without doing it: the kubelet's
// computePodActions (pkg/kubelet/kuberuntime/kuberuntime_manager.go). From the desired pod,
// what the runtime shows of it and the time, it returns the sandbox step and the container
// actions; pod-action-executor.ts carries them out. Nothing here touches the runtime or a timer.
import type { Container, Pod } from '../../protocol/kube/types.js';
import type { RuntimeContainer, SandboxInfo } from '../runtime/container-runtime.js';
import { LABEL } from './container-labels.js';
import { containerSpecHash } from './spec-hash.js';

export const DEFAULT_GRACE_SECONDS = 30;

/** The grace period of a pod being deleted: deletionGracePeriodSeconds wins. */
export function gracePeriodOf(pod: Pod | undefined): number {
  const g = pod?.metadata.deletionGracePeriodSeconds ?? pod?.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
  return Math.max(0, g);
}

/** Newest first, by the attempt number in the restart-count label. */
function byAttemptDesc(a: RuntimeContainer, b: RuntimeContainer): number {
  const d = Number(b.labels[LABEL.restartCount] ?? 0) - Number(a.labels[LABEL.restartCount] ?? 0);
  return d !== 0 ? d : (b.startedAt ?? '').localeCompare(a.startedAt ?? '');
}

export function isDead(c: RuntimeContainer): boolean {
  return c.state === 'exited' || (c.state === 'created' && c.error !== undefined);
}

export function isLive(c: RuntimeContainer): boolean {
  return c.state === 'running' || c.state === 'paused' || (c.state === 'created' && c.error === undefined);
}

/** The instances of one container: the newest, the one before it, and older ones to remove. */
export interface Instances { current?: RuntimeContainer; previous?: RuntimeContainer; older: RuntimeContainer[] }

export function splitInstances(list: RuntimeContainer[]): Instances {
  const sorted = [...list].sort(byAttemptDesc);
  return { current: sorted[0], previous: sorted[1], older: sorted.slice(2) };
}

export function instancesOf(all: RuntimeContainer[], name: string): Instances {
  return splitInstances(all.filter((c) => c.labels[LABEL.container] === name));
}

/** Whether restartPolicy brings this dead app container back. */
export function shouldRestart(policy: string, c: RuntimeContainer): boolean {
  if (policy === 'Always') return true;
  if (policy === 'OnFailure') return (c.exitCode ?? 1) !== 0 || c.error !== undefined;
  return false;
}

/** Whether a dead instance of this container (init or app) will be followed by a new one. */
export function willRestart(pod: Pod, c: Container, cur: RuntimeContainer): boolean {
  const init = (pod.spec.initContainers ?? []).some((x) => x.name === c.name);
  const policy = pod.spec.restartPolicy ?? 'Always';
  if (init) return cur.exitCode !== 0 && policy !== 'Never';
  return shouldRestart(policy, cur);
}

/** True when nothing is left to run: restartPolicy does not bring any container back. */
export function podFinished(pod: Pod, all: RuntimeContainer[]): boolean {
  const policy = pod.spec.restartPolicy ?? 'Always';
  if (policy === 'Always') return false;
  const latest = (name: string) => instancesOf(all, name).current;
  if (policy === 'Never') {
    const failedInit = (pod.spec.initContainers ?? []).some((ic) => { const c = latest(ic.name); return c && isDead(c) && c.exitCode !== 0; })
      && !pod.spec.containers.some((c) => latest(c.name));
    if (failedInit) return true;
  }
  return pod.spec.containers.every((c) => {
    const cur = latest(c.name);
    return cur !== undefined && isDead(cur) && !shouldRestart(policy, cur);
  });
}

/** What the pod's network namespace needs before its containers can start. */
export type SandboxStep =
  /** hostNetwork pods have none. */
  | { kind: 'host' }
  /** A running sandbox (or, for a finished pod, the last one) is used as it is. */
  | { kind: 'keep'; sandbox?: SandboxInfo }
  /** None runs: make one. `replace` lists what to stop and remove first when an old one died. */
  | { kind: 'create'; replace?: { stopContainers: string[]; removeSandboxes: string[] } };

export type ContainerAction =
  /** An instance older than the one dead instance kept (the kubelet keeps one for logs --previous). */
  | { type: 'remove'; id: string }
  /** First run of a container, or the next attempt after a dead one. */
  | { type: 'start'; container: Container; init: boolean; attempt: number; after?: Restart }
  /** A dead instance whose restart back-off has not yet passed. */
  | { type: 'backoff'; container: Container; init: boolean; dead: RuntimeContainer; delayMs: number; remainingMs: number }
  /** A running container to stop: its spec changed or a probe asked for it. */
  | { type: 'kill'; container: Container; id: string; message: string; graceSeconds: number; probeRequested: boolean };

/** How a start follows a dead instance: back-off bookkeeping and the instance before it to remove. */
export interface Restart { backoffKey: string; resetBackoff: boolean; removeBefore?: string }

export interface PodPlan {
  /** Nothing is left to run (restartPolicy Never/OnFailure and every container done). */
  finished: boolean;
  sandbox: SandboxStep;
  /** Extra running sandboxes of the pod, to remove. */
  removeSandboxes: string[];
  /** Containers about to start whose images can be checked while the sandbox is made. */
  warm: Container[];
  actions: ContainerAction[];
  initDone: boolean;
  /** An init container failed and will not be retried. */
  initFailed: boolean;
}

export interface PlanInput {
  pod: Pod;
  /** Every container instance of the pod the runtime has. */
  containers: RuntimeContainer[];
  /** The pod's sandboxes as last read (ignored for hostNetwork pods). */
  sandboxes: SandboxInfo[];
  /** Container ids a failed liveness or startup probe asked to kill, with the Killing message. */
  killRequests: ReadonlyMap<string, string>;
  /** Current crash back-off delay per `uid/container` key, undefined when it has none. */
  backoffDelay(key: string): number | undefined;
  /** A container that ran at least this long before exiting starts its back-off over. */
  backoffResetMs: number;
  now: number;
}

/** The back-off verdict for the dead instance `cur`: wait, or start the next attempt. */
function restartAction(input: PlanInput, c: Container, init: boolean, cur: RuntimeContainer, before: RuntimeContainer | undefined): ContainerAction {
  const key = `${input.pod.metadata.uid ?? ''}/${c.name}`;
  const finishedAt = Date.parse(cur.finishedAt ?? '') || input.now;
  const startedAt = Date.parse(cur.startedAt ?? '');
  const resetBackoff = !Number.isNaN(startedAt) && finishedAt - startedAt >= input.backoffResetMs;
  const delay = resetBackoff ? undefined : input.backoffDelay(key);
  if (delay !== undefined && input.now - finishedAt < delay) {
    return { type: 'backoff', container: c, init, dead: cur, delayMs: delay, remainingMs: Math.max(0, finishedAt + delay - input.now) };
  }
  const after: Restart = { backoffKey: key, resetBackoff };
  if (before) after.removeBefore = before.id;
  return { type: 'start', container: c, init, attempt: Number(cur.labels[LABEL.restartCount] ?? 0) + 1, after };
}

function sandboxStep(input: PlanInput, finished: boolean): { step: SandboxStep; removeSandboxes: string[] } {
  const running = input.sandboxes.filter((b) => b.running);
  const removeSandboxes = running.slice(1).map((b) => b.id);
  if (running[0]) return { step: { kind: 'keep', sandbox: running[0] }, removeSandboxes };
  if (finished) return { step: input.sandboxes[0] ? { kind: 'keep', sandbox: input.sandboxes[0] } : { kind: 'keep' }, removeSandboxes };
  if (input.sandboxes.length === 0) return { step: { kind: 'create' }, removeSandboxes };
  // the sandbox died: its containers lost their network, start the pod over
  const replace = { stopContainers: input.containers.filter(isLive).map((c) => c.id), removeSandboxes: input.sandboxes.map((b) => b.id) };
  return { step: { kind: 'create', replace }, removeSandboxes };
}

/** The plan for one pass of a pod that should run. */
export function computePodActions(input: PlanInput): PodPlan {
  const { pod, containers: all } = input;
  const spec = pod.spec;
  const policy = spec.restartPolicy ?? 'Always';
  const finished = podFinished(pod, all);

  const warm: Container[] = [];
  if (!finished) {
    const first = spec.initContainers?.length ? [spec.initContainers[0]!] : spec.containers;
    for (const c of first) if (!all.some((x) => x.labels[LABEL.container] === c.name)) warm.push(c);
  }
  const box = spec.hostNetwork ? { step: { kind: 'host' } as SandboxStep, removeSandboxes: [] } : sandboxStep(input, finished);

  const actions: ContainerAction[] = [];
  const groups = new Map<string, Instances>();
  for (const name of new Set(all.map((c) => c.labels[LABEL.container] ?? ''))) {
    const g = instancesOf(all, name);
    groups.set(name, g);
    for (const old of g.older) actions.push({ type: 'remove', id: old.id });
  }

  // init containers, in order, each to a successful exit
  const inits = spec.initContainers ?? [];
  let initDone = inits.length === 0 || spec.containers.some((c) => groups.get(c.name)?.current);
  let initFailed = false;
  if (!initDone && !finished) {
    initDone = true;
    for (const ic of inits) {
      const g = groups.get(ic.name);
      const cur = g?.current;
      if (cur && isDead(cur) && cur.exitCode === 0 && !cur.error) continue;
      initDone = false;
      if (!cur) actions.push({ type: 'start', container: ic, init: true, attempt: 0 });
      else if (isLive(cur) || !isDead(cur)) { /* still running: wait for it */ }
      else if (policy === 'Never') initFailed = true;
      else actions.push(restartAction(input, ic, true, cur, g?.previous));
      break;
    }
  } else if (!initDone) {
    initFailed = inits.some((ic) => { const c = groups.get(ic.name)?.current; return c && isDead(c) && c.exitCode !== 0; });
  }

  // app containers, each on its own: start, replace on a changed spec or a failed probe, restart per policy
  if (initDone && !finished) {
    for (const c of spec.containers) {
      const g = groups.get(c.name);
      const cur = g?.current;
      if (!cur) { actions.push({ type: 'start', container: c, init: false, attempt: 0 }); continue; }
      if (cur.state === 'running') {
        const probeMessage = input.killRequests.get(cur.id);
        const message = probeMessage
          ?? (cur.labels[LABEL.specHash] !== containerSpecHash(c) ? `Container ${c.name} definition changed, will be restarted` : undefined);
        if (message) actions.push({ type: 'kill', container: c, id: cur.id, message, graceSeconds: gracePeriodOf(pod), probeRequested: probeMessage !== undefined });
        continue;
      }
      if (isDead(cur) && shouldRestart(policy, cur)) actions.push(restartAction(input, c, false, cur, g?.previous));
    }
  }
  return { finished, sandbox: box.step, removeSandboxes: box.removeSandboxes, warm, actions, initDone, initFailed };
}

/** What stopping a pod for good takes: stop what runs (SIGTERM, then kill after the grace), then remove every instance. */
export interface TerminationPlan {
  graceSeconds: number;
  stop: { id: string; container: string; init: boolean }[];
  remove: string[];
}

export function computeTerminationActions(all: RuntimeContainer[], graceSeconds: number): TerminationPlan {
  return {
    graceSeconds,
    stop: all.filter(isLive).map((c) => ({ id: c.id, container: c.labels[LABEL.container] ?? c.name, init: c.labels[LABEL.kind] === 'init' })),
    remove: all.map((c) => c.id),
  };
}

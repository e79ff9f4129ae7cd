// Builds a pod's status from what the runtime shows and what the worker knows (waiting
// reasons, probe results), following the kubelet's rules for phase and conditions.
import type { Container, ContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from '../../protocol/kube/types.js';
import type { RuntimeContainer } from '../runtime/container-runtime.js';
import { parseQuantity } from '../../protocol/kube/quantity.js';

export interface Waiting { reason: string; message?: string }

export interface ContainerView {
  spec: Container;
  /** The newest runtime instance of this container. */
  current?: RuntimeContainer;
  /** The instance before it, kept for lastState and `logs --previous`. */
  previous?: RuntimeContainer;
  restartCount: number;
  /** Why the container is not running (set by the worker: pull errors, back-off, config errors). */
  waiting?: Waiting;
  ready: boolean;
  started: boolean;
}

export interface StatusInput {
  pod: Pod;
  runtimeName: string;
  podIP?: string;
  hostIP?: string;
  startTime: string;
  sandboxReady: boolean;
  init: ContainerView[];
  app: ContainerView[];
  initDone: boolean;
  /** An init container failed and will not be retried (restartPolicy Never). */
  initFailed: boolean;
  previous?: PodStatus;
  /** ISO time used for conditions that change now. */
  now: string;
}

export function qosClass(pod: Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const all = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of all) {
    const limits = c.resources?.limits ?? {};
    const requests = { ...limits, ...(c.resources?.requests ?? {}) }; // requests default to limits
    for (const r of ['cpu', 'memory'] as const) {
      if (limits[r] !== undefined || requests[r] !== undefined) any = true;
      if (limits[r] === undefined || requests[r] === undefined) { guaranteed = false; continue; }
      try {
        if (parseQuantity(limits[r]!) !== parseQuantity(requests[r]!)) guaranteed = false;
      } catch { guaranteed = false; }
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export function containerID(runtimeName: string, id: string): string {
  return `${runtimeName}://${id}`;
}

export function terminatedState(runtimeName: string, c: RuntimeContainer): ContainerState {
  const exitCode = c.exitCode ?? (c.error ? 128 : 0);
  const reason = c.oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : c.error && c.state === 'created' ? 'StartError' : 'Error';
  const terminated: NonNullable<ContainerState['terminated']> = { exitCode, reason, containerID: containerID(runtimeName, c.id) };
  if (c.startedAt) terminated.startedAt = c.startedAt;
  if (c.finishedAt) terminated.finishedAt = c.finishedAt;
  if (c.error) terminated.message = c.error;
  return { terminated };
}

function isDead(c: RuntimeContainer | undefined): c is RuntimeContainer {
  return c !== undefined && (c.state === 'exited' || (c.state === 'created' && c.error !== undefined));
}

function containerStatus(v: ContainerView, runtimeName: string, defaultWaiting: string): ContainerStatus {
  const s: ContainerStatus = {
    name: v.spec.name,
    state: {},
    lastState: {},
    ready: false,
    restartCount: v.restartCount,
    image: v.spec.image,
    imageID: v.current?.imageId ?? '',
    started: false,
  };
  const cur = v.current;
  if (cur) s.containerID = containerID(runtimeName, cur.id);
  if (cur && cur.state === 'running') {
    s.state = { running: cur.startedAt ? { startedAt: cur.startedAt } : {} };
    s.ready = v.ready;
    s.started = v.started;
    if (isDead(v.previous)) s.lastState = terminatedState(runtimeName, v.previous);
  } else if (isDead(cur)) {
    if (v.waiting) {
      s.state = { waiting: { ...v.waiting } };
      s.lastState = terminatedState(runtimeName, cur);
    } else {
      s.state = terminatedState(runtimeName, cur);
      if (isDead(v.previous)) s.lastState = terminatedState(runtimeName, v.previous);
    }
  } else {
    s.state = { waiting: v.waiting ? { ...v.waiting } : { reason: defaultWaiting } };
    if (isDead(v.previous)) s.lastState = terminatedState(runtimeName, v.previous);
  }
  return s;
}

type Phase = NonNullable<PodStatus['phase']>;

function podPhase(pod: Pod, statuses: ContainerStatus[], initDone: boolean, initFailed: boolean): Phase {
  const policy = pod.spec.restartPolicy ?? 'Always';
  if (initFailed && policy === 'Never') return 'Failed';
  if (!initDone) return 'Pending';
  let running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const s of statuses) {
    if (s.state.running) running++;
    else if (s.state.terminated) { stopped++; if (s.state.terminated.exitCode === 0) succeeded++; }
    else if (s.state.waiting) { if (s.lastState.terminated) stopped++; else waiting++; }
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    return policy === 'Never' ? 'Failed' : 'Running';
  }
  return 'Pending';
}

function condition(type: string, ok: boolean, now: string, previous: PodCondition[] | undefined, reason?: string, message?: string): PodCondition {
  const status = ok ? 'True' : 'False';
  const before = previous?.find((c) => c.type === type);
  const c: PodCondition = { type, status, lastProbeTime: null, lastTransitionTime: before && before.status === status ? before.lastTransitionTime : now };
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

export function buildPodStatus(input: StatusInput): PodStatus {
  const { pod, runtimeName } = input;
  const initStatuses = input.init.map((v) => {
    const s = containerStatus(v, runtimeName, 'PodInitializing');
    s.ready = s.state.terminated?.exitCode === 0; // a finished init container counts as ready
    return s;
  });
  const appStatuses = input.app.map((v) => containerStatus(v, runtimeName, input.initDone ? 'ContainerCreating' : 'PodInitializing'));
  const phase = podPhase(pod, appStatuses, input.initDone, input.initFailed);
  const prev = input.previous?.conditions;
  const now = input.now;

  const incompleteInit = input.init.filter((v, i) => !(initStatuses[i]!.state.terminated?.exitCode === 0)).map((v) => v.spec.name);
  const unready = appStatuses.filter((s) => !s.ready).map((s) => s.name);
  const completed = phase === 'Succeeded' || phase === 'Failed';
  const initialized = input.initDone || incompleteInit.length === 0;
  const conditions: PodCondition[] = [
    condition('PodReadyToStartContainers', input.sandboxReady, now, prev),
    initialized
      ? condition('Initialized', true, now, prev, completed && input.init.length ? 'PodCompleted' : undefined)
      : condition('Initialized', false, now, prev, 'ContainersNotInitialized', `containers with incomplete status: [${incompleteInit.join(' ')}]`),
    unready.length === 0 && !completed
      ? condition('ContainersReady', true, now, prev)
      : condition('ContainersReady', false, now, prev, completed ? 'PodCompleted' : 'ContainersNotReady', completed ? undefined : `containers with unready status: [${unready.join(' ')}]`),
    unready.length === 0 && !completed
      ? condition('Ready', true, now, prev)
      : condition('Ready', false, now, prev, completed ? 'PodCompleted' : 'ContainersNotReady', completed ? undefined : `containers with unready status: [${unready.join(' ')}]`),
    condition('PodScheduled', true, now, prev),
  ];

  const status: PodStatus = {
    phase,
    conditions,
    qosClass: qosClass(pod),
    startTime: input.startTime,
    containerStatuses: appStatuses,
  };
  if (initStatuses.length) status.initContainerStatuses = initStatuses;
  if (input.hostIP) { status.hostIP = input.hostIP; status.hostIPs = [{ ip: input.hostIP }]; }
  if (input.podIP) { status.podIP = input.podIP; status.podIPs = [{ ip: input.podIP }]; }
  if (pod.metadata.generation !== undefined) status.observedGeneration = pod.metadata.generation;
  return status;
}

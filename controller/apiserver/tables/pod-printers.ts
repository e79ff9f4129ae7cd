// Pod rows with upstream's status logic: the Status column is the most telling reason among
// init containers, containers, the pod's own reason and its deletion.

import { AGE_COLUMN, column, NAME_COLUMN, wide, type PrintedObject, type PrintedRow, type RowCondition, type TablePrinter } from './columns.js';
import { humanDuration, since } from './duration.js';
import { isRecord } from './format.js';

const NODE_UNREACHABLE_REASON = 'NodeLost';

const SUCCEEDED: RowCondition[] = [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
const FAILED: RowCondition[] = [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];

export const podPrinter: TablePrinter = {
  columns: [
    NAME_COLUMN,
    column('Ready', 'string', 'Ready containers out of all containers of the pod.'),
    column('Status', 'string', 'The aggregate status of the containers in the pod.'),
    column('Restarts', 'string', 'Container restarts in the pod, and how long ago the last one happened.'),
    AGE_COLUMN,
    wide('IP', 'string', 'The IP address of the pod.'),
    wide('Node', 'string', 'The node the pod is bound to.'),
    wide('Nominated Node', 'string', 'The node the scheduler nominated for the pod after preemption.'),
    wide('Readiness Gates', 'string', 'Readiness gates that are true out of all readiness gates.'),
  ],
  print: printPod,
};

interface Terminated { exitCode?: number; signal?: number; reason?: string; finishedAt?: string }

function terminatedOf(state: unknown): Terminated | undefined {
  return isRecord(state) && isRecord(state.terminated) ? (state.terminated as Terminated) : undefined;
}

function waitingReason(state: unknown): string {
  return isRecord(state) && isRecord(state.waiting) && typeof state.waiting.reason === 'string' ? state.waiting.reason : '';
}

function finishedAt(status: Record<string, unknown>): number {
  const t = terminatedOf(status.lastState);
  const at = t && typeof t.finishedAt === 'string' ? Date.parse(t.finishedAt) : NaN;
  return Number.isNaN(at) ? 0 : at;
}

function isRestartableInit(container: unknown): boolean {
  return isRecord(container) && container.restartPolicy === 'Always';
}

function conditionTrue(conditions: unknown, type: string): boolean {
  return Array.isArray(conditions) && conditions.some((c) => isRecord(c) && c.type === type && c.status === 'True');
}

export function printPod(pod: PrintedObject, now: Date): PrintedRow {
  const spec = isRecord(pod.spec) ? pod.spec : {};
  const status = isRecord(pod.status) ? pod.status : {};
  const meta = isRecord(pod.metadata) ? pod.metadata : {};
  const containers: unknown[] = Array.isArray(spec.containers) ? spec.containers : [];
  const initContainers: unknown[] = Array.isArray(spec.initContainers) ? spec.initContainers : [];
  const initStatuses: Record<string, unknown>[] = Array.isArray(status.initContainerStatuses) ? status.initContainerStatuses.filter(isRecord) : [];
  const containerStatuses: Record<string, unknown>[] = Array.isArray(status.containerStatuses) ? status.containerStatuses.filter(isRecord) : [];
  const conditions: unknown[] = Array.isArray(status.conditions) ? status.conditions : [];

  // A stored pod always has a phase; one that was never defaulted is simply pending.
  const phase: string = typeof status.phase === 'string' && status.phase !== '' ? status.phase : 'Pending';
  let reason: string = typeof status.reason === 'string' && status.reason !== '' ? status.reason : phase;
  for (const c of conditions) {
    if (isRecord(c) && c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }

  let totalContainers = containers.length;
  const initByName = new Map<string, unknown>();
  for (const c of initContainers) {
    if (!isRecord(c)) continue;
    initByName.set(String(c.name), c);
    if (isRestartableInit(c)) totalContainers++;
  }

  let readyContainers = 0;
  let restarts = 0;
  let lastRestart = 0;
  let sidecarRestarts = 0;
  let lastSidecarRestart = 0;
  let initializing = false;

  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i]!;
    const restartable = isRestartableInit(initByName.get(String(cs.name)));
    const count = typeof cs.restartCount === 'number' ? cs.restartCount : 0;
    restarts += count;
    lastRestart = Math.max(lastRestart, finishedAt(cs));
    if (restartable) {
      sidecarRestarts += count;
      lastSidecarRestart = Math.max(lastSidecarRestart, finishedAt(cs));
    }
    const terminated = terminatedOf(cs.state);
    const waiting = waitingReason(cs.state);
    if (terminated && (terminated.exitCode ?? 0) === 0) continue;
    if (restartable && cs.started === true) {
      if (cs.ready === true) readyContainers++;
      continue;
    }
    if (terminated) {
      if (terminated.reason) reason = `Init:${terminated.reason}`;
      else if (terminated.signal) reason = `Init:Signal:${terminated.signal}`;
      else reason = `Init:ExitCode:${terminated.exitCode ?? 0}`;
    } else if (waiting !== '' && waiting !== 'PodInitializing') {
      reason = `Init:${waiting}`;
    } else {
      reason = `Init:${i}/${initContainers.length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(conditions, 'Initialized')) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    // Walk backwards so the first container's state wins, as upstream does.
    for (let i = containerStatuses.length - 1; i >= 0; i--) {
      const cs = containerStatuses[i]!;
      restarts += typeof cs.restartCount === 'number' ? cs.restartCount : 0;
      lastRestart = Math.max(lastRestart, finishedAt(cs));
      const waiting = waitingReason(cs.state);
      const terminated = terminatedOf(cs.state);
      if (waiting !== '') reason = waiting;
      else if (terminated && terminated.reason) reason = terminated.reason;
      else if (terminated) reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode ?? 0}`;
      else if (cs.ready === true && isRecord(cs.state) && isRecord(cs.state.running)) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = conditionTrue(conditions, 'Ready') ? 'Running' : 'NotReady';
  }

  const deleting = typeof meta.deletionTimestamp === 'string' && meta.deletionTimestamp !== '';
  if (deleting && status.reason === NODE_UNREACHABLE_REASON) reason = 'Unknown';
  else if (deleting && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  const restartCell = restarts !== 0 && lastRestart !== 0
    ? `${restarts} (${humanDuration(now.getTime() - lastRestart)} ago)`
    : String(restarts);

  const podIPs = Array.isArray(status.podIPs) ? status.podIPs : [];
  const podIP = (isRecord(podIPs[0]) && typeof podIPs[0].ip === 'string' && podIPs[0].ip) || (typeof status.podIP === 'string' && status.podIP) || '<none>';
  const nodeName = (typeof spec.nodeName === 'string' && spec.nodeName) || '<none>';
  const nominated = (typeof status.nominatedNodeName === 'string' && status.nominatedNodeName) || '<none>';

  const cells: unknown[] = [
    String(meta.name ?? ''),
    `${readyContainers}/${totalContainers}`,
    reason,
    restartCell,
    since(meta.creationTimestamp, now),
    podIP,
    nodeName,
    nominated,
    readinessGates(spec.readinessGates, conditions),
  ];
  const row: PrintedRow = { cells };
  if (phase === 'Succeeded') row.conditions = SUCCEEDED;
  else if (phase === 'Failed') row.conditions = FAILED;
  return row;
}

function readinessGates(gates: unknown, conditions: unknown[]): string {
  if (!Array.isArray(gates) || gates.length === 0) return '<none>';
  let trueCount = 0;
  for (const gate of gates) {
    if (!isRecord(gate)) continue;
    const match = conditions.find((c) => isRecord(c) && c.type === gate.conditionType);
    if (isRecord(match) && match.status === 'True') trueCount++;
  }
  return `${trueCount}/${gates.length}`;
}

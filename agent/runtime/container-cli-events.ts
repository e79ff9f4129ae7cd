// Reads one line of `events` output from nerdctl, podman or docker (shapes in the
// runtime reference: containerd topics, podman's flat records, docker's Actor records)
// and keeps only what makes the agent relist: exits, OOM kills and removals.
import { isRecord, rec, str } from './container-cli-output.js';
import type { RuntimeEvent } from './container-runtime.js';

const PODMAN_ACTIONS: Record<string, 'exited' | 'oom' | 'removed'> = { died: 'exited', oom: 'oom', remove: 'removed' };
const DOCKER_ACTIONS: Record<string, 'exited' | 'oom' | 'removed'> = { die: 'exited', oom: 'oom', destroy: 'removed' };

function stringLabels(v: unknown): Record<string, string> | undefined {
  if (!isRecord(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

/** undefined for lines that are not JSON, not about a container, or not interesting. */
export function parseRuntimeEvent(line: string, opts: { namespace?: string } = {}): RuntimeEvent | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isRecord(raw)) return undefined;
  // nerdctl: containerd topics, JSON inside the `Event` string, every namespace.
  const topic = str(raw['Topic']);
  if (topic !== undefined) {
    if (opts.namespace !== undefined && str(raw['Namespace']) !== opts.namespace) return undefined;
    let inner: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(str(raw['Event']) ?? '{}');
      if (isRecord(parsed)) inner = parsed;
    } catch { /* keep the outer ID */ }
    const containerId = str(inner['container_id']) ?? str(raw['ID']);
    if (topic === '/tasks/exit') {
      // also fires for exec processes: only the task's own init process counts
      const id = str(inner['id']);
      if (id && containerId && id !== containerId) return undefined;
      return containerId ? { type: 'container', action: 'exited', id: containerId } : undefined;
    }
    if (topic === '/tasks/oom') return containerId ? { type: 'container', action: 'oom', id: containerId } : undefined;
    if (topic === '/containers/delete') {
      const id = str(inner['id']) ?? str(raw['ID']);
      return id ? { type: 'container', action: 'removed', id } : undefined;
    }
    return undefined;
  }
  // docker: {status, id, Type, Action, Actor: {ID, Attributes}}
  const actor = raw['Actor'];
  if (isRecord(actor)) {
    if ((str(raw['Type']) ?? 'container') !== 'container') return undefined;
    const action = DOCKER_ACTIONS[(str(raw['Action']) ?? str(raw['status']) ?? '').split(':')[0]!];
    const id = str(actor['ID']) ?? str(raw['id']);
    if (!action || !id) return undefined;
    const labels = stringLabels(actor['Attributes']);
    return labels ? { type: 'container', action, id, labels } : { type: 'container', action, id };
  }
  // podman: {ID, Name, Status, Type, PodID, Attributes}
  if ((str(raw['Type']) ?? 'container') !== 'container') return undefined;
  const action = PODMAN_ACTIONS[str(raw['Status']) ?? ''];
  const id = str(raw['ID']) ?? str(raw['Id']);
  if (!action || !id) return undefined;
  const labels = stringLabels(rec(raw)['Attributes']);
  return labels ? { type: 'container', action, id, labels } : { type: 'container', action, id };
}

// TaintNodesByCondition, the pressure half (pkg/controller/nodelifecycle): a node whose
// status says MemoryPressure, DiskPressure or PIDPressure gets the matching NoSchedule
// taint, so no new pod lands there until the condition clears.
import type { Node, Taint } from '../../protocol/kube/types.js';

export const PRESSURE_TAINTS: Record<string, string> = {
  MemoryPressure: 'node.kubernetes.io/memory-pressure',
  DiskPressure: 'node.kubernetes.io/disk-pressure',
  PIDPressure: 'node.kubernetes.io/pid-pressure',
};

export const PRESSURE_TAINT_KEYS = new Set(Object.values(PRESSURE_TAINTS));

export function pressureTaints(node: Node): Taint[] {
  const out: Taint[] = [];
  for (const c of node.status?.conditions ?? []) {
    const key = PRESSURE_TAINTS[c.type];
    if (key && c.status === 'True') out.push({ key, effect: 'NoSchedule' });
  }
  return out;
}

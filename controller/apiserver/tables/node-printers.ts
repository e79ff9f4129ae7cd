// Node rows: readiness, cordon state, roles from labels, and the kubelet's view of the host.

import { AGE_COLUMN, column, NAME_COLUMN, wide, type PrintedObject, type PrintedRow, type TablePrinter } from './columns.js';
import { since } from './duration.js';
import { isRecord, records, str } from './format.js';

const ROLE_LABEL_PREFIX = 'node-role.kubernetes.io/';
const LEGACY_ROLE_LABEL = 'kubernetes.io/role';

export const nodePrinter: TablePrinter = {
  columns: [
    NAME_COLUMN,
    column('Status', 'string', 'The status of the node.'),
    column('Roles', 'string', 'The roles of the node.'),
    AGE_COLUMN,
    column('Version', 'string', 'Version of the node agent.'),
    wide('Internal-IP', 'string', 'The first internal address of the node.'),
    wide('External-IP', 'string', 'The first external address of the node.'),
    wide('OS-Image', 'string', 'Operating system image reported by the node.'),
    wide('Kernel-Version', 'string', 'Kernel version reported by the node.'),
    wide('Container-Runtime', 'string', 'Container runtime and its version.'),
  ],
  print: printNode,
};

export function nodeRoles(labels: unknown): string[] {
  const roles = new Set<string>();
  if (isRecord(labels)) {
    for (const [key, value] of Object.entries(labels)) {
      if (key.startsWith(ROLE_LABEL_PREFIX)) {
        const role = key.slice(ROLE_LABEL_PREFIX.length);
        if (role !== '') roles.add(role);
      } else if (key === LEGACY_ROLE_LABEL && typeof value === 'string' && value !== '') {
        roles.add(value);
      }
    }
  }
  return [...roles].sort();
}

function address(addresses: unknown, type: string): string {
  if (!Array.isArray(addresses)) return '<none>';
  const found = addresses.find((a) => isRecord(a) && a.type === type);
  return isRecord(found) && typeof found.address === 'string' ? found.address : '<none>';
}

export function printNode(node: PrintedObject, now: Date): PrintedRow {
  const meta = isRecord(node.metadata) ? node.metadata : {};
  const spec = isRecord(node.spec) ? node.spec : {};
  const status = isRecord(node.status) ? node.status : {};
  const info = isRecord(status.nodeInfo) ? status.nodeInfo : {};

  // Only the Ready condition speaks for the node; the last one of that type wins.
  const statuses: string[] = [];
  const conditions = records(status.conditions);
  const ready = conditions.filter((c) => c.type === 'Ready').pop();
  if (ready) statuses.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  else statuses.push('Unknown');
  if (spec.unschedulable === true) statuses.push('SchedulingDisabled');

  const roles = nodeRoles(meta.labels).join(',') || '<none>';
  return {
    cells: [
      String(meta.name ?? ''),
      statuses.join(','),
      roles,
      since(meta.creationTimestamp, now),
      str(info.kubeletVersion),
      address(status.addresses, 'InternalIP'),
      address(status.addresses, 'ExternalIP'),
      str(info.osImage) || '<unknown>',
      str(info.kernelVersion) || '<unknown>',
      str(info.containerRuntimeVersion) || '<unknown>',
    ],
  };
}

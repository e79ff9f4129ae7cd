// Rows for Ingresses and IngressClasses, with upstream's columns (printers.go in
// kubernetes/pkg/printers/internalversion): hosts cut after three, the address list cut
// at 16 characters unless wide, ports 80 or "80, 443" once the Ingress has TLS.

import { AGE_COLUMN, column, NAME_COLUMN, type TablePrinter } from './columns.js';
import { since } from './duration.js';
import { isRecord, records, str } from './format.js';

const ADDRESS_WIDTH = 16;

export function ingressHosts(rules: unknown): string {
  const all = records(rules);
  const hosts: string[] = [];
  let more = false;
  for (const rule of all) {
    if (hosts.length === 3) { more = true; break; }
    if (typeof rule.host === 'string' && rule.host !== '') hosts.push(rule.host);
  }
  if (hosts.length === 0) return '*';
  return more ? `${hosts.join(',')} + ${all.length - 3} more...` : hosts.join(',');
}

export function ingressAddress(status: unknown, wide = false): string {
  const lb = isRecord(status) && isRecord(status.loadBalancer) ? status.loadBalancer : {};
  const seen = new Set<string>();
  for (const i of records(lb.ingress)) {
    if (typeof i.ip === 'string' && i.ip !== '') seen.add(i.ip);
    else if (typeof i.hostname === 'string' && i.hostname !== '') seen.add(i.hostname);
  }
  const joined = [...seen].sort().join(',');
  return !wide && joined.length > ADDRESS_WIDTH ? `${joined.slice(0, ADDRESS_WIDTH - 3)}...` : joined;
}

export const ingressPrinter: TablePrinter = {
  columns: [
    NAME_COLUMN,
    column('Class', 'string', 'The IngressClass that serves this Ingress.'),
    column('Hosts', 'string', 'Host names the rules match.'),
    column('Address', 'string', 'Addresses the Ingress is reachable at.'),
    column('Ports', 'string', 'Ports the Ingress answers on.'),
    AGE_COLUMN,
  ],
  print(obj, now) {
    const meta = isRecord(obj.metadata) ? obj.metadata : {};
    const spec = isRecord(obj.spec) ? obj.spec : {};
    const hasTls = Array.isArray(spec.tls) && spec.tls.length > 0;
    return {
      cells: [
        String(meta.name ?? ''),
        str(spec.ingressClassName, '<none>') || '<none>',
        ingressHosts(spec.rules),
        ingressAddress(obj.status),
        hasTls ? '80, 443' : '80',
        since(meta.creationTimestamp, now),
      ],
    };
  },
};

export const ingressClassPrinter: TablePrinter = {
  columns: [
    NAME_COLUMN,
    column('Controller', 'string', 'The controller that implements this class.'),
    column('Parameters', 'string', 'The object that holds the class\'s settings.'),
    AGE_COLUMN,
  ],
  print(obj, now) {
    const meta = isRecord(obj.metadata) ? obj.metadata : {};
    const spec = isRecord(obj.spec) ? obj.spec : {};
    let parameters = '<none>';
    if (isRecord(spec.parameters)) {
      const p = spec.parameters;
      parameters = `${str(p.kind)}${typeof p.apiGroup === 'string' ? `.${p.apiGroup}` : ''}/${str(p.name)}`;
    }
    return { cells: [String(meta.name ?? ''), str(spec.controller), parameters, since(meta.creationTimestamp, now)] };
  },
};

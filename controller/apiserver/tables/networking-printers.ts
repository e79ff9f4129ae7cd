// Rows for services, endpoints and endpoint slices.

import { AGE_COLUMN, column, NAME_COLUMN, wide, type TablePrinter } from './columns.js';
import { since } from './duration.js';
import { formatLabels, isRecord, joinHostPort, listWithMore, records, str } from './format.js';

/** What kubectl shows under EXTERNAL-IP for a service. */
export function serviceExternalIP(spec: Record<string, unknown>, status: Record<string, unknown>): string {
  const externalIPs: string[] = Array.isArray(spec.externalIPs) ? spec.externalIPs.map(String) : [];
  const type = str(spec.type, 'ClusterIP');
  switch (type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = isRecord(status.loadBalancer) ? status.loadBalancer : {};
      const ingress = Array.isArray(lb.ingress) ? lb.ingress.filter(isRecord) : [];
      // A sorted set of ingress IPs (or host names when there is no IP).
      const seen = new Set<string>();
      for (const i of ingress) {
        if (typeof i.ip === 'string' && i.ip !== '') seen.add(i.ip);
        else if (typeof i.hostname === 'string' && i.hostname !== '') seen.add(i.hostname);
      }
      const lbIPs = [...seen].sort();
      if (externalIPs.length > 0) return [...lbIPs, ...externalIPs].join(',');
      return lbIPs.length > 0 ? lbIPs.join(',') : '<pending>';
    }
    case 'ExternalName':
      return str(spec.externalName);
    default:
      return '<unknown>';
  }
}

/** `80/TCP`, or `80:30080/TCP` when a node port is allocated. */
export function servicePorts(ports: unknown): string {
  if (!Array.isArray(ports)) return '';
  return ports
    .filter(isRecord)
    .map((p) => {
      const protocol = str(p.protocol, 'TCP');
      return typeof p.nodePort === 'number' && p.nodePort > 0 ? `${p.port}:${p.nodePort}/${protocol}` : `${p.port}/${protocol}`;
    })
    .join(',');
}

export const servicePrinter: TablePrinter = {
  columns: [
    NAME_COLUMN,
    column('Type', 'string', 'How the service is exposed.'),
    column('Cluster-IP', 'string', 'The virtual IP of the service inside the cluster.'),
    column('External-IP', 'string', 'Addresses the service is reachable at from outside the cluster.'),
    column('Port(s)', 'string', 'Ports exposed by the service.'),
    AGE_COLUMN,
    wide('Selector', 'string', 'Labels of the pods that back the service.'),
  ],
  print(obj, now) {
    const meta = isRecord(obj.metadata) ? obj.metadata : {};
    const spec = isRecord(obj.spec) ? obj.spec : {};
    const status = isRecord(obj.status) ? obj.status : {};
    const clusterIPs = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [];
    const clusterIP = (typeof clusterIPs[0] === 'string' && clusterIPs[0]) || (typeof spec.clusterIP === 'string' && spec.clusterIP) || '<none>';
    return {
      cells: [
        String(meta.name ?? ''),
        str(spec.type, 'ClusterIP'),
        clusterIP,
        serviceExternalIP(spec, status),
        servicePorts(spec.ports) || '<none>',
        since(meta.creationTimestamp, now),
        formatLabels(spec.selector),
      ],
    };
  },
};

/** `10.0.0.1:8080,10.0.0.2:8080 + 1 more...`; `<none>` without subsets. */
export function formatEndpoints(subsets: unknown): string {
  if (!Array.isArray(subsets) || subsets.length === 0) return '<none>';
  const all: string[] = [];
  for (const subset of subsets) {
    if (!isRecord(subset)) continue;
    const addresses = Array.isArray(subset.addresses) ? subset.addresses.filter(isRecord) : [];
    const ports = Array.isArray(subset.ports) ? subset.ports.filter(isRecord) : [];
    // Headless services may have no ports: then the bare IPs are listed.
    if (ports.length === 0) {
      for (const a of addresses) all.push(str(a.ip));
      continue;
    }
    for (const port of ports) for (const a of addresses) all.push(joinHostPort(str(a.ip), port.port));
  }
  if (all.length === 0) return '';
  const shown = all.slice(0, 3).join(',');
  return all.length > 3 ? `${shown} + ${all.length - 3} more...` : shown;
}

export const endpointsPrinter: TablePrinter = {
  columns: [NAME_COLUMN, column('Endpoints', 'string', 'Addresses and ports that back the service.'), AGE_COLUMN],
  print(obj, now) {
    const meta = isRecord(obj.metadata) ? obj.metadata : {};
    return { cells: [String(meta.name ?? ''), formatEndpoints(obj.subsets), since(meta.creationTimestamp, now)] };
  },
};

export const endpointSlicePrinter: TablePrinter = {
  columns: [
    NAME_COLUMN,
    column('AddressType', 'string', 'Type of the addresses in this slice.'),
    column('Ports', 'string', 'Ports exposed by the endpoints.'),
    column('Endpoints', 'string', 'Addresses of the endpoints.'),
    AGE_COLUMN,
  ],
  print(obj, now) {
    const meta = isRecord(obj.metadata) ? obj.metadata : {};
    const ports = records(obj.ports).map((p) =>
      typeof p.port === 'number' ? String(p.port) : typeof p.name === 'string' ? p.name : '*');
    const addresses: string[] = [];
    for (const e of records(obj.endpoints)) {
      for (const a of Array.isArray(e.addresses) ? e.addresses : []) addresses.push(String(a));
    }
    return {
      cells: [String(meta.name ?? ''), str(obj.addressType), listWithMore(ports), listWithMore(addresses), since(meta.creationTimestamp, now)],
    };
  },
};

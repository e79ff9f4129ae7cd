/** Service spec rules: type, ports, node ports, names. */
import { FieldPath, duplicate, forbidden, invalid, notSupported, required, type FieldCause } from './field-cause.js';
import { dns1123Label, dns1123Subdomain, ianaServiceName, portNumber } from './names.js';
import { validateLabels } from './object-meta.js';
import { asArray, asObj, asString, isSet } from './shape.js';

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const SESSION_AFFINITIES = ['ClientIP', 'None'];
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

function validatePort(port: Record<string, unknown>, p: FieldPath, type: string, requireName: boolean, names: Set<string>): FieldCause[] {
  const causes: FieldCause[] = [];
  const name = asString(port.name);
  if (requireName && !name) causes.push(required(p.child('name').toString()));
  if (name) {
    for (const e of dns1123Label(name)) causes.push(invalid(p.child('name').toString(), name, e));
    if (names.has(name)) causes.push(duplicate(p.child('name').toString(), name));
    names.add(name);
  }
  if (port.port === undefined || port.port === null) causes.push(required(p.child('port').toString()));
  else if (typeof port.port === 'number') for (const e of portNumber(port.port)) causes.push(invalid(p.child('port').toString(), port.port, e));
  if (isSet(port.protocol) && !PROTOCOLS.includes(String(port.protocol))) causes.push(notSupported(p.child('protocol').toString(), port.protocol, PROTOCOLS));
  const target = port.targetPort;
  if (typeof target === 'number' && target !== 0) for (const e of portNumber(target)) causes.push(invalid(p.child('targetPort').toString(), target, e));
  if (typeof target === 'string' && !/^\d+$/.test(target)) for (const e of ianaServiceName(target)) causes.push(invalid(p.child('targetPort').toString(), target, e));
  const nodePort = port.nodePort;
  if (typeof nodePort === 'number' && nodePort !== 0) {
    if (type === 'ClusterIP' || type === 'ExternalName') {
      causes.push(forbidden(p.child('nodePort').toString(), `may not be used when \`type\` is '${type}'`));
    } else if (nodePort < NODE_PORT_RANGE.min || nodePort > NODE_PORT_RANGE.max) {
      causes.push(invalid(p.child('nodePort').toString(), nodePort, `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`));
    }
  }
  return causes;
}

export function validateServiceSpec(specValue: unknown, path: FieldPath): FieldCause[] {
  const spec = asObj(specValue) ?? {};
  const causes: FieldCause[] = [];
  const type = isSet(spec.type) ? String(spec.type) : 'ClusterIP';
  if (!SERVICE_TYPES.includes(type)) causes.push(notSupported(path.child('type').toString(), spec.type, SERVICE_TYPES));
  const headless = spec.clusterIP === 'None';
  const ports = asArray(spec.ports);
  if (ports.length === 0 && !headless && type !== 'ExternalName') causes.push(required(path.child('ports').toString()));
  const names = new Set<string>();
  ports.forEach((raw, i) => {
    const port = asObj(raw);
    if (port) causes.push(...validatePort(port, path.child('ports').index(i), type, ports.length > 1, names));
  });
  if (type === 'ExternalName') {
    const externalName = asString(spec.externalName);
    if (!externalName) causes.push(required(path.child('externalName').toString()));
    else for (const e of dns1123Subdomain(externalName.replace(/\.$/, ''))) causes.push(invalid(path.child('externalName').toString(), externalName, e));
  }
  if (isSet(spec.sessionAffinity) && !SESSION_AFFINITIES.includes(String(spec.sessionAffinity))) {
    causes.push(notSupported(path.child('sessionAffinity').toString(), spec.sessionAffinity, SESSION_AFFINITIES));
  }
  causes.push(...validateLabels(spec.selector, path.child('selector')));
  return causes;
}

/** A Service's cluster IP is fixed once allocated (except when the type changes to ExternalName). */
export function validateServiceSpecUpdate(specValue: unknown, oldSpecValue: unknown, path: FieldPath): FieldCause[] {
  const spec = asObj(specValue) ?? {};
  const old = asObj(oldSpecValue) ?? {};
  if (spec.type === 'ExternalName') return [];
  if (isSet(old.clusterIP) && isSet(spec.clusterIP) && spec.clusterIP !== old.clusterIP) {
    return [invalid(path.child('clusterIP').toString(), spec.clusterIP, 'field is immutable')];
  }
  return [];
}

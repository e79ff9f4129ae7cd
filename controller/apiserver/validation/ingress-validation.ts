/**
 * Ingress and IngressClass rules beyond the schema, as upstream writes them
 * (kubernetes/pkg/apis/networking/validation): hosts are DNS names or `*.`-wildcards,
 * never IPs; every path has a pathType, and Exact/Prefix paths are clean absolute paths;
 * a backend is either a Service (port by name or by number, not both) or a resource.
 */
import { FieldPath, forbidden, invalid, notSupported, required, tooLong, type FieldCause } from './field-cause.js';
import { dns1123Label, dns1123Subdomain, ianaServiceName, portNumber } from './names.js';
import { asArray, asObj, asString, type Obj } from './shape.js';

const PATH_TYPES = ['Exact', 'Prefix', 'ImplementationSpecific'];
/** Sequences a clean Exact/Prefix path may not contain (upstream's invalidPathSequences). */
const BAD_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const BAD_SUFFIXES = ['/..', '/.'];

function hostCauses(host: string, field: string): FieldCause[] {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':')) return [invalid(field, host, 'must be a DNS name, not an IP address')];
  if (host.startsWith('*.')) {
    return dns1123Subdomain(host.slice(2)).map((e) => invalid(field, host, `a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain: ${e}`));
  }
  return dns1123Subdomain(host).map((e) => invalid(field, host, e));
}

function backendCauses(value: unknown, path: FieldPath): FieldCause[] {
  const b = asObj(value) ?? {};
  const service = asObj(b.service);
  const resource = asObj(b.resource);
  if (service && resource) return [invalid(path.toString(), '', 'cannot set both resource and service backends')];
  if (!service && !resource) return [required(path.toString(), 'one of `service` or `resource` must be specified')];
  if (resource) return [];
  const causes: FieldCause[] = [];
  const sp = path.child('service');
  const name = asString(service!.name);
  if (!name) causes.push(required(sp.child('name').toString()));
  else for (const e of dns1123Label(name)) causes.push(invalid(sp.child('name').toString(), name, e));
  const port = asObj(service!.port) ?? {};
  const pp = sp.child('port');
  const portName = asString(port.name);
  const number = port.number;
  if (portName && typeof number === 'number' && number !== 0) causes.push(invalid(pp.toString(), '', 'cannot set both port name & port number'));
  else if (portName) for (const e of ianaServiceName(portName)) causes.push(invalid(pp.child('name').toString(), portName, e));
  else if (typeof number === 'number' && number !== 0) for (const e of portNumber(number)) causes.push(invalid(pp.child('number').toString(), number, e));
  else causes.push(required(pp.toString(), 'port name or number is required'));
  return causes;
}

function pathCauses(value: unknown, path: FieldPath): FieldCause[] {
  const p = asObj(value) ?? {};
  const causes: FieldCause[] = [];
  const type = asString(p.pathType);
  const text = asString(p.path) ?? '';
  if (!type) causes.push(required(path.child('pathType').toString(), 'pathType must be specified'));
  else if (!PATH_TYPES.includes(type)) causes.push(notSupported(path.child('pathType').toString(), type, PATH_TYPES));
  if (type === 'Exact' || type === 'Prefix') {
    const field = path.child('path').toString();
    if (!text.startsWith('/')) causes.push(invalid(field, text, 'must be an absolute path'));
    else {
      for (const s of BAD_SEQUENCES) if (text.includes(s)) causes.push(invalid(field, text, `must not contain '${s}'`));
      for (const s of BAD_SUFFIXES) if (text.endsWith(s)) causes.push(invalid(field, text, `cannot end with '${s}'`));
    }
  } else if (text !== '' && !text.startsWith('/')) {
    causes.push(invalid(path.child('path').toString(), text, 'must be an absolute path'));
  }
  causes.push(...backendCauses(p.backend, path.child('backend')));
  return causes;
}

export function validateIngressSpec(specValue: unknown, path: FieldPath): FieldCause[] {
  const spec = asObj(specValue) ?? {};
  const causes: FieldCause[] = [];
  const rules = asArray(spec.rules);
  if (rules.length === 0 && !asObj(spec.defaultBackend)) {
    causes.push(invalid(path.toString(), '', 'either `defaultBackend` or `rules` must be specified'));
  }
  if (spec.defaultBackend !== undefined && spec.defaultBackend !== null) causes.push(...backendCauses(spec.defaultBackend, path.child('defaultBackend')));
  const className = asString(spec.ingressClassName);
  if (className) for (const e of dns1123Subdomain(className)) causes.push(invalid(path.child('ingressClassName').toString(), className, e));
  rules.forEach((r, i) => {
    const rp = path.child('rules').index(i);
    const rule = asObj(r) ?? {};
    const host = asString(rule.host);
    if (host) causes.push(...hostCauses(host, rp.child('host').toString()));
    const http = asObj(rule.http);
    if (!http) return;
    const paths = asArray(http.paths);
    if (paths.length === 0) causes.push(required(rp.child('http').child('paths').toString()));
    paths.forEach((p, j) => causes.push(...pathCauses(p, rp.child('http').child('paths').index(j))));
  });
  asArray(spec.tls).forEach((t, i) => {
    const tp = path.child('tls').index(i);
    asArray((asObj(t) ?? {}).hosts).forEach((h, j) => {
      if (typeof h === 'string') causes.push(...hostCauses(h, tp.child('hosts').index(j).toString()));
    });
  });
  return causes;
}

/** IngressClass: a domain-prefixed controller name, fixed once set. */
export function validateIngressClass(obj: Obj, old?: Obj): FieldCause[] {
  const spec = asObj(obj.spec) ?? {};
  const field = 'spec.controller';
  const controller = asString(spec.controller);
  if (!controller) return [required(field)];
  const causes: FieldCause[] = [];
  if (controller.length > 250) causes.push(tooLong(field, 250));
  const slash = controller.indexOf('/');
  if (slash <= 0 || dns1123Subdomain(controller.slice(0, slash)).length > 0 || controller.slice(slash + 1) === '') {
    causes.push(invalid(field, controller, 'must be a domain-prefixed path (such as "acme.io/foo")'));
  }
  const before = asString(asObj(old?.spec)?.controller);
  if (old && before !== undefined && before !== controller) causes.push(forbidden(field, 'field is immutable'));
  return causes;
}

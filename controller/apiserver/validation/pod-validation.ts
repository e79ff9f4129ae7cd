/** Pod spec rules the schema cannot express, worded like upstream. */
import { QuantityError, parseQuantity } from '../../../protocol/kube/quantity.js';
import { FieldPath, duplicate, forbidden, invalid, notFound, notSupported, required, type FieldCause } from './field-cause.js';
import { dns1123Label, envVarName, ianaServiceName, portNumber } from './names.js';
import { validateLabels } from './object-meta.js';
import { asArray, asObj, asString, canonical, isSet, type Obj } from './shape.js';

export const POD_RESTART_POLICIES = ['Always', 'OnFailure', 'Never'] as const;
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const PROBE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'];
const TOLERATION_OPERATORS = ['Equal', 'Exists'];

export interface PodSpecOptions {
  /** Allowed spec.restartPolicy values; workloads allow only "Always". */
  restartPolicies?: readonly string[];
}

function validateVolumes(volumes: unknown, path: FieldPath): { causes: FieldCause[]; names: Set<string> } {
  const causes: FieldCause[] = [];
  const names = new Set<string>();
  asArray(volumes).forEach((raw, i) => {
    const v = asObj(raw);
    if (!v) return;
    const p = path.index(i);
    const name = asString(v.name);
    if (!name) causes.push(required(p.child('name').toString()));
    else {
      for (const e of dns1123Label(name)) causes.push(invalid(p.child('name').toString(), name, e));
      if (names.has(name)) causes.push(duplicate(p.child('name').toString(), name));
      names.add(name);
    }
    const sources = Object.keys(v).filter((k) => k !== 'name' && v[k] !== null && v[k] !== undefined);
    if (sources.length === 0) causes.push(required(p.toString(), 'must specify a volume type'));
    else if (sources.length > 1) causes.push(forbidden(p.child(sources[1]!).toString(), 'may not specify more than 1 volume type'));
  });
  return { causes, names };
}

function validateProbe(probe: unknown, path: FieldPath): FieldCause[] {
  const p = asObj(probe);
  if (!p) return [];
  const handlers = PROBE_HANDLERS.filter((h) => p[h] !== undefined && p[h] !== null);
  if (handlers.length === 0) return [required(path.toString(), 'must specify a handler type')];
  if (handlers.length > 1) return [forbidden(path.child(handlers[1]!).toString(), 'may not specify more than 1 handler type')];
  const causes: FieldCause[] = [];
  for (const field of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    const n = p[field];
    if (typeof n === 'number' && n < 0) causes.push(invalid(path.child(field).toString(), n, 'must be greater than or equal to 0'));
  }
  const port = asObj(p.httpGet)?.port ?? asObj(p.tcpSocket)?.port;
  const handlerPath = path.child(handlers[0]!).child('port').toString();
  if (typeof port === 'number') for (const e of portNumber(port)) causes.push(invalid(handlerPath, port, e));
  if (typeof port === 'string') for (const e of ianaServiceName(port)) causes.push(invalid(handlerPath, port, e));
  return causes;
}

/** Quantities that do not parse are reported by the schema walk; here only their relations. */
function quantityOrUndefined(value: unknown): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  try {
    return parseQuantity(value);
  } catch (err) {
    if (err instanceof QuantityError) return undefined;
    throw err;
  }
}

function validateResources(resources: unknown, path: FieldPath): FieldCause[] {
  const r = asObj(resources);
  if (!r) return [];
  const causes: FieldCause[] = [];
  const limits = asObj(r.limits) ?? {};
  const requests = asObj(r.requests) ?? {};
  for (const [kind, map] of [['limits', limits], ['requests', requests]] as const) {
    for (const [name, value] of Object.entries(map)) {
      const q = quantityOrUndefined(value);
      if (q !== undefined && q < 0) causes.push(invalid(path.child(kind).key(name).toString(), value, 'must be greater than or equal to 0'));
    }
  }
  for (const [name, requestValue] of Object.entries(requests)) {
    if (!(name in limits)) continue;
    const request = quantityOrUndefined(requestValue);
    const limit = quantityOrUndefined(limits[name]);
    if (request !== undefined && limit !== undefined && request > limit) {
      causes.push(invalid(path.child('requests').key(name).toString(), requestValue, `must be less than or equal to ${name} limit of ${String(limits[name])}`));
    }
  }
  return causes;
}

function validatePorts(ports: unknown, path: FieldPath): FieldCause[] {
  const causes: FieldCause[] = [];
  const names = new Set<string>();
  asArray(ports).forEach((raw, i) => {
    const port = asObj(raw);
    if (!port) return;
    const p = path.index(i);
    const name = asString(port.name);
    if (name) {
      for (const e of ianaServiceName(name)) causes.push(invalid(p.child('name').toString(), name, e));
      if (names.has(name)) causes.push(duplicate(p.child('name').toString(), name));
      names.add(name);
    }
    if (port.containerPort === undefined) causes.push(required(p.child('containerPort').toString()));
    else if (typeof port.containerPort === 'number') for (const e of portNumber(port.containerPort)) causes.push(invalid(p.child('containerPort').toString(), port.containerPort, e));
    if (typeof port.hostPort === 'number' && port.hostPort !== 0) for (const e of portNumber(port.hostPort)) causes.push(invalid(p.child('hostPort').toString(), port.hostPort, e));
    if (isSet(port.protocol) && !PROTOCOLS.includes(String(port.protocol))) causes.push(notSupported(p.child('protocol').toString(), port.protocol, PROTOCOLS));
  });
  return causes;
}

function validateEnv(env: unknown, path: FieldPath): FieldCause[] {
  const causes: FieldCause[] = [];
  asArray(env).forEach((raw, i) => {
    const e = asObj(raw);
    if (!e) return;
    const p = path.index(i).child('name');
    const name = asString(e.name);
    if (!name) causes.push(required(p.toString()));
    else for (const err of envVarName(name)) causes.push(invalid(p.toString(), name, err));
  });
  return causes;
}

function validateVolumeMounts(mounts: unknown, path: FieldPath, volumes: Set<string>): FieldCause[] {
  const causes: FieldCause[] = [];
  const mountPaths = new Set<string>();
  asArray(mounts).forEach((raw, i) => {
    const m = asObj(raw);
    if (!m) return;
    const p = path.index(i);
    const name = asString(m.name);
    if (!name) causes.push(required(p.child('name').toString()));
    else if (!volumes.has(name)) causes.push(notFound(p.child('name').toString(), name));
    const mountPath = asString(m.mountPath);
    if (!mountPath) causes.push(required(p.child('mountPath').toString()));
    else {
      if (mountPaths.has(mountPath)) causes.push(invalid(p.child('mountPath').toString(), mountPath, 'must be unique'));
      mountPaths.add(mountPath);
    }
  });
  return causes;
}

function validateContainer(c: Obj, path: FieldPath, names: Set<string>, volumes: Set<string>): FieldCause[] {
  const causes: FieldCause[] = [];
  const name = asString(c.name);
  if (!name) causes.push(required(path.child('name').toString()));
  else {
    for (const e of dns1123Label(name)) causes.push(invalid(path.child('name').toString(), name, e));
    if (names.has(name)) causes.push(duplicate(path.child('name').toString(), name));
    names.add(name);
  }
  if (!isSet(c.image) || (typeof c.image === 'string' && c.image.trim() === '')) causes.push(required(path.child('image').toString()));
  if (isSet(c.imagePullPolicy) && !PULL_POLICIES.includes(String(c.imagePullPolicy))) {
    causes.push(notSupported(path.child('imagePullPolicy').toString(), c.imagePullPolicy, PULL_POLICIES));
  }
  causes.push(...validatePorts(c.ports, path.child('ports')));
  causes.push(...validateEnv(c.env, path.child('env')));
  causes.push(...validateResources(c.resources, path.child('resources')));
  causes.push(...validateVolumeMounts(c.volumeMounts, path.child('volumeMounts'), volumes));
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) causes.push(...validateProbe(c[probe], path.child(probe)));
  return causes;
}

function validateTolerations(tolerations: unknown, path: FieldPath): FieldCause[] {
  const causes: FieldCause[] = [];
  asArray(tolerations).forEach((raw, i) => {
    const t = asObj(raw);
    if (!t) return;
    const p = path.index(i);
    const operator = t.operator ?? 'Equal';
    if (!TOLERATION_OPERATORS.includes(String(operator))) causes.push(notSupported(p.child('operator').toString(), operator, TOLERATION_OPERATORS));
    if (operator === 'Exists' && isSet(t.value)) causes.push(invalid(p.child('operator').toString(), t.value, "value must be empty when `operator` is 'Exists'"));
    if (!isSet(t.key) && operator !== 'Exists') causes.push(invalid(p.child('operator').toString(), operator, "operator must be Exists when `key` is empty, which means \"match all values and all keys\""));
  });
  return causes;
}

export function validatePodSpec(specValue: unknown, path: FieldPath, opts: PodSpecOptions = {}): FieldCause[] {
  const spec = asObj(specValue) ?? {};
  const causes: FieldCause[] = [];
  const { causes: volumeCauses, names: volumes } = validateVolumes(spec.volumes, path.child('volumes'));
  causes.push(...volumeCauses);

  const containerNames = new Set<string>();
  asArray(spec.initContainers).forEach((c, i) => {
    const container = asObj(c);
    if (container) causes.push(...validateContainer(container, path.child('initContainers').index(i), containerNames, volumes));
  });
  const containers = asArray(spec.containers);
  if (containers.length === 0) causes.push(required(path.child('containers').toString()));
  containers.forEach((c, i) => {
    const container = asObj(c);
    if (container) causes.push(...validateContainer(container, path.child('containers').index(i), containerNames, volumes));
  });

  const allowed = opts.restartPolicies ?? POD_RESTART_POLICIES;
  if (isSet(spec.restartPolicy) && !allowed.includes(String(spec.restartPolicy))) {
    causes.push(notSupported(path.child('restartPolicy').toString(), spec.restartPolicy, allowed));
  }
  const deadline = spec.activeDeadlineSeconds;
  if (typeof deadline === 'number' && (deadline < 1 || deadline > 2147483647)) {
    causes.push(invalid(path.child('activeDeadlineSeconds').toString(), deadline, 'must be between 1 and 2147483647, inclusive'));
  }
  const grace = spec.terminationGracePeriodSeconds;
  if (typeof grace === 'number' && grace < 0) causes.push(invalid(path.child('terminationGracePeriodSeconds').toString(), grace, 'must be greater than or equal to 0'));
  causes.push(...validateLabels(spec.nodeSelector, path.child('nodeSelector')));
  causes.push(...validateTolerations(spec.tolerations, path.child('tolerations')));
  return causes;
}

const POD_UPDATE_MESSAGE =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** Blanks out what an update may change, so the rest can be compared. */
function immutablePart(specValue: unknown, old: Obj): Obj {
  const spec: Obj = JSON.parse(JSON.stringify(asObj(specValue) ?? {})) as Obj;
  for (const list of ['containers', 'initContainers']) {
    const oldList = asArray(old[list]);
    asArray(spec[list]).forEach((c, i) => {
      const container = asObj(c);
      const oldImage = asObj(oldList[i])?.image;
      if (container && oldImage !== undefined) container.image = oldImage;
    });
  }
  spec.activeDeadlineSeconds = old.activeDeadlineSeconds;
  // Tolerations may grow: compare only the ones that existed before.
  const oldTolerations = asArray(old.tolerations).map(canonical);
  const kept = asArray(spec.tolerations).filter((t) => oldTolerations.includes(canonical(t)));
  spec.tolerations = kept.length === oldTolerations.length ? old.tolerations : asArray(spec.tolerations);
  // Upstream lets a negative grace period be corrected to 1.
  if (typeof old.terminationGracePeriodSeconds === 'number' && old.terminationGracePeriodSeconds < 0 && spec.terminationGracePeriodSeconds === 1) {
    spec.terminationGracePeriodSeconds = old.terminationGracePeriodSeconds;
  }
  for (const key of Object.keys(spec)) if (spec[key] === undefined) delete spec[key];
  return spec;
}

export function validatePodSpecUpdate(spec: unknown, oldSpec: unknown, path: FieldPath): FieldCause[] {
  const old = asObj(oldSpec) ?? {};
  const oldComparable = { ...old };
  for (const key of Object.keys(oldComparable)) if (oldComparable[key] === undefined) delete oldComparable[key];
  const causes: FieldCause[] = [];
  const newDeadline = asObj(spec)?.activeDeadlineSeconds;
  if (typeof old.activeDeadlineSeconds === 'number' && (newDeadline === undefined || (typeof newDeadline === 'number' && newDeadline > old.activeDeadlineSeconds))) {
    causes.push(invalid(path.child('activeDeadlineSeconds').toString(), newDeadline ?? null, 'must be less than or equal to previous value'));
  }
  if (canonical(immutablePart(spec, old)) !== canonical(oldComparable)) causes.push(forbidden(path.toString(), POD_UPDATE_MESSAGE));
  return causes;
}

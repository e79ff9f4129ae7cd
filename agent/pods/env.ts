// A container's environment the way the kubelet builds it: service variables, then
// envFrom, then env in order, each value able to refer to earlier ones with $(VAR).
import os from 'node:os';
import type { Container, EnvVar } from '../../protocol/kube/types.js';
import type { DesiredPod } from '../../protocol/mqtt/payloads.js';
import { parseQuantity } from '../../protocol/kube/quantity.js';

/** A reference the pod makes cannot be satisfied: status CreateContainerConfigError. */
export class ConfigError extends Error {}

export interface EnvContext {
  desired: DesiredPod;
  container: Container;
  podIP?: string;
  hostIP?: string;
  /** The API server as pods see it (KUBERNETES_SERVICE_HOST/PORT). */
  kubernetesService?: { host: string; port: number };
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/**
 * Expands $(NAME) with lookup; `$$` is a literal `$`; an unknown reference is left as
 * written, like upstream.
 */
export function expandVars(text: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch !== '$' || i + 1 >= text.length) { out += ch; continue; }
    const next = text[i + 1]!;
    if (next === '$') { out += '$'; i++; continue; }
    if (next === '(') {
      const close = text.indexOf(')', i + 2);
      if (close === -1) { out += text.slice(i); break; }
      const name = text.slice(i + 2, close);
      const value = lookup(name);
      out += value ?? `$(${name})`;
      i = close;
      continue;
    }
    out += ch;
  }
  return out;
}

export function serviceEnv(svc: { host: string; port: number } | undefined): Record<string, string> {
  if (!svc) return {};
  const p = String(svc.port);
  const url = `tcp://${svc.host}:${p}`;
  return {
    KUBERNETES_SERVICE_HOST: svc.host,
    KUBERNETES_SERVICE_PORT: p,
    KUBERNETES_SERVICE_PORT_HTTPS: p,
    KUBERNETES_PORT: url,
    [`KUBERNETES_PORT_${p}_TCP`]: url,
    [`KUBERNETES_PORT_${p}_TCP_PROTO`]: 'tcp',
    [`KUBERNETES_PORT_${p}_TCP_PORT`]: p,
    [`KUBERNETES_PORT_${p}_TCP_ADDR`]: svc.host,
  };
}

function decodeSecret(value: string): string {
  return Buffer.from(value, 'base64').toString('utf8');
}

function configMapData(ctx: EnvContext, name: string, optional: boolean | undefined): Record<string, string> | undefined {
  const data = ctx.desired.configMaps[name];
  if (!data && !optional) throw new ConfigError(`configmap "${name}" not found`);
  return data;
}

function secretData(ctx: EnvContext, name: string, optional: boolean | undefined): Record<string, string> | undefined {
  const data = ctx.desired.secrets[name];
  if (!data && !optional) throw new ConfigError(`secret "${name}" not found`);
  return data;
}

/** metadata.labels['app'] → ['labels', 'app'] */
function bracketKey(path: string, field: string): string | undefined {
  const m = new RegExp(`^metadata\\.${field}\\['(.*)'\\]$`).exec(path);
  return m ? m[1] : undefined;
}

export function fieldRefValue(ctx: EnvContext, path: string): string {
  const pod = ctx.desired.pod;
  const meta = pod.metadata;
  switch (path) {
    case 'metadata.name': return meta.name ?? '';
    case 'metadata.namespace': return meta.namespace ?? 'default';
    case 'metadata.uid': return meta.uid ?? '';
    case 'spec.nodeName': return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName': return pod.spec.serviceAccountName ?? 'default';
    case 'status.podIP': return ctx.podIP ?? '';
    case 'status.podIPs': return ctx.podIP ?? '';
    case 'status.hostIP': return ctx.hostIP ?? '';
    case 'status.hostIPs': return ctx.hostIP ?? '';
  }
  const label = bracketKey(path, 'labels');
  if (label !== undefined) return meta.labels?.[label] ?? '';
  const annotation = bracketKey(path, 'annotations');
  if (annotation !== undefined) return meta.annotations?.[annotation] ?? '';
  throw new ConfigError(`unsupported fieldPath: ${path}`);
}

export function resourceFieldValue(ctx: EnvContext, ref: { resource: string; containerName?: string; divisor?: string }): string {
  const all = [...ctx.desired.pod.spec.containers, ...(ctx.desired.pod.spec.initContainers ?? [])];
  const target = ref.containerName ? all.find((c) => c.name === ref.containerName) : ctx.container;
  if (!target) throw new ConfigError(`container "${ref.containerName}" not found for resourceFieldRef`);
  const [kind, resource] = ref.resource.split('.') as [string, string | undefined];
  if ((kind !== 'limits' && kind !== 'requests') || (resource !== 'cpu' && resource !== 'memory')) {
    throw new ConfigError(`unsupported container resource: ${ref.resource}`);
  }
  const res = target.resources ?? {};
  let text = kind === 'limits' ? res.limits?.[resource] : (res.requests?.[resource] ?? res.limits?.[resource]);
  let value: number;
  if (text !== undefined) value = parseQuantity(text);
  else if (kind === 'limits') value = resource === 'cpu' ? os.cpus().length : os.totalmem(); // no limit: the node's allocatable
  else value = 0;
  const divisor = parseQuantity(ref.divisor ?? '1');
  if (divisor <= 0) throw new ConfigError(`invalid divisor ${ref.divisor}`);
  return String(Math.ceil(value / divisor - 1e-9));
}

function valueFrom(ctx: EnvContext, v: EnvVar): string | undefined {
  const from = v.valueFrom!;
  if (from.configMapKeyRef) {
    const r = from.configMapKeyRef;
    const data = configMapData(ctx, r.name, r.optional);
    if (!data) return undefined;
    if (!(r.key in data)) {
      if (r.optional) return undefined;
      throw new ConfigError(`couldn't find key ${r.key} in ConfigMap ${ctx.desired.pod.metadata.namespace ?? 'default'}/${r.name}`);
    }
    return data[r.key];
  }
  if (from.secretKeyRef) {
    const r = from.secretKeyRef;
    const data = secretData(ctx, r.name, r.optional);
    if (!data) return undefined;
    if (!(r.key in data)) {
      if (r.optional) return undefined;
      throw new ConfigError(`couldn't find key ${r.key} in Secret ${ctx.desired.pod.metadata.namespace ?? 'default'}/${r.name}`);
    }
    return decodeSecret(data[r.key]!);
  }
  if (from.fieldRef) return fieldRefValue(ctx, from.fieldRef.fieldPath);
  if (from.resourceFieldRef) return resourceFieldValue(ctx, from.resourceFieldRef);
  return undefined;
}

/** The final environment of one container. Throws ConfigError for a missing reference. */
export function resolveEnv(ctx: EnvContext): Record<string, string> {
  const svc = serviceEnv(ctx.kubernetesService);
  const env: Record<string, string> = {};
  for (const src of ctx.container.envFrom ?? []) {
    const prefix = src.prefix ?? '';
    let data: Record<string, string> | undefined;
    if (src.configMapRef) data = configMapData(ctx, src.configMapRef.name, src.configMapRef.optional);
    else if (src.secretRef) {
      const raw = secretData(ctx, src.secretRef.name, src.secretRef.optional);
      data = raw && Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, decodeSecret(v)]));
    }
    for (const [k, v] of Object.entries(data ?? {})) {
      if (ENV_NAME.test(prefix + k)) env[prefix + k] = v; // invalid names are skipped, like upstream
    }
  }
  const lookup = (name: string) => (name in env ? env[name] : svc[name]);
  for (const v of ctx.container.env ?? []) {
    if (v.valueFrom) {
      const value = valueFrom(ctx, v);
      if (value !== undefined) env[v.name] = value;
    } else {
      env[v.name] = expandVars(v.value ?? '', lookup);
    }
  }
  return { ...svc, ...env };
}

/** command/args with $(VAR) expanded from the container's final environment. */
export function expandList(list: string[] | undefined, env: Record<string, string>): string[] | undefined {
  return list?.map((s) => expandVars(s, (n) => env[n]));
}

// k3s's registries.yaml (docs.k3s.io/installation/private-registry), read by the agent
// (pull settings for its runtime) and the controller (reading images' platforms):
// `mirrors` are endpoints tried before a registry, `configs` per-host credentials and TLS.
import { parse as parseYaml } from 'yaml';
import { DOCKER_HUB } from './image-ref.js';

export interface MirrorConfig { endpoints: string[] }
export interface HostConfig {
  auth?: { username: string; password: string };
  tls?: { caFile?: string; certFile?: string; keyFile?: string; insecureSkipVerify?: boolean };
}
export interface RegistriesConfig {
  mirrors: Record<string, MirrorConfig>;
  configs: Record<string, HostConfig>;
}

export class RegistriesConfigError extends Error {}

export function endpointHost(endpoint: string): { host: string; plainHttp: boolean } {
  const m = /^(https?):\/\/([^/]+)/i.exec(endpoint);
  if (m) return { host: m[2]!.toLowerCase(), plainHttp: m[1]!.toLowerCase() === 'http' };
  return { host: endpoint.replace(/\/.*$/, '').toLowerCase(), plainHttp: false };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Parses and checks a registries.yaml text; errors name the field. */
export function parseRegistriesConfig(text: string): RegistriesConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (err) {
    throw new RegistriesConfigError(`registries config is not YAML: ${(err as Error).message}`);
  }
  if (!isRecord(doc)) throw new RegistriesConfigError('registries config: top level must be a mapping');
  const out: RegistriesConfig = { mirrors: {}, configs: {} };
  const mirrors = doc['mirrors'] ?? {};
  if (!isRecord(mirrors)) throw new RegistriesConfigError('registries config: mirrors must be a mapping');
  for (const [name, m] of Object.entries(mirrors)) {
    if (!isRecord(m)) throw new RegistriesConfigError(`registries config: mirrors.${name} must be a mapping`);
    const ep = m['endpoint'] ?? [];
    if (!Array.isArray(ep) || ep.some((e) => typeof e !== 'string' || !e)) throw new RegistriesConfigError(`registries config: mirrors.${name}.endpoint must be a list of URLs`);
    out.mirrors[name === 'index.docker.io' ? DOCKER_HUB : name] = { endpoints: ep as string[] };
  }
  const configs = doc['configs'] ?? {};
  if (!isRecord(configs)) throw new RegistriesConfigError('registries config: configs must be a mapping');
  for (const [name, c] of Object.entries(configs)) {
    if (!isRecord(c)) throw new RegistriesConfigError(`registries config: configs.${name} must be a mapping`);
    const hc: HostConfig = {};
    const auth = c['auth'];
    if (auth !== undefined) {
      if (!isRecord(auth)) throw new RegistriesConfigError(`registries config: configs.${name}.auth must be a mapping`);
      let username = typeof auth['username'] === 'string' ? auth['username'] : '';
      let password = typeof auth['password'] === 'string' ? auth['password'] : '';
      if (typeof auth['auth'] === 'string') {
        const d = Buffer.from(auth['auth'], 'base64').toString('utf8');
        const i = d.indexOf(':');
        if (i > 0) { username = d.slice(0, i); password = d.slice(i + 1); }
      }
      if (!username) throw new RegistriesConfigError(`registries config: configs.${name}.auth needs username and password (or auth)`);
      hc.auth = { username, password };
    }
    const tls = c['tls'];
    if (tls !== undefined) {
      if (!isRecord(tls)) throw new RegistriesConfigError(`registries config: configs.${name}.tls must be a mapping`);
      const t: NonNullable<HostConfig['tls']> = {};
      for (const [k, f] of [['ca_file', 'caFile'], ['cert_file', 'certFile'], ['key_file', 'keyFile']] as const) {
        const v = tls[k];
        if (v === undefined) continue;
        if (typeof v !== 'string' || !v) throw new RegistriesConfigError(`registries config: configs.${name}.tls.${k} must be a file path`);
        t[f] = v;
      }
      if (tls['insecure_skip_verify'] !== undefined) {
        if (typeof tls['insecure_skip_verify'] !== 'boolean') throw new RegistriesConfigError(`registries config: configs.${name}.tls.insecure_skip_verify must be true or false`);
        t.insecureSkipVerify = tls['insecure_skip_verify'];
      }
      hc.tls = t;
    }
    out.configs[endpointHost(name).host] = hc;
  }
  return out;
}


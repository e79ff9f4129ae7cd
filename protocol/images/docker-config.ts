// Credentials out of docker-registry Secrets (`kubernetes.io/dockerconfigjson` with a
// `.dockerconfigjson` key, `kubernetes.io/dockercfg` with `.dockercfg`) and which of them
// apply to an image, matched like the kubelet's keyring (pkg/credentialprovider/keyring.go):
// the key's host (with `*` globs per label) and port must match, its path must be a prefix
// of the repository; the most specific keys are tried first.
import { DOCKER_HUB, parseImageRef } from './image-ref.js';

export interface RegistryCredential {
  /** The key this came from, normalised (host[:port][/path]). */
  key: string;
  username: string;
  password: string;
}

interface Entry { auth?: unknown; username?: unknown; password?: unknown }

function normalisedKey(raw: string): { host: string; path: string } | undefined {
  let s = raw.trim();
  if (!s) return undefined;
  s = s.replace(/^[a-z]+:\/\//i, '');
  const slash = s.indexOf('/');
  let host = (slash >= 0 ? s.slice(0, slash) : s).toLowerCase();
  let path = slash >= 0 ? s.slice(slash + 1).replace(/\/+$/, '') : '';
  if (host === 'index.docker.io' || host === 'registry-1.docker.io') host = DOCKER_HUB;
  // Docker Hub's legacy key is https://index.docker.io/v1/: the /v1 is an API version, not a path.
  if (host === DOCKER_HUB && (path === 'v1' || path === 'v2')) path = '';
  return { host, path };
}

function entryCredential(key: string, e: Entry): RegistryCredential | undefined {
  let username = typeof e.username === 'string' ? e.username : '';
  let password = typeof e.password === 'string' ? e.password : '';
  if (typeof e.auth === 'string' && e.auth) {
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
  }
  const k = normalisedKey(key);
  if (!k || (!username && !password)) return undefined;
  return { key: k.path ? `${k.host}/${k.path}` : k.host, username, password };
}

/**
 * Credentials in one Secret's data (base64 values, as the API stores them). Returns []
 * for a Secret that holds neither key or cannot be parsed: the kubelet ignores those too.
 */
export function credentialsOfSecret(data: Record<string, string> | undefined): RegistryCredential[] {
  if (!data) return [];
  const out: RegistryCredential[] = [];
  const parse = (b64: string | undefined): Record<string, unknown> | undefined => {
    if (!b64) return undefined;
    try {
      const v: unknown = JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
      return v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : undefined;
    } catch {
      return undefined;
    }
  };
  const json = parse(data['.dockerconfigjson']);
  const auths = json?.['auths'];
  if (auths && typeof auths === 'object') {
    for (const [k, v] of Object.entries(auths as Record<string, unknown>)) {
      const c = v && typeof v === 'object' ? entryCredential(k, v as Entry) : undefined;
      if (c) out.push(c);
    }
  }
  const cfg = parse(data['.dockercfg']);
  if (cfg) {
    for (const [k, v] of Object.entries(cfg)) {
      const c = v && typeof v === 'object' ? entryCredential(k, v as Entry) : undefined;
      if (c) out.push(c);
    }
  }
  return out;
}

function hostMatches(pattern: string, host: string): boolean {
  const [pHost, pPort = ''] = splitPort(pattern);
  const [hHost, hPort = ''] = splitPort(host);
  if (pPort !== hPort) return false;
  const pl = pHost.split('.');
  const hl = hHost.split('.');
  if (pl.length !== hl.length) return false;
  return pl.every((label, i) => globLabel(label, hl[i]!));
}

function splitPort(h: string): [string, string?] {
  const m = /^(.*?)(?::(\d+))?$/.exec(h)!;
  return m[2] ? [m[1]!, m[2]] : [m[1]!];
}

function globLabel(pattern: string, label: string): boolean {
  if (!pattern.includes('*')) return pattern === label;
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^.]*')}$`);
  return re.test(label);
}

/** Credentials that apply to an image, most specific key first; order among equals is kept. */
export function credentialsFor(image: string, creds: readonly RegistryCredential[]): RegistryCredential[] {
  const ref = parseImageRef(image);
  const matching: { c: RegistryCredential; pathLen: number; order: number }[] = [];
  creds.forEach((c, order) => {
    const k = normalisedKey(c.key);
    if (!k || !hostMatches(k.host, ref.registry)) return;
    if (k.path && ref.repository !== k.path && !ref.repository.startsWith(`${k.path}/`)) return;
    matching.push({ c, pathLen: k.path.length + (k.host.includes('*') ? 0 : 1), order });
  });
  matching.sort((a, b) => b.pathLen - a.pathLen || a.order - b.order);
  const seen = new Set<string>();
  return matching.map((m) => m.c).filter((c) => {
    const id = `${c.username}\0${c.password}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** A docker config.json body holding one credential for a registry host. */
export function dockerConfigJson(registry: string, cred: { username: string; password: string }): string {
  const auth = Buffer.from(`${cred.username}:${cred.password}`, 'utf8').toString('base64');
  return JSON.stringify({ auths: { [registry]: { auth } } });
}

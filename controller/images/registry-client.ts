// Reads an image's platforms from its registry over the distribution HTTP API v2: the
// manifest (an OCI index or Docker manifest list names its platforms; a single manifest's
// config blob says its os/architecture/variant). Auth as the registries answer a 401:
// a Bearer token from the realm they name (with basic credentials when we have them), or
// Basic directly. TLS trusts the system's roots plus the CAs we were given for the host.
import { request as httpsRequest } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { DOCKER_HUB, DOCKER_HUB_API, manifestReference, type ImageRef } from '../../protocol/images/image-ref.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  /** The image is this one manifest, not an index: some runtimes pull it whatever the node is. */
  soleManifest?: true;
}

export interface RegistryAccess {
  /** Extra CAs (PEM) trusted for this host, on top of the system's roots. */
  ca?: string[];
  /** Skip certificate checks (an insecure registry). */
  insecureSkipVerify?: boolean;
  /** Plain HTTP (an insecure registry without TLS). */
  plainHttp?: boolean;
  /** Tried in order on a 401; anonymous first when there are none. */
  credentials: { username: string; password: string }[];
  timeoutMs?: number;
}

export class RegistryError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
].join(', ');

const MAX_BODY = 4 * 1024 * 1024;

interface Response { status: number; headers: IncomingMessage['headers']; body: Buffer }

/** Registries log it: our reads are told apart from the nodes' pulls. */
export const USER_AGENT = 'pikube-controller (image platforms)';

function get(url: string, headers: Record<string, string>, access: RegistryAccess, redirects = 3): Promise<Response> {
  const u = new URL(url);
  headers = { 'User-Agent': USER_AGENT, ...headers };
  const plain = u.protocol === 'http:';
  return new Promise((resolve, reject) => {
    const opts = {
      method: 'GET', headers, timeout: access.timeoutMs ?? 10_000,
      ...(plain ? {} : { ...(access.ca?.length ? { ca: access.ca } : {}), rejectUnauthorized: !access.insecureSkipVerify }),
    };
    const req = (plain ? httpRequest : httpsRequest)(u, opts, (res) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (status >= 300 && status < 400 && location && redirects > 0) {
        res.resume();
        const next = new URL(location, u);
        // blob storage elsewhere (S3 and the like) must not get our registry token
        const h = { ...headers };
        if (next.host !== u.host) delete h['Authorization'];
        get(next.toString(), h, access, redirects - 1).then(resolve, reject);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) { req.destroy(new RegistryError(`${u.host}: response larger than ${MAX_BODY} bytes`)); return; }
        chunks.push(c);
      });
      res.on('end', () => resolve({ status, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new RegistryError(`${u.host}: no answer in ${opts.timeout} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** `Bearer realm="…",service="…"` → {scheme, params}. */
export function parseChallenge(header: string | undefined): { scheme: string; params: Record<string, string> } | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) params[p[1]!.toLowerCase()] = p[2] ?? p[3] ?? '';
  return { scheme: m[1]!.toLowerCase(), params };
}

function basic(c: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`;
}

function errorText(r: Response): string {
  try {
    const j = JSON.parse(r.body.toString('utf8')) as { errors?: { code?: string; message?: string }[] };
    const e = j.errors?.[0];
    if (e) return `${e.code ?? r.status}: ${e.message ?? ''}`.trim();
  } catch { /* not JSON */ }
  return `HTTP ${r.status}`;
}

export class RegistryClient {
  private readonly base: string;
  /** Authorization header that worked last, reused for the blob that follows. */
  private authorization?: string;

  constructor(private readonly ref: ImageRef, private readonly access: RegistryAccess) {
    const host = ref.registry === DOCKER_HUB ? DOCKER_HUB_API : ref.registry;
    this.base = `${access.plainHttp ? 'http' : 'https'}://${host}/v2/${ref.repository}`;
  }

  /** GET with the registry's auth dance; returns the final response (any status). */
  private async authed(url: string, headers: Record<string, string>): Promise<Response> {
    if (this.authorization) {
      const r = await get(url, { ...headers, Authorization: this.authorization }, this.access);
      if (r.status !== 401) return r;
    }
    let r = await get(url, headers, this.access);
    if (r.status !== 401) return r;
    const challenge = parseChallenge(r.headers['www-authenticate'] as string | undefined);
    const creds: ({ username: string; password: string } | undefined)[] = [...this.access.credentials];
    if (challenge?.scheme === 'bearer') creds.push(undefined); // an anonymous token may still read public images
    for (const c of creds) {
      let authorization: string | undefined;
      if (challenge?.scheme === 'bearer') authorization = await this.token(challenge.params, c);
      else if (c) authorization = basic(c);
      if (!authorization) continue;
      r = await get(url, { ...headers, Authorization: authorization }, this.access);
      if (r.status !== 401) {
        this.authorization = authorization;
        return r;
      }
    }
    return r;
  }

  private async token(params: Record<string, string>, c: { username: string; password: string } | undefined): Promise<string | undefined> {
    const realm = params['realm'];
    if (!realm) return undefined;
    const u = new URL(realm);
    if (params['service']) u.searchParams.set('service', params['service']);
    u.searchParams.set('scope', params['scope'] || `repository:${this.ref.repository}:pull`);
    const r = await get(u.toString(), c ? { Authorization: basic(c) } : {}, this.access);
    if (r.status !== 200) return undefined;
    try {
      const j = JSON.parse(r.body.toString('utf8')) as { token?: string; access_token?: string };
      const t = j.token ?? j.access_token;
      return t ? `Bearer ${t}` : undefined;
    } catch {
      return undefined;
    }
  }

  private async json(url: string, accept: string): Promise<{ mediaType: string; body: Record<string, unknown> }> {
    const r = await this.authed(url, { Accept: accept });
    if (r.status !== 200) throw new RegistryError(`${this.ref.registry}/${this.ref.repository}: ${errorText(r)}`, r.status);
    let body: unknown;
    try {
      body = JSON.parse(r.body.toString('utf8'));
    } catch {
      throw new RegistryError(`${this.ref.registry}/${this.ref.repository}: manifest is not JSON`);
    }
    if (!body || typeof body !== 'object') throw new RegistryError(`${this.ref.registry}/${this.ref.repository}: manifest is not an object`);
    const b = body as Record<string, unknown>;
    const mediaType = (typeof b['mediaType'] === 'string' ? b['mediaType'] : String(r.headers['content-type'] ?? '')).split(';')[0]!.trim();
    return { mediaType, body: b };
  }

  /** The platforms the image offers (attestation entries of an index left out). */
  async platforms(): Promise<Platform[]> {
    const { mediaType, body } = await this.json(`${this.base}/manifests/${manifestReference(this.ref)}`, MANIFEST_ACCEPT);
    if (Array.isArray(body['manifests'])) {
      const out: Platform[] = [];
      for (const m of body['manifests'] as Record<string, unknown>[]) {
        const p = m?.['platform'] as Record<string, unknown> | undefined;
        const annotations = m?.['annotations'] as Record<string, unknown> | undefined;
        if (!p || annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') continue;
        const os = String(p['os'] ?? '');
        const architecture = String(p['architecture'] ?? '');
        if (!os || !architecture || os === 'unknown' || architecture === 'unknown') continue;
        out.push(typeof p['variant'] === 'string' && p['variant'] ? { os, architecture, variant: p['variant'] } : { os, architecture });
      }
      return out;
    }
    if (typeof body['architecture'] === 'string' && mediaType.includes('v1+')) {
      return [{ os: 'linux', architecture: body['architecture'], soleManifest: true }]; // schema 1
    }
    const config = body['config'] as Record<string, unknown> | undefined;
    const digest = typeof config?.['digest'] === 'string' ? config['digest'] : undefined;
    if (!digest) throw new RegistryError(`${this.ref.registry}/${this.ref.repository}: manifest names no config`);
    const cfg = await this.json(`${this.base}/blobs/${digest}`, '*/*');
    const os = String(cfg.body['os'] ?? 'linux');
    const architecture = String(cfg.body['architecture'] ?? '');
    if (!architecture) throw new RegistryError(`${this.ref.registry}/${this.ref.repository}: image config names no architecture`);
    const variant = cfg.body['variant'];
    return [typeof variant === 'string' && variant ? { os, architecture, variant, soleManifest: true } : { os, architecture, soleManifest: true }];
  }
}

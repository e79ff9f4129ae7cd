// A small HTTPS client for the pikube API, for benchmarks and end-to-end tests: reads
// server, CA and token from a written kubeconfig, verifies the certificate, and keeps
// connections alive so that many requests share a few TLS sessions.
import { Agent, request } from 'node:https';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface RequestOptions {
  body?: unknown;
  /** Raw body sent as is (no JSON encoding). */
  raw?: Buffer | string;
  contentType?: string;
  accept?: string;
  /** Overrides the kubeconfig's token; `null` sends no Authorization header. */
  token?: string | null;
  timeoutMs?: number;
}

export interface KubeconfigAccess { server: string; ca: string; token: string }

export function readKubeconfig(path: string): KubeconfigAccess {
  const doc = parseYaml(readFileSync(path, 'utf8')) as {
    clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
    users: { user: { token: string } }[];
  };
  const cluster = doc.clusters[0]!.cluster;
  return {
    server: cluster.server,
    ca: Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8'),
    token: doc.users[0]!.user.token,
  };
}

export class ApiClient {
  readonly agent: Agent;
  readonly access: KubeconfigAccess;
  private readonly url: URL;

  constructor(kubeconfigPath: string, opts: { maxSockets?: number } = {}) {
    this.access = readKubeconfig(kubeconfigPath);
    this.url = new URL(this.access.server);
    this.agent = new Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 64, ca: this.access.ca });
  }

  request<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
    const payload = opts.raw !== undefined ? Buffer.from(opts.raw) : opts.body !== undefined ? Buffer.from(JSON.stringify(opts.body)) : undefined;
    const token = opts.token === undefined ? this.access.token : opts.token;
    const headers: Record<string, string | number> = { Accept: opts.accept ?? 'application/json' };
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    if (payload) {
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = payload.length;
    }
    return new Promise((resolve, reject) => {
      const req = request({
        host: this.url.hostname, port: this.url.port, path, method, headers, agent: this.agent,
        // SNI carries host names only (RFC 6066); Node warns about an address
        servername: isIP(this.url.hostname) ? undefined : this.url.hostname,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try { body = JSON.parse(text); } catch { /* not JSON: keep the text */ }
          resolve({ status: res.statusCode ?? 0, body: body as T, text, headers: res.headers });
        });
      });
      req.on('error', reject);
      if (opts.timeoutMs) req.setTimeout(opts.timeoutMs, () => req.destroy(new Error(`${method} ${path} timed out after ${opts.timeoutMs} ms`)));
      req.end(payload);
    });
  }

  get<T = any>(path: string, opts?: RequestOptions) { return this.request<T>('GET', path, opts); }
  post<T = any>(path: string, body: unknown, opts?: RequestOptions) { return this.request<T>('POST', path, { ...opts, body }); }
  put<T = any>(path: string, body: unknown, opts?: RequestOptions) { return this.request<T>('PUT', path, { ...opts, body }); }
  delete<T = any>(path: string, opts?: RequestOptions) { return this.request<T>('DELETE', path, opts); }

  close(): void { this.agent.destroy(); }
}

/** Runs `worker(i)` for i in [0, total) with at most `concurrency` in flight. */
export async function runConcurrently(total: number, concurrency: number, worker: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, total) }, async () => {
    while (next < total) {
      const i = next++;
      await worker(i);
    }
  });
  await Promise.all(lanes);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

// A small HTTPS client for end-to-end tests: the controller's API with its own CA and a
// bearer token, plus a line-by-line watch, for checks that must be fast or continuous
// (kubectl is used for everything a user would type).
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';

export interface ApiResponse<T = any> { status: number; body: T }

export interface WatchEvent<T = any> { type: string; object: T }

export interface Watch { close(): void }

export class ClusterApi {
  private readonly ca: string;
  private readonly base: URL;

  constructor(apiUrl: string, ca: string, private readonly token: string) {
    this.ca = ca;
    this.base = new URL(apiUrl);
  }

  /** The controller's own admin client from its data directory. */
  static forController(ctrl: { apiUrl: string; dir: string; token: string }): ClusterApi {
    return new ClusterApi(ctrl.apiUrl, readFileSync(join(ctrl.dir, 'pki', 'ca.crt'), 'utf8'), ctrl.token);
  }

  private open(method: string, path: string, body: unknown, contentType: string, onResponse: (res: IncomingMessage) => void, onError: (err: Error) => void, timeoutMs: number) {
    const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const req = request({
      host: this.base.hostname, port: this.base.port, path, method, ca: this.ca,
      headers: { Authorization: `Bearer ${this.token}`, Accept: 'application/json', ...(data ? { 'Content-Type': contentType, 'Content-Length': data.length } : {}) },
      timeout: timeoutMs,
    }, onResponse);
    req.on('error', onError);
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.end(data);
    return req;
  }

  call<T = any>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<ApiResponse<T>> {
    return new Promise((resolve, reject) => {
      this.open(method, path, body, contentType, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: any = text;
          try { parsed = JSON.parse(text); } catch { /* not JSON */ }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      }, reject, 20_000);
    });
  }

  async get<T = any>(path: string): Promise<T> {
    const r = await this.call<T>('GET', path);
    if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    return r.body;
  }

  /** Streams watch events to `onEvent` until closed; `onEnd` on any end or error. */
  watch<T = any>(path: string, onEvent: (e: WatchEvent<T>) => void, onEnd: (err?: Error) => void = () => undefined): Watch {
    let closed = false;
    const sep = path.includes('?') ? '&' : '?';
    const req = this.open('GET', `${path}${sep}watch=1`, undefined, '', (res) => {
      if (res.statusCode !== 200) { onEnd(new Error(`watch ${path}: ${res.statusCode}`)); res.resume(); return; }
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const line = buf.slice(0, i).trim();
          buf = buf.slice(i + 1);
          if (line) onEvent(JSON.parse(line) as WatchEvent<T>);
        }
      });
      res.on('end', () => { if (!closed) onEnd(); });
      res.on('error', (err) => { if (!closed) onEnd(err); });
    }, (err) => { if (!closed) onEnd(err); }, 0);
    return { close() { closed = true; req.destroy(); } };
  }
}

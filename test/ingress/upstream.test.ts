// The ingress proxy's upstream side against real servers on loopback: request bodies
// streamed both ways, hop-by-hop headers dropped, a pooled connection the backend closed
// is retried for an idempotent request (and only for one), a refused connection reported.
import test from 'ava';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { HOP_BY_HOP, UpstreamPools } from '../../agent/ingress/upstream.js';
import { execa } from 'execa';
import { freePort } from '../helpers/processes.js';

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer({ keepAliveTimeout: 60_000 }, handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

/** A front server that relays every request to `port` through the pools. */
async function front(pools: UpstreamPools, port: () => number) {
  return listen((req, res) => {
    const headers: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) if (!HOP_BY_HOP.has(req.rawHeaders[i]!.toLowerCase())) headers.push(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    pools.forward(req, res, { ip: '127.0.0.1', port: port() }, headers, (err) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String((err as NodeJS.ErrnoException).code));
    });
  });
}

function send(port: number, opts: { method?: string; path?: string; body?: Buffer; agent?: http.Agent }): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path ?? '/', agent: opts.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    if (opts.body) {
      // in pieces, with no length given: the request goes chunked all the way
      for (let i = 0; i < opts.body.length; i += 65536) req.write(opts.body.subarray(i, i + 65536));
    }
    req.end();
  });
}

test('a chunked request body streams to the backend and the answer back; hop-by-hop and Connection-named headers are dropped', async (t) => {
  const pools = new UpstreamPools();
  const backend = await listen((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => { n += c.length; });
    req.on('end', () => {
      res.writeHead(200, { connection: 'keep-alive, x-hop', 'x-hop': 'mine', 'keep-alive': 'timeout=60', 'x-end': 'kept' });
      res.end(`${req.method} ${req.headers['transfer-encoding']} ${n}`);
    });
  });
  const proxy = await front(pools, () => backend.port);
  try {
    const r = await send(proxy.port, { method: 'POST', body: Buffer.alloc(1024 * 1024, 7) });
    t.is(r.status, 200);
    t.is(r.body, `POST chunked ${1024 * 1024}`);
    t.is(r.headers['x-end'], 'kept');
    t.is(r.headers['x-hop'], undefined);
    t.not(r.headers['keep-alive'], 'timeout=60');
  } finally {
    proxy.server.close();
    backend.server.closeAllConnections();
    backend.server.close();
    await pools.close();
  }
});

test('a pooled connection the backend dropped: GET is sent again on a new one, POST is not', async (t) => {
  const pools = new UpstreamPools();
  const served = new WeakMap<Socket, number>();
  let connections = 0;
  let dropped = 0;
  let posts = 0;
  // Every second request on a connection finds it closed, as when a backend's idle timeout
  // ends a keep-alive connection just as the proxy reuses it; a POST always does.
  const backend = await listen((req, res) => {
    if (req.method === 'POST') { posts++; req.socket.destroy(); return; }
    const n = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, n);
    if (n >= 2) { dropped++; req.socket.destroy(); return; }
    req.resume();
    req.on('end', () => res.end(`ok ${req.method}`));
  });
  backend.server.on('connection', () => connections++);
  const proxy = await front(pools, () => backend.port);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  // The pool checks an idle connection for a pending close before it reuses it: give it time to be idle.
  const idle = () => new Promise((r) => setTimeout(r, 100));
  try {
    t.is((await send(proxy.port, { agent })).body, 'ok GET');
    await idle();
    const again = await send(proxy.port, { agent });
    t.is(again.status, 200, 'the dropped connection is invisible to the client');
    t.is(again.body, 'ok GET');
    t.is(dropped, 1);
    t.is(connections, 2);
    await idle();
    const post = await send(proxy.port, { agent, method: 'POST', body: Buffer.from('once') });
    t.is(posts, 1);
    t.is(post.status, 502, 'a request with a body may have had an effect: it is not sent twice');
    t.regex(post.body, /UND_ERR_SOCKET|ECONNRESET|EPIPE/);
  } finally {
    agent.destroy();
    proxy.server.closeAllConnections();
    proxy.server.close();
    backend.server.closeAllConnections();
    backend.server.close();
    await pools.close();
  }
});

test('a refused connection is reported, not retried forever; pools of endpoints that left are closed', async (t) => {
  const pools = new UpstreamPools();
  const closed = await freePort();
  const proxy = await front(pools, () => closed);
  try {
    const r = await send(proxy.port, {});
    t.is(r.status, 502);
    t.is(r.body, 'ECONNREFUSED');
    pools.retain([]);
    t.is((await send(proxy.port, {})).body, 'ECONNREFUSED', 'a new pool is made when the endpoint is asked for again');
  } finally {
    proxy.server.close();
    await pools.close();
  }
});

test('the HTTP client is loaded only once the proxy has a route', async (t) => {
  // A fresh process: this file's own imports already loaded it here.
  const script = `
    import { createRequire } from 'node:module';
    import { IngressProxy } from ${JSON.stringify(new URL('../../agent/ingress/ingress-proxy.js', import.meta.url).href)};
    const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/node_modules/undici/'));
    const log = { info() {}, warn() {}, debug() {}, error() {} };
    const proxy = new IngressProxy({ nodeName: 'n', certDir: '/nonexistent', address: '127.0.0.1', httpPort: 0, httpsPort: 0, log });
    const before = loaded();
    proxy.setRoutes({ generation: 1, ingresses: [{ namespace: 'default', name: 'a', rules: [{ host: 'a.example', paths: [{ path: '/', pathType: 'Prefix', backend: { namespace: 'default', service: 's', port: { number: 80 } } }] }], tls: [] }], certificates: [] });
    await new Promise((r) => setTimeout(r, 500));
    console.log(JSON.stringify({ before, after: loaded() }));`;
  const r = await execa(process.execPath, ['--input-type=module', '-e', script]);
  t.deepEqual(JSON.parse(r.stdout), { before: false, after: true });
});

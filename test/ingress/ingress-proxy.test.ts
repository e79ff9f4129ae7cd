// The ingress proxy end to end: a real controller, a real agent with its ingress proxy on
// free loopback ports, stock kubectl, and backend servers on loopback that selector-less
// Services point at through their Endpoints. Routing by host and path, X-Forwarded-*,
// the 404/503 pages, WebSockets and streamed responses, TLS by SNI from Secrets, the
// https redirect, Ingress status, Table columns, protobuf from `kubectl create ingress`,
// and how fast a deletion reaches the proxy.
import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { ingressRequest, peerCertificate, selfSignedCert } from './ingress-client.js';
import { DEFAULT_CERT_CN } from '../../agent/ingress/default-certificate.js';
import { freePort, kubectl, removeDir, startAgent, startController, waitFor, type AgentHandle, type ControllerHandle, type Kubectl } from '../helpers/processes.js';

let ctrl: ControllerHandle | undefined;
let agent: AgentHandle | undefined;
let k: Kubectl;
let httpPort = 0;
let httpsPort = 0;
const servers: http.Server[] = [];
let work: string;

/** A backend that answers with who it is and what it was sent; `/stream` sends two chunks, the second only once asked to. */
const releases: (() => void)[] = [];
async function backend(name: string): Promise<number> {
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      releases.push(() => res.end('data: second\n\n'));
      return;
    }
    const body = JSON.stringify({ server: name, url: req.url, headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name });
    res.end(body);
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => ws.on('message', (m) => ws.send(`${name} echo ${m.toString()} via ${req.headers['x-forwarded-host']}`)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

/** A selector-less Service whose one endpoint is a loopback server. */
async function loopbackService(name: string, port: number): Promise<void> {
  await apply({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ name: 'http', port: 80, targetPort: port }] } });
  await apply({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name }, subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'http', port }] }] });
}

async function apply(obj: object): Promise<void> {
  await k(['apply', '-f', '-'], { input: JSON.stringify(obj) });
}

const request = (host: string, path: string, opts: { secure?: boolean; headers?: Record<string, string>; ca?: string } = {}) =>
  ingressRequest({ host: '127.0.0.1', port: opts.secure ? httpsPort : httpPort }, host, path, opts);
const served = async (host: string, path: string) => {
  const a = await request(host, path).catch(() => undefined);
  return a?.status === 200 ? (JSON.parse(a.body) as { server: string; url: string; headers: Record<string, string> }) : undefined;
};

const ruleFor = (host: string, path: string, pathType: string, service: string, port: object) =>
  ({ host, http: { paths: [{ path, pathType, backend: { service: { name: service, port } } }] } });

test.before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pikube-ingress-'));
  ctrl = await startController();
  k = kubectl(ctrl.kubeconfig);
  httpPort = await freePort();
  httpsPort = await freePort();
  agent = startAgent(ctrl, {
    nodeName: 'edge-1',
    args: ['--ingress', 'on', '--ingress-address', '127.0.0.1', '--ingress-http-port', String(httpPort), '--ingress-https-port', String(httpsPort), '--heartbeat-interval', '1s'],
  });
  await waitFor('node Ready with its ingress proxy on', async () => {
    const r = await k(['get', 'node', 'edge-1', '-o', 'json'], { reject: false });
    if (r.exitCode !== 0) return false;
    const n = JSON.parse(r.stdout);
    return n.metadata.labels?.['node.pikube.io/ingress-proxy'] === 'on' && n.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
  }, 30_000);
  await loopbackService('alpha', await backend('alpha'));
  await loopbackService('beta', await backend('beta'));
});

test.after.always(async () => {
  for (const s of servers) s.closeAllConnections(), s.close();
  await agent?.stop().catch(() => undefined);
  await ctrl?.kill();
  if (ctrl) removeDir(ctrl.dir);
  if (agent) removeDir(agent.dir);
  if (k) removeDir(k.home);
  if (work) removeDir(work);
});

test.serial('the default class pikube; kubectl create ingress (protobuf) is routed by host and path with X-Forwarded-*', async (t) => {
  const classes = JSON.parse((await k(['get', 'ingressclass', '-o', 'json'])).stdout).items;
  t.is(classes.length, 1);
  t.is(classes[0].metadata.name, 'pikube');
  t.is(classes[0].metadata.annotations['ingressclass.kubernetes.io/is-default-class'], 'true');
  t.regex((await k(['get', 'ingressclass'])).stdout, /^NAME\s+CONTROLLER\s+PARAMETERS\s+AGE\npikube\s+pikube\.io\/ingress\s+<none>\s+/);

  // kubectl's typed create: "/*" is a Prefix path, anything else Exact
  await k(['create', 'ingress', 'app', '--rule=app.home.lan/*=alpha:80', '--rule=app.home.lan/api=beta:http']);
  const ing = JSON.parse((await k(['get', 'ingress', 'app', '-o', 'json'])).stdout);
  t.is(ing.spec.ingressClassName, 'pikube', 'the default class is filled in');
  t.deepEqual(ing.spec.rules[0].http.paths.map((p: { path: string; pathType: string }) => `${p.path} ${p.pathType}`), ['/ Prefix', '/api Exact']);

  const root = await waitFor('app.home.lan routed', () => served('app.home.lan', '/photos?x=1'), 5000, 50);
  t.is(root.server, 'alpha');
  t.is(root.url, '/photos?x=1');
  t.is((await served('app.home.lan', '/api'))?.server, 'beta', 'Exact /api by port name');
  t.is((await served('app.home.lan', '/api/more'))?.server, 'alpha', 'Exact does not take sub-paths');

  const fwd = (await served('App.Home.Lan', '/'))!.headers;
  t.is(fwd['x-forwarded-host'], 'App.Home.Lan');
  t.is(fwd['x-forwarded-proto'], 'http');
  t.is(fwd['x-forwarded-port'], String(httpPort));
  t.is(fwd['x-forwarded-for'], '127.0.0.1');
  t.is(fwd['x-real-ip'], '127.0.0.1');
  const spoofed = await request('app.home.lan', '/', { headers: { 'X-Forwarded-For': '6.6.6.6', 'X-Forwarded-Proto': 'https' } });
  t.is(JSON.parse(spoofed.body).headers['x-forwarded-for'], '127.0.0.1', 'a client cannot forge X-Forwarded-For');
  t.is(JSON.parse(spoofed.body).headers['x-forwarded-proto'], 'http');

  const status = await waitFor('Ingress status lists the node', async () => {
    const o = JSON.parse((await k(['get', 'ingress', 'app', '-o', 'json'])).stdout);
    return o.status?.loadBalancer?.ingress?.length ? o.status.loadBalancer.ingress : false;
  }, 15_000);
  const node = JSON.parse((await k(['get', 'node', 'edge-1', '-o', 'json'])).stdout);
  t.deepEqual(status.map((i: { ip: string }) => i.ip), node.status.addresses.filter((a: { type: string }) => a.type === 'InternalIP').map((a: { address: string }) => a.address));
  const table = (await k(['get', 'ingress', 'app'])).stdout.split('\n');
  t.regex(table[0]!, /^NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE$/);
  t.regex(table[1]!, /^app\s+pikube\s+app\.home\.lan\s+\S+\s+80\s+/);
});

test.serial('404 and 503 pages say which rule matched nothing', async (t) => {
  const unknown = await request('nope.home.lan', '/');
  t.is(unknown.status, 404);
  t.regex(unknown.body, /No Ingress rule routes nope\.home\.lan\/\./);
  t.regex(unknown.body, /no Ingress rule matches host nope\.home\.lan/);
  t.regex(unknown.body, /node edge-1/);

  await apply({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'broken' }, spec: { rules: [
    ruleFor('broken.home.lan', '/', 'Prefix', 'ghost', { number: 80 }),
    ruleFor('noport.home.lan', '/', 'Prefix', 'alpha', { number: 81 }),
    { host: 'paths.home.lan', http: { paths: [{ path: '/only', pathType: 'Exact', backend: { service: { name: 'alpha', port: { number: 80 } } } }] } },
  ] } });
  const ghost = await waitFor('the broken Ingress is served', async () => { const a = await request('broken.home.lan', '/'); return a.status === 503 ? a : false; }, 5000, 50);
  t.regex(ghost.body, /Ingress default\/broken rule host=broken\.home\.lan path=\/ \(Prefix\) matched this request/);
  t.regex(ghost.body, /service default\/ghost does not exist/);
  const html = await request('noport.home.lan', '/', { headers: { accept: 'text/html' } });
  t.is(html.status, 503);
  t.regex(String(html.headers['content-type']), /text\/html/);
  t.regex(html.body, /service default\/alpha has no TCP port 81/);
  const path = await request('paths.home.lan', '/other');
  t.is(path.status, 404);
  t.regex(path.body, /the host paths\.home\.lan has rules, but no path matches \/other: \/only \(Exact, Ingress default\/broken\)/);
  await k(['delete', 'ingress', 'broken']);
});

test.serial('WebSockets and streamed responses pass through', async (t) => {
  await apply({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'live' }, spec: { rules: [ruleFor('live.home.lan', '/', 'Prefix', 'beta', { number: 80 })] } });
  await waitFor('live.home.lan routed', () => served('live.home.lan', '/'), 5000, 50);

  const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/socket`, { headers: { host: 'live.home.lan' } });
  const reply = await new Promise<string>((resolve, reject) => {
    ws.on('open', () => ws.send('ping'));
    ws.on('message', (m) => resolve(m.toString()));
    ws.on('error', reject);
  });
  t.is(reply, 'beta echo ping via live.home.lan');
  ws.close();

  // The second event is sent only after the first arrived through the proxy: nothing is held back.
  const events = await new Promise<string[]>((resolve, reject) => {
    const got: string[] = [];
    http.get({ host: '127.0.0.1', port: httpPort, path: '/stream', headers: { host: 'live.home.lan' }, agent: false }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        got.push(d.trim());
        if (got.length === 1) void waitFor('stream open at the backend', () => releases.length > 0, 3000, 10).then(() => releases.shift()!());
      });
      res.on('end', () => resolve(got));
    }).on('error', reject);
  });
  t.deepEqual(events, ['data: first', 'data: second']);
  await k(['delete', 'ingress', 'live']);
});

const peer = (name: string | undefined, ca: string) => peerCertificate({ host: '127.0.0.1', port: httpsPort }, name, ca);

test.serial('TLS from Secrets by SNI, verified against the Secret\'s certificate; redirect to https by annotation', async (t) => {
  const a = await selfSignedCert(work, 'secure.home.lan');
  const b = await selfSignedCert(work, 'other.home.lan');
  for (const [name, c] of [['secure-tls', a], ['other-tls', b]] as const) await k(['create', 'secret', 'tls', name, `--cert=${c.certFile}`, `--key=${c.keyFile}`]);
  await apply({
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
    metadata: { name: 'secure', annotations: { 'ingress.pikube.io/ssl-redirect': 'true' } },
    spec: {
      tls: [{ hosts: ['secure.home.lan'], secretName: 'secure-tls' }, { hosts: ['other.home.lan'], secretName: 'other-tls' }],
      rules: [ruleFor('secure.home.lan', '/', 'Prefix', 'alpha', { number: 80 }), ruleFor('other.home.lan', '/', 'Prefix', 'beta', { name: 'http' })],
    },
  });
  const first = await waitFor('secure.home.lan answers over TLS', () => peer('secure.home.lan', a.cert).catch(() => undefined), 5000, 50);
  t.deepEqual(first, { authorized: true, cn: 'secure.home.lan' });
  t.deepEqual(await peer('other.home.lan', b.cert), { authorized: true, cn: 'other.home.lan' });
  // A name no Ingress has, and no name at all: the node's self-signed default certificate,
  // which verifies for no one; the request after the handshake is still routed by Host.
  const fallback = await peer('unknown.home.lan', a.cert);
  t.deepEqual(fallback, { authorized: false, cn: DEFAULT_CERT_CN });
  t.deepEqual(await peer(undefined, a.cert), fallback);
  const noSni = await ingressRequest({ host: '127.0.0.1', port: httpsPort }, 'secure.home.lan', '/', { secure: true, sni: false });
  t.is(JSON.parse(noSni.body).server, 'alpha');
  t.is((await ingressRequest({ host: '127.0.0.1', port: httpsPort }, 'nobody.home.lan', '/', { secure: true, sni: false })).status, 404);
  // kept with the node's data, so a restart shows clients the same certificate
  const kept = readFileSync(join(agent!.dir, 'ingress', 'default.crt'), 'utf8');
  t.is(new X509Certificate(kept).subject, `CN=${DEFAULT_CERT_CN}`);

  const over = await request('secure.home.lan', '/page?q=1', { secure: true, ca: a.cert });
  t.is(over.status, 200);
  const seen = JSON.parse(over.body);
  t.is(seen.server, 'alpha');
  t.is(seen.headers['x-forwarded-proto'], 'https');
  t.is(seen.headers['x-forwarded-port'], String(httpsPort));
  t.is(JSON.parse((await request('other.home.lan', '/', { secure: true, ca: b.cert })).body).server, 'beta');

  const plain = await request('secure.home.lan', '/page?q=1');
  t.is(plain.status, 308);
  t.is(plain.headers.location, `https://secure.home.lan:${httpsPort}/page?q=1`);
  t.regex((await k(['get', 'ingress', 'secure'])).stdout, /secure\.home\.lan,other\.home\.lan\s+\S+\s+80, 443/);
});

test.serial('a deleted Ingress stops routing within 1 s', async (t) => {
  const created = Date.now();
  await apply({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'brief' }, spec: { rules: [ruleFor('brief.home.lan', '/', 'Prefix', 'alpha', { number: 80 })] } });
  const applied = Date.now();
  await waitFor('brief.home.lan routed', () => served('brief.home.lan', '/'), 5000, 10);
  t.log(`kubectl apply took ${applied - created} ms; routed ${Date.now() - applied} ms after it returned`);
  // straight to the API: the time kubectl takes to start is not the proxy's
  const status = await new Promise<number>((resolve) => {
    const req = https.request(`${ctrl!.apiUrl}/apis/networking.k8s.io/v1/namespaces/default/ingresses/brief`, {
      method: 'DELETE', rejectUnauthorized: false, headers: { authorization: `Bearer ${ctrl!.token}` },
    }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    req.on('error', () => resolve(0));
    req.end();
  });
  t.is(status, 200);
  const deleted = Date.now();
  await waitFor('brief.home.lan gone', async () => (await request('brief.home.lan', '/')).status === 404, 5000, 10);
  const took = Date.now() - deleted;
  t.log(`deleted → 404: ${took} ms`);
  t.true(took <= 1000, `route removed in ${took} ms`);
});

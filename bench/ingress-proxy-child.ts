// One process of the ingress proxy comparison (bench/ingress-proxies-bench.ts):
//   node ingress-proxy-child.js backend PORT
//   node ingress-proxy-child.js pikube|http-proxy-3 PORT BACKEND_PORT
// Both proxies route with the node's own route table and Service resolution, so only the
// way a request is relayed to the backend differs. Prints "ready" once listening.
import http from 'node:http';
import type { IngressPayload } from '../protocol/mqtt/ingress-payload.js';
import type { ServiceRoutingPayload } from '../protocol/mqtt/payloads.js';
import { IngressProxy } from '../agent/ingress/ingress-proxy.js';
import { RouteTable } from '../agent/ingress/route-table.js';
import { BackendResolver } from '../agent/ingress/backends.js';

const [kind, portText, backendText] = process.argv.slice(2);
const port = Number(portText), backendPort = Number(backendText);
process.on('SIGTERM', () => process.exit(0));

const services: ServiceRoutingPayload = {
  generation: 1,
  services: [{
    namespace: 'default', name: 'web', type: 'ClusterIP', headless: false, sessionAffinity: 'None', externalTrafficPolicy: 'Cluster', loadBalancerIPs: [],
    ports: [{ protocol: 'TCP', port: 80, endpoints: [{ ip: '127.0.0.1', port: backendPort, ready: true }] }],
  }],
};
const routes: IngressPayload = {
  generation: 1, certificates: [],
  ingresses: [{
    namespace: 'default', name: 'web', created: '2026-01-01T00:00:00Z', sslRedirect: false, tlsHosts: [],
    rules: [{ host: 'bench.home.lan', paths: [{ path: '/', pathType: 'Prefix', backend: { namespace: 'default', service: 'web', port: { number: 80 } } }] }],
  }],
};

if (kind === 'backend') {
  http.createServer((_q, s) => s.end('hello from backend\n')).listen(port, '127.0.0.1', () => console.log('ready'));
} else if (kind === 'pikube') {
  const quiet = () => undefined;
  const proxy = new IngressProxy({ nodeName: 'bench', address: '127.0.0.1', httpPort: port, httpsPort: 0, log: { info: quiet, warn: quiet } });
  await proxy.start();
  proxy.setServices(services);
  proxy.setRoutes(routes);
  console.log('ready');
} else if (kind === 'http-proxy-3') {
  const { createProxyServer } = await import('http-proxy-3');
  const table = new RouteTable(routes);
  const backends = new BackendResolver();
  backends.setServices(services);
  const proxy = createProxyServer({ agent: new http.Agent({ keepAlive: true, maxSockets: Infinity }), xfwd: true });
  proxy.on('error', (_err, _req, res) => {
    if (res instanceof http.ServerResponse && !res.headersSent) res.writeHead(502);
    res.end();
  });
  http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, noDelay: true }, (req, res) => {
    const m = table.match(req.headers.host, req.url ?? '/');
    const r = m.kind === 'route' ? backends.resolve(m.entry.backend) : undefined;
    if (!r?.ok) { res.writeHead(404); res.end(); return; }
    proxy.web(req, res, { target: `http://${r.ip}:${r.port}` });
  }).listen(port, '127.0.0.1', () => console.log('ready'));
} else {
  console.error(`unknown kind ${kind}`);
  process.exit(2);
}

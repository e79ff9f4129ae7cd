/**
 * Real kubectl against a tiny local HTTP server that serves discovery and the OpenAPI
 * documents: `explain` must render from the schemas, and `create -f` with the default
 * strict validation must send fieldValidation=Strict (and nothing more is checked
 * client-side).
 */
import test from 'ava';
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openapiV3Document, openapiV3Index } from '../../controller/apiserver/openapi.js';
import { SERVED } from './served-kinds.js';

const requests: string[] = [];

function discovery(url: URL): unknown {
  const p = url.pathname;
  if (p === '/version') return { major: '1', minor: '32', gitVersion: 'v1.32.0', platform: 'linux/arm64' };
  if (p === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
  if (p === '/apis') {
    const groups = [...new Set(SERVED.filter((k) => k.group).map((k) => `${k.group}/${k.version}`))].map((gv) => {
      const [name, version] = gv.split('/');
      return { name, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } };
    });
    return { kind: 'APIGroupList', apiVersion: 'v1', groups };
  }
  const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(p);
  if (m) {
    const group = m[2] ?? '';
    const version = m[1] ?? m[3]!;
    const resources = SERVED.filter((k) => k.group === group && k.version === version).map((k) => ({
      name: k.resource, singularName: k.kind.toLowerCase(), namespaced: k.namespaced, kind: k.kind,
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    }));
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
  }
  if (p === '/openapi/v3') return openapiV3Index(SERVED);
  if (p.startsWith('/openapi/v3/')) return openapiV3Document(SERVED, p.slice('/openapi/v3/'.length));
  return undefined;
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  requests.push(`${req.method} ${url.pathname}${url.search}`);
  let body = '';
  for await (const chunk of req) body += String(chunk);
  if (req.method === 'POST' && url.pathname === '/api/v1/namespaces/default/configmaps') {
    const obj = JSON.parse(body) as { metadata: Record<string, unknown> };
    obj.metadata.uid = 'u1';
    obj.metadata.resourceVersion = '2';
    res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(obj));
    return;
  }
  const found = req.method === 'GET' ? discovery(url) : undefined;
  if (found === undefined) {
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' }));
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(found));
}

const server = createServer((req, res) => void handle(req, res));
const home = mkdtempSync(path.join(tmpdir(), 'pikube-kubectl-'));
let serverUrl = '';

test.before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.after.always(() => {
  server.close();
  rmSync(home, { recursive: true, force: true });
});

function kubectl(...args: string[]) {
  return execa('kubectl', [`--server=${serverUrl}`, `--cache-dir=${path.join(home, 'cache')}`, ...args], {
    env: { HOME: home, KUBECONFIG: path.join(home, 'none') },
    extendEnv: true,
    reject: false,
    timeout: 60_000,
  });
}

test.serial('kubectl explain renders fields from the served schemas', async (t) => {
  const out = await kubectl('explain', 'pod.spec.containers');
  t.is(out.exitCode, 0, out.stderr);
  t.regex(out.stdout, /KIND:\s+Pod/);
  t.regex(out.stdout, /FIELD:\s+containers <\[\]Container>/);
  t.regex(out.stdout, /imagePullPolicy\s+<string>/);
  t.regex(out.stdout, /name\s+<string> -required-/);
  const deploy = await kubectl('explain', 'deployment.spec.strategy');
  t.is(deploy.exitCode, 0, deploy.stderr);
  t.regex(deploy.stdout, /GROUP:\s+apps/);
  t.regex(deploy.stdout, /rollingUpdate\s+<RollingUpdateDeployment>/);
});

test.serial('kubectl create sends fieldValidation=Strict after reading the documents', async (t) => {
  const file = path.join(home, 'cm.yaml');
  writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: default\ndata:\n  a: b\n');
  const out = await kubectl('create', '-f', file);
  t.is(out.exitCode, 0, out.stderr);
  t.regex(out.stdout, /configmap\/cfg created/);
  t.true(requests.some((r) => r.startsWith('GET /openapi/v3/api/v1?hash=')), requests.join('\n'));
  const post = requests.find((r) => r.startsWith('POST /api/v1/namespaces/default/configmaps'));
  t.truthy(post, requests.join('\n'));
  t.regex(post!, /fieldValidation=Strict/);
});

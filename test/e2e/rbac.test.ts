// Least privilege, tried as an attacker and as a user would: a real controller and agent,
// stock kubectl (which sends protobuf for `create role` and friends), curl with bare tokens,
// client-certificate users from `pikube user add`, and the join path of a second agent.
import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { CLI, kubectl, removeDir, startAgent, startController, waitFor, type AgentHandle, type ControllerHandle, type Kubectl } from '../helpers/processes.js';

let ctrl: ControllerHandle;
let agent: AgentHandle;
let k: Kubectl;
let dir: string;
let audit: string;
const extra: AgentHandle[] = [];
const NODE = 'rbac-pi-1';

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pikube-rbac-'));
  audit = join(dir, 'audit.log');
  ctrl = await startController({ dir, args: ['--audit-log', audit, '--service-account-max-token-expiration', '2h'] });
  k = kubectl(ctrl.kubeconfig);
  agent = startAgent(ctrl, { nodeName: NODE });
  await waitFor(`node ${NODE} Ready`, async () => / Ready /.test((await k(['get', 'node', NODE, '--no-headers'], { reject: false })).stdout), 60_000, 300);
  await k(['create', 'namespace', 'lowpriv']);
  await k(['create', 'namespace', 'other']);
  await k(['-n', 'other', 'create', 'secret', 'generic', 'topsecret', '--from-literal=k=v']);
  await waitFor('default ServiceAccount in lowpriv', async () => (await k(['-n', 'lowpriv', 'get', 'sa', 'default'], { reject: false })).exitCode === 0, 20_000);
});

test.after.always(async () => {
  for (const a of [agent, ...extra]) await a?.kill();
  await ctrl?.kill();
  for (const d of [dir, agent?.dir, ...extra.map((a) => a.dir), k?.home]) if (d) removeDir(d);
});

async function curl(token: string | undefined, path: string, method = 'GET', extraArgs: string[] = []): Promise<{ code: string; body: any }> {
  const r = await execa('curl', ['-sk', '-w', '\n%{http_code}', '-X', method, ...(token ? ['-H', `Authorization: Bearer ${token}`] : []), ...extraArgs, `${ctrl.apiUrl}${path}`], { reject: false });
  const i = r.stdout.lastIndexOf('\n');
  const text = r.stdout.slice(0, i);
  let parsed: any = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { code: r.stdout.slice(i + 1), body: parsed };
}

const pikube = (args: string[]) => execa(process.execPath, [CLI, ...args], { reject: false });

async function userKubeconfig(name: string, groups: string[] = []): Promise<Kubectl> {
  const r = await pikube(['user', 'add', name, ...groups.flatMap((g) => ['--group', g]), '--data-dir', ctrl.dir]);
  if (r.exitCode !== 0) throw new Error(r.stderr);
  const path = join(dir, `${name}.kubeconfig`);
  writeFileSync(path, r.stdout, { mode: 0o600 });
  return kubectl(path);
}

test.serial('a service-account token gets 403 with upstream wording outside its rights, and still authenticates', async (t) => {
  const sa = (await k(['-n', 'lowpriv', 'create', 'token', 'default'])).stdout.trim();
  const secret = await curl(sa, '/api/v1/namespaces/other/secrets/topsecret');
  t.is(secret.code, '403');
  t.is(secret.body.reason, 'Forbidden');
  t.is(secret.body.message, 'secrets "topsecret" is forbidden: User "system:serviceaccount:lowpriv:default" cannot get resource "secrets" in API group "" in the namespace "other"');
  t.deepEqual(secret.body.details, { name: 'topsecret', kind: 'secrets' });
  const del = await curl(sa, `/api/v1/nodes/${NODE}`, 'DELETE');
  t.is(del.code, '403');
  t.is(del.body.message, `nodes "${NODE}" is forbidden: User "system:serviceaccount:lowpriv:default" cannot delete resource "nodes" in API group "" at the cluster scope`);
  t.is((await k(['get', 'node', NODE, '--no-headers'])).exitCode, 0);
  const list = await curl(sa, '/apis/apps/v1/deployments');
  t.is(list.body.message, 'deployments.apps is forbidden: User "system:serviceaccount:lowpriv:default" cannot list resource "deployments" in API group "apps" at the cluster scope');
  t.is((await curl(sa, '/api')).code, '200');
  t.is((await curl(sa, '/version')).code, '200');
  t.is((await curl(sa, '/metrics')).code, '403');
  t.is((await curl(`${sa}x`, '/api')).code, '401');
});

test.serial('kubectl auth can-i answers for admin, a view user and a default service account; --list prints rules', async (t) => {
  t.is((await k(['auth', 'can-i', 'delete', 'nodes'])).stdout.trim(), 'yes');
  const no = await k(['auth', 'can-i', 'get', 'secrets', '-n', 'other', '--as=system:serviceaccount:lowpriv:default'], { reject: false });
  t.is(no.stdout.trim(), 'no');
  t.is(no.exitCode, 1);
  t.regex((await k(['auth', 'can-i', '--list'])).stdout, /\*\.\*\s+\[\]\s+\[\]\s+\[\*\]/);
  const viewer = await userKubeconfig('viewer');
  await k(['create', 'clusterrolebinding', 'viewer-view', '--clusterrole=view', '--user=viewer']);
  t.is((await viewer(['auth', 'can-i', 'list', 'pods', '-n', 'other'])).stdout.trim(), 'yes');
  t.is((await viewer(['auth', 'can-i', 'get', 'secrets', '-n', 'other'], { reject: false })).stdout.trim(), 'no');
  t.is((await viewer(['auth', 'can-i', 'delete', 'pods', '-n', 'other'], { reject: false })).stdout.trim(), 'no');
  const whoami = await viewer(['auth', 'whoami', '-o', 'json']);
  t.is(JSON.parse(whoami.stdout).status.userInfo.username, 'viewer');
  const listed = (await viewer(['auth', 'can-i', '--list', '-n', 'other'])).stdout;
  t.regex(listed, /^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
  t.notRegex(listed, /^secrets\s/m);
  // kubectl get works with the certificate; deleting does not.
  t.is((await viewer(['get', 'pods', '-A'])).exitCode, 0);
  const denied = await viewer(['-n', 'other', 'delete', 'secret', 'topsecret'], { reject: false });
  t.regex(denied.stderr, /Error from server \(Forbidden\): secrets "topsecret" is forbidden: User "viewer" cannot delete resource "secrets"/);
  t.is((await k(['-n', 'other', 'get', 'secret', 'topsecret'])).exitCode, 0);
});

test.serial('impersonation is itself checked: a viewer cannot act as admin; admin may act as anyone', async (t) => {
  const viewer = await userKubeconfig('viewer2');
  const as = await viewer(['get', 'secrets', '-n', 'other', '--as=admin', '--as-group=system:masters'], { reject: false });
  t.regex(as.stderr, /Forbidden/);
  t.notRegex(as.stdout, /topsecret/);
  // The same request with the certificate, as curl sends it: the refusal names the impersonation.
  const kc = readFileSync(join(dir, 'viewer2.kubeconfig'), 'utf8');
  const pemOf = (field: string) => Buffer.from(new RegExp(`${field}: (\\S+)`).exec(kc)![1]!, 'base64').toString();
  writeFileSync(join(dir, 'v2.crt'), pemOf('client-certificate-data'));
  writeFileSync(join(dir, 'v2.key'), pemOf('client-key-data'), { mode: 0o600 });
  const r = await curl(undefined, '/api/v1/namespaces/other/secrets', 'GET', ['--cert', join(dir, 'v2.crt'), '--key', join(dir, 'v2.key'), '-H', 'Impersonate-User: admin', '-H', 'Impersonate-Group: system:masters']);
  t.is(r.code, '403');
  t.is(r.body.message, 'users "admin" is forbidden: User "viewer2" cannot impersonate resource "users" in API group "" at the cluster scope');
  t.is((await curl(undefined, '/api/v1/namespaces/other/pods', 'GET', ['--cert', join(dir, 'v2.crt'), '--key', join(dir, 'v2.key')])).code, '403', 'no binding yet');
  t.is((await k(['auth', 'can-i', 'list', 'pods', '--as=viewer2'], { reject: false })).stdout.trim(), 'no');
  const sa = await k(['get', 'pods', '-n', 'lowpriv', '--as=system:serviceaccount:lowpriv:default'], { reject: false });
  t.regex(sa.stderr, /cannot list resource "pods" in API group "" in the namespace "lowpriv"/);
});

test.serial('kubectl create role, rolebinding, clusterrole and clusterrolebinding; a Role grants exactly its verbs', async (t) => {
  await k(['-n', 'lowpriv', 'create', 'role', 'pod-reader', '--verb=get,list', '--resource=pods']);
  await k(['-n', 'lowpriv', 'create', 'rolebinding', 'rb', '--role=pod-reader', '--serviceaccount=lowpriv:default']);
  await k(['create', 'clusterrole', 'cr-test', '--verb=get', '--resource=nodes']);
  await k(['create', 'clusterrolebinding', 'crb-test', '--clusterrole=cr-test', '--user=nobody']);
  const role = JSON.parse((await k(['-n', 'lowpriv', 'get', 'role', 'pod-reader', '-o', 'json'])).stdout);
  t.deepEqual(role.rules, [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]);
  t.regex((await k(['-n', 'lowpriv', 'get', 'rolebindings', '-o', 'wide'])).stdout, /^rb\s+Role\/pod-reader\s+\S+\s+lowpriv\/default\s*$/m);
  t.regex((await k(['get', 'clusterrolebinding', 'crb-test'])).stdout, /^crb-test\s+ClusterRole\/cr-test\s/m);
  const sa = (await k(['-n', 'lowpriv', 'create', 'token', 'default'])).stdout.trim();
  t.is((await curl(sa, '/api/v1/namespaces/lowpriv/pods')).code, '200');
  t.is((await curl(sa, '/api/v1/namespaces/lowpriv/pods/x', 'DELETE')).code, '403');
  t.is((await curl(sa, '/api/v1/namespaces/other/pods')).code, '403');
  t.is((await k(['auth', 'can-i', 'get', 'nodes', '--as=nobody'])).stdout.trim(), 'yes');
  // A binding's role cannot be swapped for another.
  const swap = await k(['-n', 'lowpriv', 'patch', 'rolebinding', 'rb', '--type=merge', '-p', '{"roleRef":{"name":"other"}}'], { reject: false });
  t.regex(swap.stderr, /cannot change roleRef/);
});

test.serial('admin, edit and view aggregate the ClusterRoles labelled for them, including ones added later', async (t) => {
  const view = JSON.parse((await k(['get', 'clusterrole', 'view', '-o', 'json'])).stdout);
  t.true(view.rules.some((r: any) => r.apiGroups.includes('apps') && r.resources.includes('deployments')));
  t.false(view.rules.some((r: any) => r.resources.includes('secrets')));
  const admin = JSON.parse((await k(['get', 'clusterrole', 'admin', '-o', 'json'])).stdout);
  t.true(admin.rules.some((r: any) => r.resources.includes('secrets') && r.verbs.includes('delete')), 'admin includes edit');
  t.true(admin.rules.some((r: any) => r.resources.includes('rolebindings')));
  await k(['apply', '-f', '-'], {
    input: 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: widgets-view\n  labels:\n    rbac.authorization.k8s.io/aggregate-to-view: "true"\nrules:\n- apiGroups: ["example.com"]\n  resources: ["widgets"]\n  verbs: ["get", "list", "watch"]\n',
  });
  for (const role of ['view', 'edit', 'admin']) {
    await waitFor(`${role} picks up widgets`, async () => JSON.parse((await k(['get', 'clusterrole', role, '-o', 'json'])).stdout).rules.some((r: any) => r.resources.includes('widgets')), 10_000);
  }
  // kubectl cannot name a resource the server does not serve, so ask by SubjectAccessReview.
  const review = (verb: string) => curl(ctrl.token, '/apis/authorization.k8s.io/v1/subjectaccessreviews', 'POST', ['-H', 'Content-Type: application/json', '-d',
    JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: 'viewer', resourceAttributes: { group: 'example.com', resource: 'widgets', verb, namespace: 'default' } } })]);
  const allowed = await review('list');
  t.is(allowed.code, '201');
  t.true(allowed.body.status.allowed);
  t.false((await review('delete')).body.status.allowed);
  // Creating a SubjectAccessReview is itself a right: a service account has not got it.
  const sa = (await k(['-n', 'lowpriv', 'create', 'token', 'default'])).stdout.trim();
  t.is((await curl(sa, '/apis/authorization.k8s.io/v1/subjectaccessreviews', 'POST', ['-H', 'Content-Type: application/json', '-d', '{"spec":{"user":"x","nonResourceAttributes":{"path":"/","verb":"get"}}}'])).code, '403');
});

test.serial('pikube user revoke ends a certificate user at once, without a restart', async (t) => {
  const gone = await userKubeconfig('leaver', ['team-a']);
  await k(['create', 'clusterrolebinding', 'team-a-view', '--clusterrole=view', '--group=team-a']);
  t.is((await gone(['get', 'pods', '-n', 'default'])).exitCode, 0);
  const r = await pikube(['user', 'revoke', 'leaver', '--data-dir', ctrl.dir]);
  t.is(r.exitCode, 0, r.stderr);
  await waitFor('revoked user refused', async () => /Unauthorized|must be logged in/.test((await gone(['get', 'pods', '-n', 'default'], { reject: false })).stderr), 5_000, 200);
  t.pass();
});

test.serial("a pod-bound token stops working within a second of the pod's deletion", async (t) => {
  await k(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: Pod\nmetadata: {name: holder, namespace: lowpriv}\nspec:\n  containers: [{name: c, image: localhost/busybox:latest, command: ["/bin/sleep", "3600"]}]\n' });
  const uid = (await k(['-n', 'lowpriv', 'get', 'pod', 'holder', '-o', 'jsonpath={.metadata.uid}'])).stdout;
  const token = (await k(['-n', 'lowpriv', 'create', 'token', 'default', '--bound-object-kind', 'Pod', '--bound-object-name', 'holder', '--bound-object-uid', uid])).stdout.trim();
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
  t.deepEqual(claims['kubernetes.io'].pod, { name: 'holder', uid });
  t.is((await curl(token, '/api')).code, '200');
  await k(['-n', 'lowpriv', 'delete', 'pod', 'holder', '--grace-period=0', '--force'], { reject: false });
  const deleted = Date.now();
  await waitFor('token refused', async () => (await curl(token, '/api')).code === '401', 5_000, 100);
  t.true(Date.now() - deleted < 1500, `refused after ${Date.now() - deleted} ms`);
  // A longer --duration than the maximum is shortened to it.
  const long = (await k(['-n', 'lowpriv', 'create', 'token', 'default', '--duration=100h'])).stdout.trim();
  const c = JSON.parse(Buffer.from(long.split('.')[1]!, 'base64url').toString());
  t.is(c.exp - c.iat, 7200);
});

test.serial('the audit log has one line per mutating request, with user, verb, resource and answer', async (t) => {
  const lines = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.true(lines.some((l) => l.user === 'admin' && l.verb === 'create' && l.resource === 'namespaces' && l.name === undefined && l.code === 201));
  t.true(lines.some((l) => l.user === 'viewer' && l.verb === 'delete' && l.resource === 'secrets' && l.name === 'topsecret' && l.code === 403));
  t.false(lines.some((l) => l.verb === 'get' || l.verb === 'list'), 'reads are not logged');
});

test.serial('a joined node name cannot be joined again with the join token until the node is deleted', async (t) => {
  const imposter = startAgent(ctrl, { nodeName: NODE });
  extra.push(imposter);
  await waitFor('imposter refused', async () => /already joined/.test(imposter.log()), 20_000, 300);
  // The real node is undisturbed.
  t.regex((await k(['get', 'node', NODE, '--no-headers'])).stdout, / Ready /);
  await imposter.kill();
  // pikube node reset frees the name without deleting the node.
  const r = await pikube(['node', 'reset', NODE, '--data-dir', ctrl.dir]);
  t.is(r.exitCode, 0, r.stderr);
  const rejoin = startAgent(ctrl, { nodeName: NODE, dir: imposter.dir });
  extra.push(rejoin);
  await waitFor('rejoined after reset', async () => /connected to the controller/.test(rejoin.log()), 20_000, 300);
  // and the old credentials of that name no longer work: the name has a new password.
  const old = JSON.parse(readFileSync(join(agent.dir, 'credentials.json'), 'utf8')) as { password: string };
  const fresh = JSON.parse(readFileSync(join(rejoin.dir, 'credentials.json'), 'utf8')) as { password: string };
  t.not(old.password, fresh.password);
});

test.serial('a node credential is not an API credential', async (t) => {
  const creds = JSON.parse(readFileSync(join(agent.dir, 'credentials.json'), 'utf8')) as { username: string; password: string };
  t.is((await curl(creds.password, '/api/v1/secrets')).code, '401');
  t.is((await curl(undefined, '/api/v1/namespaces/other/secrets', 'GET', ['-u', `${creds.username}:${creds.password}`])).code, '401');
});

test.serial('the status page signs in by form and shows a reader only what RBAC lets them list', async (t) => {
  await k(['-n', 'lowpriv', 'create', 'serviceaccount', 'looker']);
  await k(['-n', 'lowpriv', 'create', 'rolebinding', 'looker-view', '--clusterrole=view', '--serviceaccount=lowpriv:looker']);
  await k(['apply', '-f', '-'], { input: ['lowpriv', 'other'].map((ns) => `apiVersion: v1\nkind: Pod\nmetadata: {name: shown-${ns}, namespace: ${ns}}\nspec:\n  containers: [{name: c, image: localhost/busybox:latest, command: ["/bin/sleep", "3600"]}]\n`).join('---\n') });
  const token = (await k(['-n', 'lowpriv', 'create', 'token', 'looker'])).stdout.trim();
  const login = await execa('curl', ['-sk', '-D', '-', '-o', '/dev/null', '--data-urlencode', `token=${token}`, `${ctrl.apiUrl}/ui/login`], { reject: false });
  t.regex(login.stdout, /^HTTP\/1\.1 303/m);
  const cookie = /^set-cookie: (pikube_ui_session=[^;]+);.*HttpOnly; Secure; SameSite=Strict/im.exec(login.stdout);
  t.truthy(cookie, login.stdout);
  t.notRegex(login.stdout, new RegExp(token.slice(-20)));
  const stream = await execa('curl', ['-sk', '--max-time', '3', '-H', `Cookie: ${cookie![1]}`, `${ctrl.apiUrl}/ui/stream`], { reject: false });
  const data = /^data: (.+)$/m.exec(stream.stdout);
  t.truthy(data, stream.stdout.slice(0, 300));
  const snapshot = JSON.parse(data![1]!) as { nodes: { name: string; cpu: object }[]; pods: { namespace: string; name: string }[]; events: { namespace?: string }[] };
  t.true(snapshot.pods.some((p) => p.name === 'shown-lowpriv'));
  t.false(snapshot.pods.some((p) => p.namespace !== 'lowpriv'), 'nothing of other namespaces');
  t.true(snapshot.events.every((e) => e.namespace === 'lowpriv'));
  t.true(snapshot.nodes.every((n) => Object.keys(n.cpu).length === 0), 'no node details without list nodes');
  // A token that may see nothing gets no session.
  const nobody = (await k(['-n', 'other', 'create', 'token', 'default'])).stdout.trim();
  const refused = await execa('curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', '--data-urlencode', `token=${nobody}`, `${ctrl.apiUrl}/ui/login`], { reject: false });
  t.is(refused.stdout, '403');
});

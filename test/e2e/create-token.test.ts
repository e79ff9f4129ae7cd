// `kubectl create token`: the serviceaccounts/token subresource issues tokens the API accepts.
import test from 'ava';
import { execa } from 'execa';
import { startController, kubectl, removeDir, type ControllerHandle } from '../helpers/processes.js';

let ctrl: ControllerHandle;

test.before(async () => {
  ctrl = await startController();
});

test.after.always(async () => {
  await ctrl?.kill();
  if (ctrl) removeDir(ctrl.dir);
});

async function status(token: string, path: string): Promise<string> {
  const r = await execa('curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', '-H', `Authorization: Bearer ${token}`, `${ctrl.apiUrl}${path}`], { reject: false });
  return r.stdout;
}

test('a token from kubectl create token lists pods; a short duration is refused', async (t) => {
  const k = kubectl(ctrl.kubeconfig);
  const token = (await k(['create', 'token', 'default'])).stdout.trim();
  t.regex(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  // Authenticated, but RBAC gives a service account nothing until it is bound to a role.
  t.is(await status(token, '/api/v1/namespaces/default/pods'), '403');
  t.is(await status(token, '/api'), '200');
  await k(['create', 'rolebinding', 'default-view', '--clusterrole=view', '--serviceaccount=default:default']);
  t.is(await status(token, '/api/v1/namespaces/default/pods'), '200');
  t.is(await status(token, '/api/v1/namespaces/default/secrets'), '403');
  t.is(await status(`${token}x`, '/api/v1/namespaces/default/pods'), '401');
  const short = await k(['create', 'token', 'default', '--duration=1m'], { reject: false });
  t.not(short.exitCode, 0);
  t.regex(short.stderr, /less than 10 minutes/);
  const missing = await k(['create', 'token', 'nobody'], { reject: false });
  t.regex(missing.stderr, /not found/);
});

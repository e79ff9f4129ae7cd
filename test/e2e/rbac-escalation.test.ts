// RBAC escalation prevention with stock kubectl (protobuf bodies for `create role` and
// friends) and client-certificate users from `pikube user add`: a namespace admin may hand
// out what it holds and nothing more; a user allowed to write ClusterRoles and bindings
// still cannot grant itself cluster-admin, unless given `escalate` or `bind`.
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { CLI, kubectl, removeDir, startController, type ControllerHandle, type Kubectl } from '../helpers/processes.js';

let ctrl: ControllerHandle;
let admin: Kubectl;
let dir: string;
const users: Kubectl[] = [];

const NOT_HELD = /is forbidden: user "(\w+)" \(groups=\[.*\]\) is attempting to grant RBAC permissions not currently held:/;

async function userKubeconfig(name: string): Promise<Kubectl> {
  const r = await execa(process.execPath, [CLI, 'user', 'add', name, '--data-dir', ctrl.dir], { reject: false });
  if (r.exitCode !== 0) throw new Error(r.stderr);
  const path = join(dir, `${name}.kubeconfig`);
  writeFileSync(path, r.stdout, { mode: 0o600 });
  const k = kubectl(path);
  users.push(k);
  return k;
}

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pikube-escalation-'));
  ctrl = await startController({ dir });
  admin = kubectl(ctrl.kubeconfig);
  await admin(['create', 'namespace', 'team']);
});

test.after.always(async () => {
  await ctrl?.kill();
  for (const d of [dir, admin?.home, ...users.map((u) => u.home)]) if (d) removeDir(d);
});

test.serial('a namespace admin creates roles and bindings within what it holds, and nothing beyond', async (t) => {
  const alice = await userKubeconfig('alice');
  await admin(['-n', 'team', 'create', 'rolebinding', 'alice-admin', '--clusterrole=admin', '--user=alice']);

  // Rules alice holds through admin: fine, as a Role and as a binding of admin to another user.
  const ok = await alice(['-n', 'team', 'create', 'role', 'pod-reader', '--verb=get,list', '--resource=pods'], { reject: false });
  t.is(ok.exitCode, 0, ok.stderr);
  const bind = await alice(['-n', 'team', 'create', 'rolebinding', 'bob-admin', '--clusterrole=admin', '--user=bob'], { reject: false });
  t.is(bind.exitCode, 0, bind.stderr);

  // Nodes are not hers to hand out.
  const role = await alice(['-n', 'team', 'create', 'role', 'node-reader', '--verb=get', '--resource=nodes'], { reject: false });
  t.not(role.exitCode, 0);
  t.regex(role.stderr, /roles\.rbac\.authorization\.k8s\.io "node-reader" is forbidden: user "alice" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\[""\], Resources:\["nodes"\], Verbs:\["get"\]\}/);
  t.is((await admin(['-n', 'team', 'get', 'role', 'node-reader'], { reject: false })).exitCode, 1, 'nothing was stored');

  // Nor cluster-admin, bound in her namespace.
  const escalate = await alice(['-n', 'team', 'create', 'rolebinding', 'me-root', '--clusterrole=cluster-admin', '--user=alice'], { reject: false });
  t.not(escalate.exitCode, 0);
  t.regex(escalate.stderr, /rolebindings\.rbac\.authorization\.k8s\.io "me-root" is forbidden: user "alice"/);
  t.regex(escalate.stderr, NOT_HELD);

  // Widening her own Role later is checked as well (update, by patch).
  const patch = await alice(['-n', 'team', 'patch', 'role', 'pod-reader', '--type=json', '-p', '[{"op":"add","path":"/rules/-","value":{"apiGroups":[""],"resources":["secrets"],"verbs":["get"],"resourceNames":["x"]}}]'], { reject: false });
  t.is(patch.exitCode, 0, `admin holds get secrets in team: ${patch.stderr}`);
  const widen = await alice(['-n', 'team', 'patch', 'role', 'pod-reader', '--type=json', '-p', '[{"op":"add","path":"/rules/-","value":{"apiGroups":[""],"resources":["persistentvolumes"],"verbs":["delete"]}}]'], { reject: false });
  t.not(widen.exitCode, 0);
  t.regex(widen.stderr, /\{APIGroups:\[""\], Resources:\["persistentvolumes"\], Verbs:\["delete"\]\}/);
});

test.serial('writing ClusterRoles and bindings is not enough to grant oneself cluster-admin; escalate and bind are', async (t) => {
  const carol = await userKubeconfig('carol');
  await admin(['create', 'clusterrole', 'rbac-writer', '--verb=create,update,patch,get,list', '--resource=clusterroles.rbac.authorization.k8s.io,clusterrolebindings.rbac.authorization.k8s.io']);
  await admin(['create', 'clusterrole', 'pod-watcher', '--verb=get,list,watch', '--resource=pods']);
  await admin(['create', 'clusterrolebinding', 'carol-writer', '--clusterrole=rbac-writer', '--user=carol']);
  await admin(['create', 'clusterrolebinding', 'carol-pods', '--clusterrole=pod-watcher', '--user=carol']);

  const within = await carol(['create', 'clusterrole', 'carol-pods-too', '--verb=get,list', '--resource=pods'], { reject: false });
  t.is(within.exitCode, 0, within.stderr);
  const secrets = await carol(['create', 'clusterrole', 'carol-secrets', '--verb=get,list', '--resource=secrets'], { reject: false });
  t.not(secrets.exitCode, 0);
  t.regex(secrets.stderr, /clusterroles\.rbac\.authorization\.k8s\.io "carol-secrets" is forbidden: user "carol" .* not currently held:\n\{APIGroups:\[""\], Resources:\["secrets"\], Verbs:\["get" "list"\]\}/);
  const root = await carol(['create', 'clusterrolebinding', 'carol-root', '--clusterrole=cluster-admin', '--user=carol'], { reject: false });
  t.not(root.exitCode, 0);
  t.regex(root.stderr, /clusterrolebindings\.rbac\.authorization\.k8s\.io "carol-root" is forbidden: user "carol"/);
  t.regex(root.stderr, /\{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}/);
  const aggregated = await carol(['create', 'clusterrole', 'carol-everything', '--aggregation-rule=carol=yes'], { reject: false });
  t.not(aggregated.exitCode, 0);
  t.regex(aggregated.stderr, /must have cluster-admin privileges to use an aggregationRule/);
  // Making an existing role part of admin (an aggregation label) widens admin: the rules are checked on update too.
  const label = await carol(['label', 'clusterrole', 'pod-watcher', 'rbac.authorization.k8s.io/aggregate-to-admin=true'], { reject: false });
  t.is(label.exitCode, 0, `she holds pod-watcher's rules: ${label.stderr}`);
  const labelOther = await carol(['label', 'clusterrole', 'view', 'carol=was-here'], { reject: false });
  t.not(labelOther.exitCode, 0, 'view holds rules she lacks');
  t.regex(labelOther.stderr, NOT_HELD);

  // `bind` on one ClusterRole lets her bind that one (and only that one) without holding it.
  await admin(['create', 'clusterrole', 'bind-view', '--verb=bind', '--resource=clusterroles.rbac.authorization.k8s.io', '--resource-name=view']);
  await admin(['create', 'clusterrolebinding', 'carol-bind-view', '--clusterrole=bind-view', '--user=carol']);
  const bindView = await carol(['create', 'clusterrolebinding', 'dave-view', '--clusterrole=view', '--user=dave'], { reject: false });
  t.is(bindView.exitCode, 0, bindView.stderr);
  const bindEdit = await carol(['create', 'clusterrolebinding', 'dave-edit', '--clusterrole=edit', '--user=dave'], { reject: false });
  t.not(bindEdit.exitCode, 0);
  t.regex(bindEdit.stderr, NOT_HELD);

  // `escalate` on ClusterRoles lets her write rules she does not hold.
  await admin(['create', 'clusterrole', 'escalator', '--verb=escalate', '--resource=clusterroles.rbac.authorization.k8s.io']);
  await admin(['create', 'clusterrolebinding', 'carol-escalate', '--clusterrole=escalator', '--user=carol']);
  const nowOk = await carol(['create', 'clusterrole', 'carol-secrets', '--verb=get,list', '--resource=secrets'], { reject: false });
  t.is(nowOk.exitCode, 0, nowOk.stderr);
  // Still not bind it to herself: that needs its rules, or bind.
  const bindSecrets = await carol(['create', 'clusterrolebinding', 'carol-secrets', '--clusterrole=carol-secrets', '--user=carol'], { reject: false });
  t.not(bindSecrets.exitCode, 0);
  t.regex(bindSecrets.stderr, NOT_HELD);
});

test.serial('a binding to a role that does not exist is NotFound for a user who needs its rules; the admin is exempt', async (t) => {
  const erin = await userKubeconfig('erin');
  await admin(['-n', 'team', 'create', 'rolebinding', 'erin-admin', '--clusterrole=admin', '--user=erin']);
  const missing = await erin(['-n', 'team', 'create', 'rolebinding', 'to-nothing', '--role=nothing', '--user=erin'], { reject: false });
  t.not(missing.exitCode, 0);
  t.regex(missing.stderr, /roles\.rbac\.authorization\.k8s\.io "nothing" not found/);
  const byAdmin = await admin(['create', 'clusterrolebinding', 'erin-root', '--clusterrole=cluster-admin', '--user=erin'], { reject: false });
  t.is(byAdmin.exitCode, 0, 'system:masters may grant anything');
});

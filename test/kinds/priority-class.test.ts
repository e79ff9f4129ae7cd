// scheduling.k8s.io/v1 PriorityClass, a kind added as one module under kinds/: its rules,
// columns and protobuf table on their own, then the whole path with a real kubectl
// against a real controller (discovery, protobuf create, defaults, Table, OpenAPI, RBAC-free).
import test from 'ava';
import { priorityClass } from '../../controller/apiserver/kinds/scheduling/priority-class.js';
import { decodeProtobufBody } from '../../controller/apiserver/protobuf/decode-body.js';
import { toTable } from '../../controller/apiserver/tables/index.js';
import { validateObject } from '../../controller/apiserver/validation/index.js';
import { kubectl, removeDir, startController, type ControllerHandle, type Kubectl } from '../helpers/processes.js';
import { bool, envelope, int, msg, str } from '../protobuf/proto-writer.js';

const pc = (name: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value: 100, ...extra });
const validate = (obj: unknown, old?: unknown) => validateObject('scheduling.k8s.io', 'v1', 'PriorityClass', obj, old).map((c) => `${c.field}: ${c.message}`);

test('user classes stay at or below one billion; system- names are reserved for the known classes', (t) => {
  t.deepEqual(validate(pc('high', { value: 1_000_000_000 })), []);
  t.deepEqual(validate(pc('higher', { value: 1_000_000_001 })), ['value: Forbidden: maximum allowed value of a user defined priority is 1000000000']);
  t.deepEqual(validate(pc('system-node-critical', { value: 2_000_001_000 })), []);
  t.deepEqual(validate(pc('system-mine', { value: 5 })), [
    "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
  ]);
  t.deepEqual(validate(pc('system-cluster-critical', { value: 5 })), [
    "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-cluster-critical PriorityClass must be 2000000000",
  ]);
  t.deepEqual(validate(pc('x', { preemptionPolicy: 'Sometimes' })), ['preemptionPolicy: Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"']);
  t.deepEqual(validate(pc('x', { value: 'high' })), ['value: Invalid value: "high": must be of type integer']);
  t.deepEqual(validate(pc('Bad_Name')).length, 1);
});

test('value and preemptionPolicy cannot change; description and globalDefault can', (t) => {
  const old = { ...pc('c', { preemptionPolicy: 'Never' }), metadata: { name: 'c', uid: 'u', creationTimestamp: '2026-01-01T00:00:00Z' } };
  t.deepEqual(validate({ ...old, description: 'now described', globalDefault: true }, old), []);
  t.deepEqual(validate({ ...old, value: 7 }, old), ['value: Forbidden: may not be changed in an update.']);
  t.deepEqual(validate({ ...old, preemptionPolicy: 'PreemptLowerPriority' }, old), ['preemptionPolicy: Invalid value: "PreemptLowerPriority": field is immutable']);
});

test('defaults: preemption policy, and a missing value is stored as 0', (t) => {
  const obj = { metadata: { name: 'c' } } as Parameters<NonNullable<typeof priorityClass.defaults>>[0];
  priorityClass.defaults!(obj, undefined);
  t.is(obj.value, 0);
  t.is(obj.preemptionPolicy, 'PreemptLowerPriority');
  const never = { metadata: { name: 'c' }, value: 3, preemptionPolicy: 'Never' };
  priorityClass.defaults!(never, undefined);
  t.deepEqual([never.value, never.preemptionPolicy], [3, 'Never']);
});

test('Table columns and cells as upstream prints them', (t) => {
  const table = toTable('scheduling.k8s.io', 'priorityclasses', [
    { ...pc('batch', { globalDefault: true, preemptionPolicy: 'Never' }), metadata: { name: 'batch', creationTimestamp: '2026-01-01T00:00:00Z' } },
    { metadata: { name: 'bare', creationTimestamp: '2026-01-01T23:00:00Z' } },
  ], { resourceVersion: '9', includeObject: 'None', now: new Date('2026-01-02T00:00:00Z') }) as { columnDefinitions: { name: string; type: string }[]; rows: { cells: unknown[] }[] };
  t.deepEqual(table.columnDefinitions.map((c) => `${c.name}:${c.type}`), ['Name:string', 'Value:integer', 'Global-Default:boolean', 'Age:string', 'PreemptionPolicy:string']);
  t.deepEqual(table.rows.map((r) => r.cells), [['batch', 100, true, '24h', 'Never'], ['bare', 0, false, '60m', '']]);
});

test('protobuf bodies decode with the field table the module brings', (t) => {
  const body = decodeProtobufBody(envelope('scheduling.k8s.io/v1', 'PriorityClass', [
    ...msg(1, str(1, 'nightly')), ...int(2, -5), ...bool(3, false), ...str(4, 'backups'), ...str(5, 'Never'),
  ]));
  t.deepEqual(body, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'nightly' }, value: -5, description: 'backups', preemptionPolicy: 'Never' });
});

let ctrl: ControllerHandle | undefined;
let k: Kubectl;

test.before(async () => {
  ctrl = await startController();
  k = kubectl(ctrl.kubeconfig);
});

test.after.always(async () => {
  if (ctrl) { await ctrl.kill(); removeDir(ctrl.dir); }
  if (k) removeDir(k.home);
});

test.serial('kubectl: discovery, the system classes, create (protobuf), get, explain, refusals', async (t) => {
  t.regex((await k(['api-resources', '--api-group=scheduling.k8s.io'])).stdout, /priorityclasses\s+pc\s+scheduling\.k8s\.io\/v1\s+false\s+PriorityClass/);
  const system = JSON.parse((await k(['get', 'pc', '-o', 'json'])).stdout) as { items: { metadata: { name: string }; value: number }[] };
  t.deepEqual(system.items.map((i) => [i.metadata.name, i.value]), [['system-cluster-critical', 2_000_000_000], ['system-node-critical', 2_000_001_000]]);

  t.regex((await k(['create', 'priorityclass', 'nightly', '--value=-5', '--description=backups', '--preemption-policy=Never'])).stdout, /priorityclass.scheduling.k8s.io\/nightly created/);
  const stored = JSON.parse((await k(['get', 'priorityclass', 'nightly', '-o', 'json'])).stdout);
  t.like(stored, { value: -5, description: 'backups', preemptionPolicy: 'Never', metadata: { name: 'nightly' } });
  await k(['create', 'priorityclass', 'web', '--value=1000']);
  t.is(JSON.parse((await k(['get', 'pc', 'web', '-o', 'json'])).stdout).preemptionPolicy, 'PreemptLowerPriority');

  t.regex((await k(['get', 'pc'])).stdout, /^NAME\s+VALUE\s+GLOBAL-DEFAULT\s+AGE\s+PREEMPTIONPOLICY\nnightly\s+-5\s+false\s+\S+\s+Never\n/m);
  t.regex((await k(['explain', 'priorityclass.preemptionPolicy'])).stdout, /FIELD: preemptionPolicy <string>/);

  const tooHigh = await k(['create', 'priorityclass', 'greedy', '--value=2000000000'], { reject: false });
  t.not(tooHigh.exitCode, 0);
  t.regex(tooHigh.stderr, /value: Forbidden: maximum allowed value of a user defined priority is 1000000000/);
  const changed = await k(['patch', 'pc', 'web', '--type=merge', '-p', '{"value":7}'], { reject: false });
  t.not(changed.exitCode, 0);
  t.regex(changed.stderr, /value: Forbidden: may not be changed in an update/);
  await k(['patch', 'pc', 'web', '--type=merge', '-p', '{"description":"front end"}']);
  t.is(JSON.parse((await k(['get', 'pc', 'web', '-o', 'json'])).stdout).description, 'front end');
  t.regex((await k(['delete', 'pc', 'web'])).stdout, /priorityclass.scheduling.k8s.io "web" deleted/);
});

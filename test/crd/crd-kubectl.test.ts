// CustomResourceDefinitions end to end with stock kubectl and raw HTTP against a real
// controller: served at once (discovery, OpenAPI), defaults, 422 naming the field,
// printer columns, watch, status and scale subresources, several versions, and
// deleting the CRD deletes its objects.
import test from 'ava';
import { ClusterApi } from '../e2e/cluster-api.js';
import { kubectl, removeDir, startController, waitFor, type ControllerHandle, type Kubectl } from '../helpers/processes.js';

let ctrl: ControllerHandle | undefined;
let k: Kubectl;
let api: ClusterApi;

test.before(async () => {
  ctrl = await startController();
  k = kubectl(ctrl.kubeconfig);
  api = ClusterApi.forController(ctrl);
});

test.after.always(async () => {
  if (ctrl) { await ctrl.kill(); removeDir(ctrl.dir); }
  if (k) removeDir(k.home);
});

const crdYaml = (plural: string, kind: string, short: string) => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: ${plural}.lab.example.com}
spec:
  group: lab.example.com
  scope: Namespaced
  names: {plural: ${plural}, singular: ${kind.toLowerCase()}, kind: ${kind}, shortNames: [${short}]}
  versions:
    - name: v1
      served: true
      storage: true
      subresources:
        status: {}
        scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
      additionalPrinterColumns:
        - {name: Target, type: string, jsonPath: .spec.target}
        - {name: Keep, type: integer, jsonPath: .spec.keep}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [target]
              properties:
                target: {type: string, minLength: 1}
                keep: {type: integer, minimum: 1, default: 7}
                replicas: {type: integer, default: 1}
                options: {type: object, x-kubernetes-preserve-unknown-fields: true}
            status:
              type: object
              properties:
                phase: {type: string}
                replicas: {type: integer}
    - name: v1beta1
      served: true
      storage: false
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
`;

test.serial('a CRD is served at once, gets defaults, refuses invalid objects and prints its columns', async (t) => {
  await k(['apply', '-f', '-'], { input: crdYaml('backups', 'Backup', 'bk') });
  // Served as soon as the create returns: legacy and aggregated discovery, OpenAPI v3.
  const list = await api.get('/apis/lab.example.com/v1');
  t.true(list.resources.some((r: any) => r.name === 'backups' && r.shortNames?.includes('bk')));
  t.true(list.resources.some((r: any) => r.name === 'backups/status'));
  t.true(list.resources.some((r: any) => r.name === 'backups/scale'));
  const groups = await api.get('/apis');
  const lab = groups.groups.find((g: any) => g.name === 'lab.example.com');
  t.is(lab.preferredVersion.version, 'v1');
  const index = await api.get('/openapi/v3');
  t.truthy(index.paths['apis/lab.example.com/v1']);
  const doc = await api.get(index.paths['apis/lab.example.com/v1'].serverRelativeURL);
  t.truthy(doc.components.schemas['com.example.lab.v1.Backup']);
  const crd = await waitFor('Established', async () => {
    const c = await api.get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/backups.lab.example.com');
    return c.status?.conditions?.some((x: any) => x.type === 'Established' && x.status === 'True') ? c : undefined;
  }, 10_000);
  t.true(crd.status.conditions.some((x: any) => x.type === 'NamesAccepted' && x.status === 'True'));
  t.deepEqual(crd.status.storedVersions, ['v1']);
  t.true(crd.metadata.finalizers.includes('customresourcecleanup.apiextensions.k8s.io'));

  await k(['apply', '-f', '-'], { input: 'apiVersion: lab.example.com/v1\nkind: Backup\nmetadata: {name: nas}\nspec: {target: /mnt/nas, options: {free: {form: 1}}}\n' });
  const nas = JSON.parse((await k(['get', 'backup', 'nas', '-o', 'json'])).stdout);
  t.is(nas.spec.keep, 7);
  t.deepEqual(nas.spec.options, { free: { form: 1 } });

  const bad = await k(['apply', '-f', '-'], { input: 'apiVersion: lab.example.com/v1\nkind: Backup\nmetadata: {name: bad}\nspec: {keep: 0}\n', reject: false });
  t.not(bad.exitCode, 0);
  t.regex(bad.stderr, /spec\.keep: Invalid value: 0: spec\.keep in body should be greater than or equal to 1/);
  t.regex(bad.stderr, /spec\.target: Required value/);
  const raw = await api.call('POST', '/apis/lab.example.com/v1/namespaces/default/backups', { apiVersion: 'lab.example.com/v1', kind: 'Backup', metadata: { name: 'bad' }, spec: { keep: 0 } });
  t.is(raw.status, 422);
  t.true(raw.body.details.causes.some((c: any) => c.field === 'spec.keep'));

  const table = (await k(['get', 'bk'])).stdout.split('\n');
  t.regex(table[0]!, /NAME\s+TARGET\s+KEEP/);
  t.regex(table[1]!, /nas\s+\/mnt\/nas\s+7/);
});

test.serial('unknown fields: Strict refuses, the default drops them with a Warning', async (t) => {
  const strict = await k(['apply', '-f', '-'], { input: 'apiVersion: lab.example.com/v1\nkind: Backup\nmetadata: {name: junk}\nspec: {target: /x, junk: 1}\n', reject: false });
  t.regex(strict.stderr, /unknown field "spec.junk"/);
  const r = await api.call('POST', '/apis/lab.example.com/v1/namespaces/default/backups', { apiVersion: 'lab.example.com/v1', kind: 'Backup', metadata: { name: 'junk' }, spec: { target: '/x', junk: 1 }, top: 2 });
  t.is(r.status, 201);
  t.is(r.body.spec.junk, undefined);
  t.is(r.body.top, undefined);
});

test.serial('patches, status and scale subresources, selectors and a watch', async (t) => {
  const events: { type: string; keep?: number; phase?: string }[] = [];
  const w = api.watch('/apis/lab.example.com/v1/namespaces/default/backups?fieldSelector=metadata.name%3Dnas', (e) => events.push({ type: e.type, keep: e.object.spec?.keep, phase: e.object.status?.phase }));
  try {
    await waitFor('initial ADDED', () => events.some((e) => e.type === 'ADDED'), 10_000);
    await k(['patch', 'bk', 'nas', '--type=merge', '-p', '{"spec":{"keep":3}}']);
    await k(['patch', 'bk', 'nas', '--type=json', '-p', '[{"op":"replace","path":"/spec/target","value":"/mnt/b"}]']);
    const smp = await k(['patch', 'bk', 'nas', '-p', '{"spec":{"keep":4}}'], { reject: false });
    t.not(smp.exitCode, 0);
    const smpRaw = await api.call('PATCH', '/apis/lab.example.com/v1/namespaces/default/backups/nas', { spec: { keep: 4 } }, 'application/strategic-merge-patch+json');
    t.is(smpRaw.status, 415);
    // The main resource ignores status; the status subresource changes only status.
    await api.call('PATCH', '/apis/lab.example.com/v1/namespaces/default/backups/nas', { status: { phase: 'Ignored' } }, 'application/merge-patch+json');
    await k(['patch', 'bk', 'nas', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Done","replicas":2},"spec":{"keep":99}}']);
    const nas = JSON.parse((await k(['get', 'bk', 'nas', '-o', 'json'])).stdout);
    t.is(nas.status.phase, 'Done');
    t.is(nas.spec.keep, 3);
    t.is(nas.spec.target, '/mnt/b');
    await k(['scale', 'bk', 'nas', '--replicas=5']);
    const scale = await api.get('/apis/lab.example.com/v1/namespaces/default/backups/nas/scale');
    t.deepEqual([scale.kind, scale.spec.replicas, scale.status.replicas], ['Scale', 5, 2]);
    await waitFor('watch saw the changes', () => events.some((e) => e.type === 'MODIFIED' && e.phase === 'Done'), 10_000);
    t.true(events.some((e) => e.type === 'MODIFIED' && e.keep === 3));
  } finally {
    w.close();
  }
  await k(['label', 'bk', 'nas', 'tier=gold']);
  const gold = (await k(['get', 'bk', '-l', 'tier=gold', '-o', 'name'])).stdout.trim();
  t.is(gold, 'backup.lab.example.com/nas');
  const byName = await api.get('/apis/lab.example.com/v1/backups?fieldSelector=metadata.namespace%3Ddefault,metadata.name%3Djunk');
  t.deepEqual(byName.items.map((i: any) => i.metadata.name), ['junk']);
  const badField = await api.call('GET', '/apis/lab.example.com/v1/backups?fieldSelector=spec.target%3D/x');
  t.is(badField.status, 400);
});

test.serial('every served version reads the same objects (conversion None)', async (t) => {
  const beta = await api.get('/apis/lab.example.com/v1beta1/namespaces/default/backups/nas');
  t.is(beta.apiVersion, 'lab.example.com/v1beta1');
  t.is(beta.spec.target, '/mnt/b');
  const created = await api.call('POST', '/apis/lab.example.com/v1beta1/namespaces/default/backups', { apiVersion: 'lab.example.com/v1beta1', kind: 'Backup', metadata: { name: 'old' }, spec: { target: '/old', anything: true } });
  t.is(created.status, 201);
  const v1 = await api.get('/apis/lab.example.com/v1/namespaces/default/backups/old');
  t.is(v1.apiVersion, 'lab.example.com/v1');
  // Not served → 404; unserving a version takes it out of discovery.
  await k(['patch', 'crd', 'backups.lab.example.com', '--type=json', '-p', '[{"op":"replace","path":"/spec/versions/1/served","value":false}]']);
  t.is((await api.call('GET', '/apis/lab.example.com/v1beta1/namespaces/default/backups')).status, 404);
  const group = await api.get('/apis/lab.example.com');
  t.deepEqual(group.versions.map((v: any) => v.version), ['v1']);
});

test.serial('deleting the CRD deletes its objects and stops serving it', async (t) => {
  await k(['create', 'namespace', 'other']);
  await api.call('POST', '/apis/lab.example.com/v1/namespaces/other/backups', { apiVersion: 'lab.example.com/v1', kind: 'Backup', metadata: { name: 'o1' }, spec: { target: '/o' } });
  t.true((await api.get('/apis/lab.example.com/v1/backups')).items.length >= 3);
  await k(['delete', 'crd', 'backups.lab.example.com']);
  await waitFor('CRD gone', async () => (await api.call('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/backups.lab.example.com')).status === 404, 20_000);
  t.is((await api.call('GET', '/apis/lab.example.com/v1/backups')).status, 404);
  const again = await k(['get', 'backups.lab.example.com', 'nas'], { reject: false });
  t.not(again.exitCode, 0);
  // Created again, it starts empty.
  await k(['apply', '-f', '-'], { input: crdYaml('backups', 'Backup', 'bk') });
  t.deepEqual((await api.get('/apis/lab.example.com/v1/backups')).items, []);
});

test.serial('bad CRDs are refused with the field named; clashing names are not accepted', async (t) => {
  const bad = await api.call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'things.lab.example.com' },
    spec: { group: 'lab.example.com', scope: 'Namespaced', names: { plural: 'things', kind: 'Thing' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { properties: {} } } } } }] },
  });
  t.is(bad.status, 422);
  t.true(bad.body.details.causes.some((c: any) => c.field === 'spec.versions[0].schema.openAPIV3Schema.properties[spec].type'));
  // Same kind as Backup in the same group under another plural.
  const clash = await api.call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'backupz.lab.example.com' },
    spec: { group: 'lab.example.com', scope: 'Cluster', names: { plural: 'backupz', kind: 'Backup' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }] },
  });
  t.is(clash.status, 201);
  const status = await waitFor('NamesAccepted False', async () => {
    const c = await api.get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/backupz.lab.example.com');
    return c.status?.conditions?.find((x: any) => x.type === 'NamesAccepted' && x.status === 'False');
  }, 10_000);
  t.is(status.reason, 'ResourceConflict');
  t.is((await api.call('GET', '/apis/lab.example.com/v1/backupz')).status, 404);
});

test.serial('deleting a namespace deletes the custom objects in it', async (t) => {
  await k(['create', 'namespace', 'gone']);
  const r = await api.call('POST', '/apis/lab.example.com/v1/namespaces/gone/backups', { apiVersion: 'lab.example.com/v1', kind: 'Backup', metadata: { name: 'g1' }, spec: { target: '/g' } });
  t.is(r.status, 201);
  await k(['delete', 'namespace', 'gone', '--wait=false']);
  await waitFor('namespace gone', async () => (await api.call('GET', '/api/v1/namespaces/gone')).status === 404, 30_000);
  t.is((await api.call('GET', '/apis/lab.example.com/v1/namespaces/gone/backups/g1')).status, 404);
});

test.serial('after a SIGKILL and restart the CRD and its objects are served again', async (t) => {
  await api.call('POST', '/apis/lab.example.com/v1/namespaces/default/backups', { apiVersion: 'lab.example.com/v1', kind: 'Backup', metadata: { name: 'durable' }, spec: { target: '/d' } });
  await ctrl!.kill();
  ctrl = await ctrl!.restart();
  api = ClusterApi.forController(ctrl);
  const obj = await api.get('/apis/lab.example.com/v1/namespaces/default/backups/durable');
  t.is(obj.spec.keep, 7);
  const table = (await k(['get', 'bk', 'durable'])).stdout;
  t.regex(table, /durable\s+\/d\s+7/);
  const bad = await api.call('POST', '/apis/lab.example.com/v1/namespaces/default/backups', { apiVersion: 'lab.example.com/v1', kind: 'Backup', metadata: { name: 'bad2' }, spec: {} });
  t.is(bad.status, 422);
});

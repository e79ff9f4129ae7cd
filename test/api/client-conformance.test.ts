// The API as clients other than kubectl use it. The official JavaScript client
// (@kubernetes/client-node 1.4) drives list/watch/patch/informer flows on built-in kinds
// and custom resources; raw requests phrase things as the Python, Go and Java clients
// do (watch=True, several types in Accept, charset parameters, bookmarks, timeouts).
import test from 'ava';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, KubernetesObjectApi, makeInformer, PatchStrategy, setHeaderOptions, Watch,
  type KubernetesObject, type V1ConfigMap,
} from '@kubernetes/client-node';
import { removeDir, startController, waitFor, type ControllerHandle } from '../helpers/processes.js';

let ctrl: ControllerHandle | undefined;
let kc: KubeConfig;
let ca = '';
const stops: (() => Promise<void> | void)[] = [];

test.before(async () => {
  ctrl = await startController();
  kc = new KubeConfig();
  kc.loadFromFile(ctrl.kubeconfig);
  ca = readFileSync(join(ctrl.dir, 'pki', 'ca.crt'), 'utf8');
});

test.after.always(async () => {
  for (const stop of stops) await Promise.resolve(stop()).catch(() => undefined);
  if (ctrl) { await ctrl.kill(); removeDir(ctrl.dir); }
});

/** A request with exactly the headers a given client sends; watches are cut after cutMs. */
function raw(path: string, headers: Record<string, string>, opts: { method?: string; body?: string; cutMs?: number } = {}): Promise<{ status: number; type: string; text: string; chunked: boolean }> {
  const url = new URL(ctrl!.apiUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: opts.method ?? 'GET', ca, headers: { Authorization: `Bearer ${ctrl!.token}`, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      const done = () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text, chunked: res.headers['transfer-encoding'] === 'chunked' });
      res.on('end', done);
      res.on('close', done);
      if (opts.cutMs) setTimeout(() => req.destroy(), opts.cutMs);
    });
    req.on('error', (err) => (opts.cutMs ? undefined : reject(err)));
    req.end(opts.body);
  });
}

// Typed as V1CustomResourceDefinition: the client's serializer names `default` `_default`.
const crd = {
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.toys.example.com' },
  spec: {
    group: 'toys.example.com', scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
    versions: [{
      name: 'v1', served: true, storage: true, subresources: { status: {} },
      schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer', _default: 3 }, color: { type: 'string' } } }, status: { type: 'object', properties: { ok: { type: 'boolean' } } } } } },
    }],
  },
};

test.serial('typed calls: create, list with a label selector, the three patch types, delete', async (t) => {
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'c1', labels: { app: 'x' } }, data: { a: '1' } } });
  await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'c2', labels: { app: 'y' } }, data: { a: '2' } } });
  const listed = await core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'app=x' });
  t.deepEqual(listed.items.map((c) => c.metadata!.name), ['c1']);
  const page = await core.listNamespacedConfigMap({ namespace: 'default', limit: 1 });
  t.is(page.items.length, 1);
  t.truthy(page.metadata!._continue);
  await core.patchNamespacedConfigMap({ namespace: 'default', name: 'c1', body: { data: { b: '2' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  await core.patchNamespacedConfigMap({ namespace: 'default', name: 'c1', body: [{ op: 'add', path: '/data/c', value: '3' }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
  await core.patchNamespacedConfigMap({ namespace: 'default', name: 'c1', body: { metadata: { labels: { smp: 'yes' } } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
  const c1 = await core.readNamespacedConfigMap({ namespace: 'default', name: 'c1' });
  t.deepEqual(c1.data, { a: '1', b: '2', c: '3' });
  t.is(c1.metadata!.labels!.smp, 'yes');
  await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'c2' });
  const err = await t.throwsAsync(core.readNamespacedConfigMap({ namespace: 'default', name: 'c2' }));
  t.regex(String(err?.message), /404/);
});

test.serial('Watch with bookmarks and a timeout ends cleanly; an informer follows adds, updates and deletes', async (t) => {
  const core = kc.makeApiClient(CoreV1Api);
  const seen: string[] = [];
  let ended: unknown = 'not yet';
  const started = Date.now();
  await new Watch(kc).watch('/api/v1/namespaces/default/configmaps', { allowWatchBookmarks: true, timeoutSeconds: 2, labelSelector: 'app=x' }, (type, obj: V1ConfigMap) => seen.push(`${type} ${obj.metadata?.name}`), (e) => { ended = e ?? null; });
  await waitFor('watch ended by timeoutSeconds', () => ended !== 'not yet', 10_000);
  t.true(Date.now() - started >= 1500);
  t.true(seen.includes('ADDED c1'));

  const events: string[] = [];
  const informer = makeInformer<V1ConfigMap>(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
  for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, (o) => events.push(`${verb} ${o.metadata!.name}`));
  await informer.start();
  stops.push(() => informer.stop());
  await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'inf' } } });
  await core.patchNamespacedConfigMap({ namespace: 'default', name: 'inf', body: { data: { x: 'y' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'inf' });
  await waitFor('informer saw all three', () => ['add inf', 'update inf', 'delete inf'].every((e) => events.includes(e)), 15_000);
  t.true(informer.list('default').some((o) => o.metadata!.name === 'c1'));
  t.false(informer.list('default').some((o) => o.metadata!.name === 'inf'));
});

test.serial('custom resources through CustomObjectsApi, the generic object API and an informer', async (t) => {
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  await ext.createCustomResourceDefinition({ body: crd as any });
  const custom = kc.makeApiClient(CustomObjectsApi);
  const where = { group: 'toys.example.com', version: 'v1', namespace: 'default', plural: 'widgets' };
  const events: string[] = [];
  const informer = makeInformer<KubernetesObject>(kc, '/apis/toys.example.com/v1/namespaces/default/widgets', () => custom.listNamespacedCustomObject(where) as any);
  for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, (o) => events.push(`${verb} ${o.metadata!.name}`));
  await informer.start();
  stops.push(() => informer.stop());

  const created = await custom.createNamespacedCustomObject({ ...where, body: { apiVersion: 'toys.example.com/v1', kind: 'Widget', metadata: { name: 'w1' }, spec: { color: 'red' } } });
  t.is(created.spec.size, 3, 'schema default applied');
  await custom.patchNamespacedCustomObject({ ...where, name: 'w1', body: { spec: { color: 'blue' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  await custom.patchNamespacedCustomObjectStatus({ ...where, name: 'w1', body: { status: { ok: true } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  const got = await custom.getNamespacedCustomObject({ ...where, name: 'w1' });
  t.deepEqual([got.spec.color, got.status.ok], ['blue', true]);
  const invalid = await t.throwsAsync(custom.createNamespacedCustomObject({ ...where, body: { apiVersion: 'toys.example.com/v1', kind: 'Widget', metadata: { name: 'w2' }, spec: { size: 'big' } } }));
  t.regex(String(invalid?.message), /422|spec\.size/);

  // The generic client finds the resource through discovery, then applies server-side.
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const applied = await objects.patch({ apiVersion: 'toys.example.com/v1', kind: 'Widget', metadata: { name: 'w3', namespace: 'default' }, spec: { color: 'green' } } as KubernetesObject, undefined, undefined, 'conformance', true, PatchStrategy.ServerSideApply);
  t.is((applied as any).spec.size, 3);
  const read = await objects.read({ apiVersion: 'toys.example.com/v1', kind: 'Widget', metadata: { name: 'w3', namespace: 'default' } });
  t.is((read as any).spec.color, 'green');
  const list = await objects.list('toys.example.com/v1', 'Widget', 'default', undefined, undefined, undefined, 'metadata.name=w1');
  t.deepEqual(list.items.map((i) => i.metadata!.name), ['w1']);

  await custom.deleteNamespacedCustomObject({ ...where, name: 'w1' });
  await waitFor('informer saw the custom objects change', () => ['add w1', 'update w1', 'add w3', 'delete w1'].every((e) => events.includes(e)), 15_000);
  t.pass();
});

test.serial('requests phrased as the Python, Go and Java clients phrase them', async (t) => {
  const python = { Accept: 'application/json', 'User-Agent': 'OpenAPI-Generator/31.0.0/python' };
  // Python's Watch.stream sends watch=True (str(True)) and timeout_seconds.
  const pyWatch = await raw('/api/v1/namespaces/default/configmaps?watch=True&timeoutSeconds=1&allowWatchBookmarks=True', python);
  t.is(pyWatch.status, 200);
  t.true(pyWatch.chunked);
  t.regex(pyWatch.text, /"type":"ADDED"/);
  const pyList = await raw('/api/v1/namespaces/default/configmaps?watch=False', python);
  t.regex(pyList.text, /"kind":"ConfigMapList"/);
  // Generated clients list every type the operation produces in Accept.
  const many = 'application/json, application/yaml, application/vnd.kubernetes.protobuf, application/json;stream=watch, application/vnd.kubernetes.protobuf;stream=watch';
  const javaGet = await raw('/api/v1/namespaces/default/configmaps/c1', { Accept: many });
  t.is(javaGet.status, 200);
  t.regex(javaGet.type, /application\/json/);
  t.is(JSON.parse(javaGet.text).metadata.name, 'c1');
  const javaWatch = await raw('/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1', { Accept: many });
  t.true(javaWatch.chunked);
  // client-go asks for protobuf first with JSON as the fallback, and watch=1 style values.
  const goList = await raw('/api/v1/namespaces/default/configmaps?limit=500&resourceVersion=0', { Accept: 'application/vnd.kubernetes.protobuf, */*' });
  t.is(goList.status, 200);
  const goWatch = await raw('/api/v1/namespaces/default/configmaps?allowWatchBookmarks=true&resourceVersionMatch=&timeoutSeconds=1&watch=1', { Accept: 'application/json, */*' });
  t.true(goWatch.chunked);
  // Bodies with a charset parameter, with and without a space.
  for (const ct of ['application/json;charset=utf-8', 'application/json; charset=UTF-8']) {
    const name = `cs${ct.length}`;
    const r = await raw('/api/v1/namespaces/default/configmaps', { 'Content-Type': ct, Accept: 'application/json' }, { method: 'POST', body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } }) });
    t.is(r.status, 201, ct);
  }
  const patch = await raw('/api/v1/namespaces/default/configmaps/c1', { 'Content-Type': 'application/merge-patch+json; charset=utf-8' }, { method: 'PATCH', body: '{"data":{"z":"1"}}' });
  t.is(patch.status, 200);
  // Helm-era tools read Swagger 2.0 as JSON; client-go asks for the protobuf form and gets it.
  const v2 = await raw('/openapi/v2', { Accept: 'application/json' });
  t.is(v2.status, 200);
  const swagger = JSON.parse(v2.text);
  t.is(swagger.swagger, '2.0');
  t.truthy(swagger.definitions['io.k8s.api.core.v1.ConfigMap']);
  t.truthy(swagger.definitions['com.example.toys.v1.Widget']);
  t.truthy(swagger.paths['/apis/toys.example.com/v1/namespaces/{namespace}/widgets']);
  t.false(v2.text.includes('#/components/schemas/'));
  const proto = await raw('/openapi/v2', { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' });
  t.is(proto.status, 200);
  t.regex(proto.type, /proto-openapi\.spec\.v2/);
  // An empty boolean is unset, as upstream's decoder reads it.
  t.is((await raw('/api/v1/namespaces/default/configmaps?watch=', python)).status, 200);
});

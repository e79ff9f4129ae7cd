import test from 'ava';
import { openapiV3Document, openapiV3Index, type ServedKind } from '../../controller/apiserver/openapi.js';
import { SERVED } from './served-kinds.js';


type Json = Record<string, any>;
const METHODS = ['get', 'put', 'post', 'patch', 'delete'];

test('the index lists one document per group/version with a stable hash', (t) => {
  const index = openapiV3Index(SERVED) as Json;
  t.deepEqual(Object.keys(index.paths).sort(), ['api/v1', 'apis/apps/v1', 'apis/coordination.k8s.io/v1', 'apis/discovery.k8s.io/v1']);
  const url = index.paths['api/v1'].serverRelativeURL as string;
  t.regex(url, /^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{32,}$/);
  // Same content → same hash, even for a fresh copy of the kind list.
  t.deepEqual(openapiV3Index(JSON.parse(JSON.stringify(SERVED)) as ServedKind[]), index);
  // Different content → different hash.
  const fewer = openapiV3Index(SERVED.filter((k) => k.kind !== 'ConfigMap')) as Json;
  t.not(fewer.paths['api/v1'].serverRelativeURL, url);
  t.is(fewer.paths['apis/apps/v1'].serverRelativeURL, index.paths['apis/apps/v1'].serverRelativeURL);
});

test('unknown group/versions have no document', (t) => {
  t.is(openapiV3Document(SERVED, 'apis/batch/v1'), undefined);
  t.is(openapiV3Document(SERVED, 'api/v2'), undefined);
  t.truthy(openapiV3Document(SERVED, '/api/v1'));
});

test('documents carry real schemas with upstream names, GVKs and resolvable refs', (t) => {
  for (const gv of ['api/v1', 'apis/apps/v1', 'apis/coordination.k8s.io/v1']) {
    const doc = JSON.parse(JSON.stringify(openapiV3Document(SERVED, gv))) as Json;
    t.is(doc.openapi, '3.0.0');
    const schemas = doc.components.schemas as Json;
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    t.true(refs.length > 10);
    for (const ref of refs) {
      const target = ref.slice('"$ref":"'.length, -1);
      t.true(target.startsWith('#/components/schemas/'), target);
      t.truthy(schemas[target.slice('#/components/schemas/'.length)], `${gv}: ${target}`);
    }
  }
  const core = openapiV3Document(SERVED, 'api/v1') as Json;
  const pod = core.components.schemas['io.k8s.api.core.v1.Pod'];
  t.deepEqual(pod['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Pod', version: 'v1' }]);
  t.deepEqual(pod.properties.spec.allOf, [{ $ref: '#/components/schemas/io.k8s.api.core.v1.PodSpec' }]);
  const containers = core.components.schemas['io.k8s.api.core.v1.PodSpec'].properties.containers;
  t.is(containers.type, 'array');
  t.deepEqual(containers.items.allOf, [{ $ref: '#/components/schemas/io.k8s.api.core.v1.Container' }]);
  t.regex(containers.description, /List of containers belonging to the pod/);
  t.deepEqual(core.components.schemas['io.k8s.api.core.v1.PodSpec'].required, ['containers']);
  t.deepEqual(core.components.schemas['io.k8s.api.core.v1.Container'].properties.imagePullPolicy.enum, ['Always', 'IfNotPresent', 'Never']);
  t.is(core.components.schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString'].format, 'int-or-string');
  t.is(core.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.Time'].format, 'date-time');
  t.truthy(core.components.schemas['io.k8s.api.core.v1.PodList']);
  const apps = openapiV3Document(SERVED, 'apis/apps/v1') as Json;
  // The scale subresource's body kind lives in autoscaling/v1 but is described here.
  t.deepEqual(apps.components.schemas['io.k8s.api.autoscaling.v1.Scale']['x-kubernetes-group-version-kind'], [{ group: 'autoscaling', kind: 'Scale', version: 'v1' }]);
  t.truthy(apps.components.schemas['io.k8s.api.core.v1.PodTemplateSpec']);
});

test('every write operation declares fieldValidation and its kind', (t) => {
  let writes = 0;
  for (const gv of ['api/v1', 'apis/apps/v1', 'apis/coordination.k8s.io/v1', 'apis/discovery.k8s.io/v1']) {
    const doc = openapiV3Document(SERVED, gv) as Json;
    for (const [p, item] of Object.entries(doc.paths as Json)) {
      for (const method of METHODS) {
        const op = (item as Json)[method];
        if (!op) continue;
        t.truthy(op.operationId, `${method} ${p}`);
        t.truthy(op.responses['200'] ?? op.responses['201'], `${method} ${p}`);
        if (method === 'put' || method === 'post' || method === 'patch') {
          writes++;
          t.true((op.parameters as Json[]).some((q) => q.name === 'fieldValidation' && q.in === 'query'), `${method} ${p}`);
          t.truthy(op['x-kubernetes-group-version-kind'], `${method} ${p}`);
        }
      }
    }
  }
  t.true(writes > 20);
  const core = openapiV3Document(SERVED, 'api/v1') as Json;
  const item = core.paths['/api/v1/namespaces/{namespace}/pods/{name}'];
  t.deepEqual(item.patch['x-kubernetes-group-version-kind'], { group: '', version: 'v1', kind: 'Pod' });
  t.true(Object.keys(item.patch.requestBody.content).includes('application/strategic-merge-patch+json'));
  t.truthy(core.paths['/api/v1/pods'].get);
  t.truthy(core.paths['/api/v1/nodes/{name}'].patch);
  t.deepEqual(core.paths['/api/v1/namespaces/{namespace}/pods/{name}/binding'].post['x-kubernetes-group-version-kind'], { group: '', version: 'v1', kind: 'Binding' });
  t.truthy(core.paths['/api/v1/namespaces/{namespace}/pods/{name}/log'].get);
  const apps = openapiV3Document(SERVED, 'apis/apps/v1') as Json;
  t.deepEqual(apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'].patch['x-kubernetes-group-version-kind'], { group: 'autoscaling', version: 'v1', kind: 'Scale' });
});

test('documents are cached', (t) => {
  t.is(openapiV3Document(SERVED, 'api/v1'), openapiV3Document(SERVED, 'api/v1'));
});

// The pinned schema file is what the installed kubernetes-models packages describe: an
// upgrade of those packages that changes a definition (or how its declarations are
// written) fails here until `npm run schemas` is run and the diff reviewed.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { readAllDefinitions, sourcePackages } from '../../scripts/schema-declarations.js';
import { definition, definitionsFileUrl, loadKind, loadMetaDefinition } from '../../controller/apiserver/validation/schema-catalog.js';

const pinned = JSON.parse(readFileSync(definitionsFileUrl(), 'utf8')) as { source: string; definitions: Record<string, unknown> };

test('the pinned definitions match the installed packages', (t) => {
  t.is(pinned.source, sourcePackages());
  const fresh = readAllDefinitions();
  t.deepEqual(Object.keys(pinned.definitions), Object.keys(fresh));
  for (const [name, schema] of Object.entries(fresh)) t.deepEqual(pinned.definitions[name], JSON.parse(JSON.stringify(schema)), name);
});

test('served kinds and meta definitions resolve from the pinned file', (t) => {
  const pod = loadKind('', 'v1', 'Pod');
  t.is(pod, 'io.k8s.api.core.v1.Pod');
  const schema = definition(pod)!;
  t.deepEqual(schema['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Pod', version: 'v1' }]);
  t.is(schema.properties?.spec?.$ref, 'io.k8s.api.core.v1.PodSpec');
  t.falsy(schema.required?.includes('kind'), 'kind is optional on the wire');
  t.is(loadMetaDefinition('apis/meta/v1/ObjectMeta'), 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
  t.throws(() => loadKind('apps', 'v1', 'NoSuchKind'), { message: /no schema definition io\.k8s\.api\.apps\.v1\.NoSuchKind/ });
});

// Patches recorded from a real `kubectl apply` (v1.32) of edited manifests; applying each to
// the live object must give exactly the edit, keep what the server added, and store no
// directive.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { applyPatch } from '../../controller/apiserver/patch/index.js';

interface Fixture { scenario: string; contentType: string; live: any; patch: any }

function fixture(name: string): Fixture {
  const path = fileURLToPath(new URL(`../../../test/fixtures/kubectl-apply/deployment-${name}.json`, import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')) as Fixture;
}

/** The live object as it should be after the apply: the edit plus the new last-applied annotation. */
function expectedAfter(f: Fixture, edit: (d: any) => void): any {
  const d = structuredClone(f.live);
  d.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] = f.patch.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'];
  edit(d);
  return d;
}

function apply(f: Fixture): any {
  return applyPatch(f.contentType, f.live, f.patch, 'apps', 'Deployment');
}

test('kubectl sends strategic merge patches', (t) => {
  for (const name of ['image', 'delete', 'env', 'strategy']) t.is(fixture(name).contentType, 'application/strategic-merge-patch+json');
});

test('new image: only the image changes, server defaults on the container stay', (t) => {
  const f = fixture('image');
  t.deepEqual(apply(f), expectedAfter(f, (d) => { d.spec.template.spec.containers[0].image = 'localhost/busybox:v2'; }));
});

test('container removed from the manifest is deleted', (t) => {
  const f = fixture('delete');
  const out = apply(f);
  t.deepEqual(out, expectedAfter(f, (d) => { d.spec.template.spec.containers.splice(1, 1); }));
  t.deepEqual(out.spec.template.spec.containers.map((c: any) => c.name), ['hello']);
});

test('env edited: changed, added and removed entries in manifest order', (t) => {
  const f = fixture('env');
  t.deepEqual(apply(f), expectedAfter(f, (d) => {
    d.spec.template.spec.containers[0].env = [{ name: 'A', value: 'one' }, { name: 'D', value: '4' }, { name: 'C', value: '3' }];
  }));
});

test('strategy switched to Recreate: $retainKeys drops rollingUpdate; a removed label goes', (t) => {
  const f = fixture('strategy');
  t.deepEqual(apply(f), expectedAfter(f, (d) => {
    d.spec.strategy = { type: 'Recreate' };
    delete d.metadata.labels.stage;
  }));
});

test('the recorded live objects are left as they were', (t) => {
  const f = fixture('env');
  const before = JSON.stringify(f.live);
  apply(f);
  t.is(JSON.stringify(f.live), before);
});

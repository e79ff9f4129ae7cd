import test from 'ava';
import { applyPatch, PatchError, patchMediaType, UnsupportedPatchType } from '../../controller/apiserver/patch/index.js';

const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { app: 'web' } }, spec: { containers: [{ name: 'httpd', image: 'a' }, { name: 'side', image: 'b' }] } };

test('dispatches on the content type, parameters and case ignored', (t) => {
  t.is(patchMediaType('Application/Merge-Patch+JSON; charset=utf-8'), 'application/merge-patch+json');
  const merged = applyPatch('application/merge-patch+json; charset=utf-8', pod, { spec: { containers: [{ name: 'httpd', image: 'c' }] } }, '', 'Pod') as any;
  t.deepEqual(merged.spec.containers, [{ name: 'httpd', image: 'c' }], 'merge patch replaces lists');
  const strategic = applyPatch('application/strategic-merge-patch+json', pod, { spec: { containers: [{ name: 'httpd', image: 'c' }] } }, '', 'Pod') as any;
  t.deepEqual(strategic.spec.containers, [{ name: 'httpd', image: 'c' }, { name: 'side', image: 'b' }], 'strategic merge patch merges by name');
  const json = applyPatch('application/json-patch+json', pod, [{ op: 'replace', path: '/spec/containers/1/image', value: 'd' }], '', 'Pod') as any;
  t.is(json.spec.containers[1].image, 'd');
  t.is(pod.spec.containers[1]!.image, 'b');
});

test('apply patches and unknown types raise UnsupportedPatchType', (t) => {
  for (const type of ['application/apply-patch+yaml', 'application/json', 'text/plain', '']) {
    const error = t.throws(() => applyPatch(type, pod, {}, '', 'Pod'), { instanceOf: UnsupportedPatchType });
    t.is(error!.contentType, type);
  }
});

test('bad patches raise PatchError', (t) => {
  t.throws(() => applyPatch('application/json-patch+json', pod, { op: 'add' }, '', 'Pod'), { instanceOf: PatchError });
  t.throws(() => applyPatch('application/strategic-merge-patch+json', pod, [1], '', 'Pod'), { instanceOf: PatchError });
});

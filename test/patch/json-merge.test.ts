import test from 'ava';
import { applyMergePatch } from '../../controller/apiserver/patch/json-merge.js';

// The examples of RFC 7386, appendix A.
const rfcCases: [unknown, unknown, unknown][] = [
  [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
  [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
  [{ a: 'b' }, { a: null }, {}],
  [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
  [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
  [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
  [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
  [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
  [['a', 'b'], ['c', 'd'], ['c', 'd']],
  [{ a: 'b' }, ['c'], ['c']],
  [{ a: 'foo' }, null, null],
  [{ a: 'foo' }, 'bar', 'bar'],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: 'b', c: null }, { a: 'b' }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

rfcCases.forEach(([target, patch, expected], i) => {
  test(`RFC 7386 example ${i + 1}`, (t) => {
    t.deepEqual(applyMergePatch(target, patch), expected);
  });
});

test('kubectl scale and label patches', (t) => {
  const deploy = { metadata: { name: 'web', labels: { app: 'web', old: 'x' } }, spec: { replicas: 1, template: { spec: { containers: [{ name: 'c' }] } } } };
  t.deepEqual(applyMergePatch(deploy, { spec: { replicas: 3 } }), { ...deploy, spec: { ...deploy.spec, replicas: 3 } });
  t.deepEqual((applyMergePatch(deploy, { metadata: { labels: { old: null, tier: 'front' } } }) as any).metadata.labels, { app: 'web', tier: 'front' });
});

test('the inputs are never changed', (t) => {
  const target = { a: { b: 1, c: [1, 2] } };
  const patch = { a: { b: null, d: { e: 1 } } };
  const before = JSON.stringify([target, patch]);
  const result = applyMergePatch(target, patch) as any;
  t.is(JSON.stringify([target, patch]), before);
  result.a.d.e = 2;
  t.is(patch.a.d.e, 1);
  result.a.c.push(3);
  t.deepEqual(target.a.c, [1, 2], 'untouched parts of the result are copies too');
});

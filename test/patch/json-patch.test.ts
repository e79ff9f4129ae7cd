import test from 'ava';
import { PatchError } from '../../controller/apiserver/patch/patch-errors.js';
import { applyJsonPatch, parsePointer } from '../../controller/apiserver/patch/json-patch.js';

test('pointers decode ~1 and ~0 in that order', (t) => {
  t.deepEqual(parsePointer(''), []);
  t.deepEqual(parsePointer('/metadata/labels/app.kubernetes.io~1name'), ['metadata', 'labels', 'app.kubernetes.io/name']);
  t.deepEqual(parsePointer('/a~01'), ['a~1']);
  t.deepEqual(parsePointer('/'), ['']);
  t.throws(() => parsePointer('a/b'), { instanceOf: PatchError });
  t.throws(() => parsePointer('/a~2'), { instanceOf: PatchError });
});

test('add, remove, replace on objects and arrays (RFC 6902 examples)', (t) => {
  t.deepEqual(applyJsonPatch({ foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }]), { foo: 'bar', baz: 'qux' });
  t.deepEqual(applyJsonPatch({ foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }]), { foo: ['bar', 'qux', 'baz'] });
  t.deepEqual(applyJsonPatch({ baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }]), { foo: 'bar' });
  t.deepEqual(applyJsonPatch({ foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }]), { foo: ['bar', 'baz'] });
  t.deepEqual(applyJsonPatch({ baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }]), { baz: 'boo', foo: 'bar' });
  t.deepEqual(applyJsonPatch({ foo: ['bar'] }, [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }]), { foo: ['bar', ['abc', 'def']] });
  t.deepEqual(applyJsonPatch({ foo: 'bar' }, [{ op: 'add', path: '/child', value: { grandchild: {} } }]), { foo: 'bar', child: { grandchild: {} } });
  t.deepEqual(applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '', value: [1] }]), [1]);
});

test('move and copy', (t) => {
  t.deepEqual(applyJsonPatch({ foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } }, [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }]),
    { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } });
  t.deepEqual(applyJsonPatch({ foo: ['all', 'grass', 'cows', 'eat'] }, [{ op: 'move', from: '/foo/1', path: '/foo/3' }]), { foo: ['all', 'cows', 'eat', 'grass'] });
  const copied = applyJsonPatch({ a: { b: [1] } }, [{ op: 'copy', from: '/a', path: '/c' }]) as any;
  t.deepEqual(copied, { a: { b: [1] }, c: { b: [1] } });
  copied.c.b.push(2);
  t.deepEqual(copied.a.b, [1], 'a copy is independent of its source');
  t.throws(() => applyJsonPatch({ a: { b: 1 } }, [{ op: 'move', from: '/a', path: '/a/b/c' }]), { instanceOf: PatchError });
});

test('test succeeds on equal values and fails the whole patch otherwise', (t) => {
  const doc = { baz: 'qux', foo: ['a', 2, 'c'], m: { x: 1, y: 2 } };
  t.deepEqual(applyJsonPatch(doc, [{ op: 'test', path: '/baz', value: 'qux' }, { op: 'test', path: '/foo/1', value: 2 }, { op: 'test', path: '/m', value: { y: 2, x: 1 } }]), doc);
  const error = t.throws(() => applyJsonPatch(doc, [{ op: 'replace', path: '/baz', value: 'new' }, { op: 'test', path: '/baz', value: 'bar' }]), { instanceOf: PatchError });
  t.regex(error!.message, /test operation 1 failed/);
  t.is(doc.baz, 'qux', 'a failed patch changes nothing');
  t.throws(() => applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: '1' }]), { instanceOf: PatchError });
});

test('escaped keys as client-node sends for labels', (t) => {
  const pod = { metadata: { labels: { 'app.kubernetes.io/name': 'web', 'a~b': 'x' } } };
  const out = applyJsonPatch(pod, [
    { op: 'replace', path: '/metadata/labels/app.kubernetes.io~1name', value: 'api' },
    { op: 'remove', path: '/metadata/labels/a~0b' },
  ]);
  t.deepEqual(out, { metadata: { labels: { 'app.kubernetes.io/name': 'api' } } });
});

test('errors are readable PatchErrors', (t) => {
  const bad: [unknown, unknown, RegExp][] = [
    [{}, { op: 'add', path: '/a' }, /not an array|array of operations/],
    [{}, [{ op: 'add', path: '/a' }], /no "value"/],
    [{}, [{ op: 'remove', path: '/missing' }], /does not exist/],
    [{}, [{ op: 'replace', path: '/missing', value: 1 }], /does not exist/],
    [{}, [{ op: 'add', path: '/a/b', value: 1 }], /does not exist/],
    [{ l: [1] }, [{ op: 'add', path: '/l/5', value: 1 }], /out of range/],
    [{ l: [1] }, [{ op: 'add', path: '/l/01', value: 1 }], /not an array index/],
    [{ l: [1] }, [{ op: 'remove', path: '/l/-' }], /not an array index/],
    [{}, [{ op: 'frobnicate', path: '/a' }], /unknown op/],
    [{}, [{ op: 'move', path: '/a' }], /"from"/],
    [{}, [{ op: 'add', value: 1 }], /"path"/],
    [{}, [{ op: 'remove', path: '' }], /whole document/],
  ];
  for (const [doc, patch, message] of bad) t.throws(() => applyJsonPatch(doc, patch), { instanceOf: PatchError, message }, JSON.stringify(patch));
});

test('the input document is never changed', (t) => {
  const doc = { spec: { containers: [{ name: 'a', image: 'x' }] } };
  const before = JSON.stringify(doc);
  const value = { name: 'b', image: 'y' };
  const out = applyJsonPatch(doc, [{ op: 'add', path: '/spec/containers/-', value }, { op: 'replace', path: '/spec/containers/0/image', value: 'z' }]) as any;
  t.is(JSON.stringify(doc), before);
  t.deepEqual(out.spec.containers, [{ name: 'a', image: 'z' }, { name: 'b', image: 'y' }]);
  out.spec.containers[1].image = 'changed';
  t.is(value.image, 'y');
});

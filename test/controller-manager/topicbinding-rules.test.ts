// The pure rules of TopicBinding: picking a value out of a payload, the condition, and
// which node writes bring the cluster in line.
import test from 'ava';
import type { Node } from '../../protocol/kube/types.js';
import { conditionHolds, extractValue, SignalError } from '../../controller/topicbindings/signal.js';
import { nodesCarrying, planNodeChanges } from '../../controller/topicbindings/node-changes.js';
import type { TopicBindingSpec } from '../../controller/topicbindings/topic-binding-types.js';

test('the value is the trimmed payload, or the JSON value at a dotted path', (t) => {
  t.is(extractValue(Buffer.from(' true\n'), ''), 'true');
  t.is(extractValue('{"ups":{"battery":[{"pct":41}]}}', 'ups.battery[0].pct'), '41');
  t.is(extractValue('{"ups":{"on":true}}', '$.ups.on'), 'true');
  t.is(extractValue('{"state":"ON"}', 'state'), 'ON');
  t.throws(() => extractValue('not json', 'a'), { instanceOf: SignalError, message: /not JSON/ });
  t.throws(() => extractValue('{"a":1}', 'b'), { instanceOf: SignalError, message: /nothing at "b"/ });
  t.throws(() => extractValue('{"a":1}', 'a]'), { instanceOf: SignalError });
});

test('equals compares text; above and below compare numbers; all given comparisons must hold', (t) => {
  t.true(conditionHolds({ equals: 'true' }, 'true'));
  t.false(conditionHolds({ equals: 'true' }, 'True'));
  t.true(conditionHolds({ above: 100 }, '250.5'));
  t.false(conditionHolds({ above: 100 }, '100'));
  t.false(conditionHolds({ below: 20 }, 'n/a'), 'a non-number never compares');
  t.false(conditionHolds({ below: 20 }, ''), 'an empty value is not zero');
  t.true(conditionHolds({ above: 10, below: 20 }, '15'));
  t.false(conditionHolds({ above: 10, below: 20 }, '25'));
});

const node = (name: string, labels: Record<string, string> = {}, taints: Node['spec'] = {}): Node =>
  ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec: taints }) as Node;
const TAINT: TopicBindingSpec = { topic: 'home/ups', when: { equals: 'true' }, nodeSelector: { power: 'ups' }, taint: { key: 'pikube.io/on-battery', effect: 'NoSchedule' } };

test('while active, selected nodes get the taint once; other taints are kept; unselected nodes are left alone', (t) => {
  const nodes = [
    node('a', { power: 'ups' }, { taints: [{ key: 'other', effect: 'NoExecute' }] }),
    node('b', { power: 'ups' }, { taints: [{ key: 'pikube.io/on-battery', effect: 'NoSchedule' }] }),
    node('c', { power: 'mains' }),
  ];
  t.deepEqual(planNodeChanges(TAINT, true, nodes), [
    { node: 'a', taints: [{ key: 'other', effect: 'NoExecute' }, { key: 'pikube.io/on-battery', effect: 'NoSchedule' }] },
  ]);
  t.deepEqual(nodesCarrying(TAINT, nodes), ['b']);
});

test('when inactive, or when a node leaves the selection, the taint comes off', (t) => {
  const tainted = { taints: [{ key: 'pikube.io/on-battery', effect: 'NoSchedule' as const }, { key: 'other', effect: 'NoExecute' as const }] };
  t.deepEqual(planNodeChanges(TAINT, false, [node('a', { power: 'ups' }, tainted)]), [{ node: 'a', taints: [{ key: 'other', effect: 'NoExecute' }] }]);
  t.deepEqual(planNodeChanges(TAINT, true, [node('c', { power: 'mains' }, tainted)]), [{ node: 'c', taints: [{ key: 'other', effect: 'NoExecute' }] }]);
});

test('labels are set while active and removed only where they still carry the binding value', (t) => {
  const spec: TopicBindingSpec = { topic: 'home/solar', when: { above: 500 }, labels: { 'pikube.io/solar': 'surplus' } };
  t.deepEqual(planNodeChanges(spec, true, [node('a'), node('b', { 'pikube.io/solar': 'surplus' })]), [{ node: 'a', labels: { 'pikube.io/solar': 'surplus' } }]);
  t.deepEqual(planNodeChanges(spec, false, [node('a', { 'pikube.io/solar': 'surplus' }), node('b', { 'pikube.io/solar': 'manual' })]), [{ node: 'a', labels: { 'pikube.io/solar': null } }]);
});

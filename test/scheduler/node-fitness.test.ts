// One rule for "may this pod run on this node", shared by the scheduler and the DaemonSet
// controller: the cases below follow upstream's node affinity and taint semantics
// (k8s.io/component-helpers/scheduling/corev1 and its nodeaffinity package).
import test from 'ava';
import type { Node, PodSpec, Taint, Toleration } from '../../protocol/kube/types.js';
import { nodeMatchesRequired } from '../../controller/scheduler/node-affinity.js';
import { firstUntoleratedTaint, toleratesTaint } from '../../controller/scheduler/taints.js';

const node = (labels: Record<string, string>, name = 'pi-01'): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels } }) as Node;
const req = (key: string, operator: string, values?: string[]) => ({ key, operator, values });
const required = (...terms: object[]): PodSpec => ({ containers: [], affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } }) as PodSpec;

const AFFINITY_CASES: { name: string; spec: PodSpec; labels: Record<string, string>; fits: boolean }[] = [
  { name: 'no constraint fits everywhere', spec: { containers: [] } as PodSpec, labels: {}, fits: true },
  { name: 'nodeSelector needs every label', spec: { containers: [], nodeSelector: { a: '1', b: '2' } } as PodSpec, labels: { a: '1' }, fits: false },
  { name: 'nodeSelector AND affinity', spec: { ...required({ matchExpressions: [req('z', 'Exists')] }), nodeSelector: { a: '1' } }, labels: { z: 'x' }, fits: false },
  { name: 'terms are ORed', spec: required({ matchExpressions: [req('z', 'In', ['a'])] }, { matchExpressions: [req('z', 'In', ['b'])] }), labels: { z: 'b' }, fits: true },
  { name: 'expressions in a term are ANDed', spec: required({ matchExpressions: [req('z', 'In', ['b']), req('y', 'Exists')] }), labels: { z: 'b' }, fits: false },
  { name: 'an empty term matches nothing', spec: required({}), labels: { z: 'b' }, fits: false },
  { name: 'empty nodeSelectorTerms match nothing', spec: required(), labels: { z: 'b' }, fits: false },
  { name: 'NotIn matches an absent label', spec: required({ matchExpressions: [req('z', 'NotIn', ['a'])] }), labels: {}, fits: true },
  { name: 'Gt compares integers', spec: required({ matchExpressions: [req('cores', 'Gt', ['3'])] }), labels: { cores: '4' }, fits: true },
  { name: 'Gt with a non-integer label never matches', spec: required({ matchExpressions: [req('cores', 'Gt', ['3'])] }), labels: { cores: '4.5' }, fits: false },
  { name: 'Lt with a non-integer bound never matches', spec: required({ matchExpressions: [req('cores', 'Lt', ['x'])] }), labels: { cores: '1' }, fits: false },
  { name: 'matchFields on metadata.name', spec: required({ matchFields: [req('metadata.name', 'In', ['pi-01'])] }), labels: {}, fits: true },
  { name: 'matchFields only knows metadata.name', spec: required({ matchFields: [req('metadata.uid', 'In', ['pi-01'])] }), labels: {}, fits: false },
  { name: 'matchFields takes only In and NotIn', spec: required({ matchFields: [req('metadata.name', 'Exists')] }), labels: {}, fits: false },
];

for (const c of AFFINITY_CASES) {
  test(`affinity: ${c.name}`, (t) => t.is(nodeMatchesRequired(c.spec, node(c.labels)), c.fits));
}

const taint = (key: string, effect: Taint['effect'], value?: string): Taint => ({ key, effect, value });
const TOLERATION_CASES: { name: string; toleration: Toleration; taint: Taint; tolerated: boolean }[] = [
  { name: 'Equal compares key and value', toleration: { key: 'k', value: 'v' }, taint: taint('k', 'NoSchedule', 'v'), tolerated: true },
  { name: 'Equal with another value', toleration: { key: 'k', operator: 'Equal', value: 'w' }, taint: taint('k', 'NoSchedule', 'v'), tolerated: false },
  { name: 'Exists ignores the value', toleration: { key: 'k', operator: 'Exists' }, taint: taint('k', 'NoExecute', 'v'), tolerated: true },
  { name: 'Exists with an empty key tolerates every taint', toleration: { operator: 'Exists' }, taint: taint('any', 'NoExecute'), tolerated: true },
  { name: 'Equal with an empty key tolerates nothing', toleration: { value: '' }, taint: taint('k', 'NoSchedule'), tolerated: false },
  { name: 'an effect must match when given', toleration: { key: 'k', operator: 'Exists', effect: 'NoSchedule' }, taint: taint('k', 'NoExecute'), tolerated: false },
  { name: 'an empty effect matches every effect', toleration: { key: 'k', operator: 'Exists' }, taint: taint('k', 'PreferNoSchedule'), tolerated: true },
];

for (const c of TOLERATION_CASES) {
  test(`taints: ${c.name}`, (t) => t.is(toleratesTaint(c.toleration, c.taint), c.tolerated));
}

test('taints: PreferNoSchedule never keeps a pod off; the first untolerated hard taint is named', (t) => {
  const taints = [taint('soft', 'PreferNoSchedule'), taint('a', 'NoSchedule'), taint('b', 'NoExecute')];
  t.is(firstUntoleratedTaint(taints, [])?.key, 'a');
  t.is(firstUntoleratedTaint(taints, [{ key: 'a', operator: 'Exists' }])?.key, 'b');
  t.is(firstUntoleratedTaint(taints, [{ operator: 'Exists' }]), undefined);
});

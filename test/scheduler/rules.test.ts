// The pure rules behind the scheduler: affinity operators, toleration matching, request
// arithmetic and the wording and order of the failure message.
import test from 'ava';
import type { Pod } from '../../protocol/kube/types.js';
import { fitErrorMessage } from '../../controller/scheduler/fit-error.js';
import { termMatcher, requiredNodeMatcher } from '../../controller/scheduler/node-affinity.js';
import { podHostPorts, podRequests } from '../../controller/scheduler/pod-requests.js';
import { countIntolerablePreferNoSchedule, firstUntoleratedTaint, toleratesTaint } from '../../controller/scheduler/taints.js';
import { NodeInfo } from '../../controller/scheduler/node-info.js';
import { pickBest } from '../../controller/scheduler/tie-break.js';
import { podObject } from './objects.js';

test('node selector terms: every operator, matchFields on metadata.name, empty term matches nothing', (t) => {
  const labels = { cores: '4', zone: 'attic' };
  const m = (key: string, operator: string, values?: string[]) => termMatcher({ matchExpressions: [{ key, operator, values }] })(labels, 'pi-01');
  t.true(m('zone', 'In', ['attic', 'cellar']));
  t.false(m('zone', 'NotIn', ['attic']));
  t.true(m('disk', 'NotIn', ['ssd']));
  t.true(m('zone', 'Exists'));
  t.true(m('disk', 'DoesNotExist'));
  t.true(m('cores', 'Gt', ['3']));
  t.false(m('cores', 'Gt', ['4']));
  t.true(m('cores', 'Lt', ['5']));
  t.false(m('zone', 'Gt', ['1']), 'a non-integer label never compares');
  t.false(m('cores', 'Gt', ['1', '2']), 'Gt takes exactly one value');
  t.true(termMatcher({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['pi-01'] }] })(labels, 'pi-01'));
  t.false(termMatcher({ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['pi-01'] }] })(labels, 'pi-01'));
  t.false(termMatcher({})(labels, 'pi-01'));
});

test('nodeSelector and affinity terms: selector AND (term OR term)', (t) => {
  const pod = podObject('p', {
    nodeSelector: { arch: 'arm64' },
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['attic'] }] },
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['cellar'] }] },
    ] } } },
  });
  const match = requiredNodeMatcher(pod)!;
  t.true(match({ arch: 'arm64', zone: 'cellar' }, 'a'));
  t.false(match({ arch: 'amd64', zone: 'cellar' }, 'a'));
  t.false(match({ arch: 'arm64', zone: 'garage' }, 'a'));
  t.is(requiredNodeMatcher(podObject('free')), undefined);
});

test('tolerations: Equal compares values, Exists ignores them, empty key with Exists tolerates all, effects must agree', (t) => {
  const taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' as const };
  t.true(toleratesTaint({ key: 'dedicated', value: 'gpu' }, taint));
  t.false(toleratesTaint({ key: 'dedicated', value: 'cpu' }, taint));
  t.true(toleratesTaint({ key: 'dedicated', operator: 'Exists' }, taint));
  t.true(toleratesTaint({ operator: 'Exists' }, taint));
  t.false(toleratesTaint({ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, taint));
  t.false(toleratesTaint({ value: 'gpu' }, taint), 'an empty key needs Exists');
  t.is(firstUntoleratedTaint([{ key: 'soft', effect: 'PreferNoSchedule' }, taint], []), taint);
  t.is(countIntolerablePreferNoSchedule([{ key: 'soft', effect: 'PreferNoSchedule' }, taint], []), 1);
  t.is(countIntolerablePreferNoSchedule([{ key: 'soft', effect: 'PreferNoSchedule' }], [{ key: 'soft', operator: 'Exists', effect: 'NoExecute' }]), 1);
});

test('requests: containers add up, init containers count as their maximum, limits stand in for missing requests', (t) => {
  const pod: Pod = podObject('p');
  pod.spec.containers = [
    { name: 'a', image: 'x', resources: { requests: { cpu: '250m', memory: '128Mi' } } },
    { name: 'b', image: 'x', resources: { limits: { cpu: '1', memory: '1Gi', 'example.com/dongle': '1' } } },
    { name: 'c', image: 'x' },
  ];
  pod.spec.initContainers = [{ name: 'i', image: 'x', resources: { requests: { cpu: '2' } } }];
  const r = podRequests(pod);
  t.is(r.milliCpu, 2000);
  t.is(r.memory, 128 * 2 ** 20 + 2 ** 30);
  t.is(r.scalar?.get('example.com/dongle'), 1);
  t.is(r.nonZeroMilliCpu, 2000);
  t.is(r.nonZeroMemory, 128 * 2 ** 20 + 2 ** 30 + 200 * 2 ** 20, 'the request-less container counts 200Mi for scoring');
});

test('host ports: same port and protocol clash unless both bind different specific addresses', (t) => {
  const n = new NodeInfo('pi-01');
  const pod = podObject('p', { hostPort: 8080 });
  n.addPod({ requests: podRequests(pod), ports: podHostPorts(pod) });
  t.true(n.portsConflict([{ protocol: 'TCP', ip: '0.0.0.0', port: 8080 }]));
  t.true(n.portsConflict([{ protocol: 'TCP', ip: '10.0.0.1', port: 8080 }]));
  t.false(n.portsConflict([{ protocol: 'UDP', ip: '0.0.0.0', port: 8080 }]));
  t.false(n.portsConflict([{ protocol: 'TCP', ip: '0.0.0.0', port: 8081 }]));
  n.removePod({ requests: podRequests(pod), ports: podHostPorts(pod) });
  n.addPod({ requests: podRequests(pod), ports: [{ protocol: 'TCP', ip: '10.0.0.1', port: 9000 }] });
  t.false(n.portsConflict([{ protocol: 'TCP', ip: '10.0.0.2', port: 9000 }]));
  t.true(n.portsConflict([{ protocol: 'TCP', ip: '10.0.0.1', port: 9000 }]));
  t.is(n.podCount, 1);
});

test('failure message: "<count> <reason>" sorted as strings, then the preemption summary', (t) => {
  const pod = podObject('p');
  const msg = fitErrorMessage(pod, 12, [
    ...Array.from({ length: 10 }, () => ({ reasons: ['Insufficient cpu', 'Insufficient memory'], preemptionMightHelp: true })),
    { reasons: ["node(s) didn't match Pod's node affinity/selector"], preemptionMightHelp: false },
    { reasons: ['node(s) had untolerated taint {a: b}'], preemptionMightHelp: false },
  ]);
  t.is(msg, "0/12 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {a: b}, 10 Insufficient cpu, 10 Insufficient memory. preemption: 0/12 nodes are available: 10 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.");
  const never = podObject('q');
  (never.spec as { preemptionPolicy?: string }).preemptionPolicy = 'Never';
  t.is(fitErrorMessage(never, 1, [{ reasons: ['Too many pods'], preemptionMightHelp: true }]), '0/1 nodes are available: 1 Too many pods. preemption: not eligible due to preemptionPolicy=Never.');
});

test('ties are broken the same way every time, and differently for different pods', (t) => {
  const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
  const equal = new Float64Array(names.length).fill(5);
  const first = pickBest(equal, names, 'uid-1');
  t.is(pickBest(equal, names, 'uid-1'), first);
  const picks = new Set(Array.from({ length: 50 }, (_, i) => pickBest(equal, names, `uid-${i}`)));
  t.true(picks.size > 3);
  const scores = new Float64Array([1, 2, 9, 3]);
  t.is(pickBest(scores, ['a', 'b', 'c', 'd'], 'x'), 2);
});

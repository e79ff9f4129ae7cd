import test from 'ava';
import { normalize, proposeReplicas, type PodSample } from '../../controller/controller-manager/hpa-replicas.js';

const pod = (usage: number | undefined, request = 0.1, unready = false): PodSample => ({ name: 'p', usage, request, unready });

test('utilisation ratio, rounded up, and the 10% tolerance', (t) => {
  // 2 pods at 100m of 100m requests, target 50% → ratio 2 → 4 replicas.
  t.deepEqual(proposeReplicas(2, [pod(0.1), pod(0.1)], { utilization: 50 }), { replicas: 4, utilization: 100, averageValue: 0.1 });
  // 54% against 50% is within tolerance: no change.
  t.is(proposeReplicas(3, [pod(0.054), pod(0.054), pod(0.054)], { utilization: 50 }).replicas, 3);
  // Idle: down to what the usage needs (ceil of ratio × pods), at least one.
  t.is(proposeReplicas(4, [pod(0.01), pod(0.01), pod(0), pod(0)], { utilization: 50 }).replicas, 1);
});

test('missing metrics count as 100% when scaling down and 0% when scaling up; unready pods as 0% up', (t) => {
  // One measured pod at 200%, one missing: up-scale assumes the missing one idle → ratio 2 → 4.
  t.is(proposeReplicas(2, [pod(0.2), pod(undefined)], { utilization: 50 }).replicas, 4);
  // One measured idle pod, one missing: down-scale assumes the missing pod at its request → 100%/50%... ratio 1 → stays.
  t.is(proposeReplicas(2, [pod(0), pod(undefined)], { utilization: 50 }).replicas, 2);
  // An unready pod (new, CPU not trusted) dampens a scale up.
  t.is(proposeReplicas(2, [pod(0.2), pod(0.5, 0.1, true)], { utilization: 100 }).replicas, 2);
  t.is(proposeReplicas(1, [pod(0.2)], { utilization: 100 }).replicas, 2);
  t.throws(() => proposeReplicas(1, [pod(undefined)], { utilization: 50 }), { message: /did not receive metrics/ });
  // Only unready pods: their start-up CPU proposes nothing, however high.
  t.throws(() => proposeReplicas(1, [pod(0.5, 0.1, true)], { utilization: 50 }), { message: /pods might be unready/ });
  t.throws(() => proposeReplicas(2, [pod(0.5, 0.1, true), pod(undefined)], { utilization: 50 }), { message: /pods might be unready/ });
});

test('average value targets', (t) => {
  const bytes = 200 * 2 ** 20;
  t.is(proposeReplicas(1, [pod(bytes)], { averageValue: 100 * 2 ** 20 }).replicas, 2);
});

test('scale-down stabilisation keeps the highest recent recommendation', (t) => {
  const now = 1_000_000;
  const history = [{ at: now - 10_000, replicas: 3 }];
  t.deepEqual(normalize(3, 1, now, history, [], {}, { stabilizationWindowSeconds: 20 }, 1, 5).replicas, 3);
  t.deepEqual(normalize(3, 1, now + 15_000, history, [], {}, { stabilizationWindowSeconds: 20 }, 1, 5).replicas, 1);
});

test('scale-up policies: the larger of 4 pods or 100% per 15s by default, and min/max bounds', (t) => {
  const now = 1_000_000;
  t.is(normalize(1, 10, now, [], [], {}, {}, 1, 20).replicas, 5);
  t.is(normalize(8, 40, now, [], [], {}, {}, 1, 50).replicas, 16);
  // Already grew by 8 in this period: 8 → 16 was the limit, so no more.
  t.is(normalize(16, 40, now, [], [{ at: now - 5_000, change: 8 }], {}, {}, 1, 50).replicas, 16);
  const limited = normalize(2, 10, now, [], [], {}, {}, 1, 3);
  t.deepEqual([limited.replicas, limited.limited, limited.reason], [3, true, 'TooManyReplicas']);
});

// Unit tests of disk-pressure eviction's pure parts: the kubelet's ranking of pods, its
// message and quantity printing, soft thresholds, and the manager's round (image reclaim
// first, then one eviction) against a real directory's filesystem.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Pod } from '../../protocol/kube/types.js';
import {
  diskEvictionMessage, ephemeralStorageRequest, formatBytes, isCriticalPod, measureFor, pressureRejectionMessage, rankForDiskEviction,
  type PodDiskUsage,
} from '../../agent/pods/disk-eviction.js';
import { DiskPressure, parseEvictionSoft, type Starvation } from '../../agent/images/disk-pressure.js';
import { parseDuration } from '../../cli/args.js';

function pod(name: string, o: { priority?: number; request?: string } = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: name },
    spec: {
      ...(o.priority !== undefined ? { priority: o.priority } : {}),
      containers: [{ name: 'c', image: 'x', ...(o.request ? { resources: { requests: { 'ephemeral-storage': o.request } } } : {}) }],
    },
  };
}

function usage(rootfs: number, logs = 0, volumes = 0): PodDiskUsage {
  return { containers: new Map([['c', { rootfsBytes: rootfs, logsBytes: logs }]]), volumesBytes: volumes };
}

const all = measureFor('nodefs.available', true);

test('quantities print as the API prints BinarySI bytes', (t) => {
  t.is(formatBytes(0), '0');
  t.is(formatBytes(4096), '4Ki');
  t.is(formatBytes(10 * 1024 * 1024), '10Mi');
  t.is(formatBytes(1536), '1536');
  t.is(formatBytes(500), '500');
  t.is(formatBytes(1000), '1k');
  t.is(formatBytes(12_345_678), '12345678');
});

test('pods over their request go first, then lower priority, then the largest use above the request', (t) => {
  const small = { pod: pod('small'), usage: usage(1_000_000) };
  const big = { pod: pod('big'), usage: usage(50_000_000) };
  const withinRequest = { pod: pod('within', { request: '100Mi' }), usage: usage(90_000_000) };
  const important = { pod: pod('important', { priority: 1000 }), usage: usage(80_000_000) };
  const unknown = { pod: pod('unknown') };
  const order = rankForDiskEviction([withinRequest, small, important, big, unknown], all).map((c) => c.pod.metadata.name);
  t.deepEqual(order, ['unknown', 'big', 'small', 'important', 'within']);
});

test('which parts count depends on the starved filesystem', (t) => {
  const logsHeavy = { pod: pod('logs'), usage: usage(0, 30_000_000, 0) };
  const layerHeavy = { pod: pod('layer'), usage: usage(40_000_000, 0, 0) };
  t.deepEqual(rankForDiskEviction([logsHeavy, layerHeavy], measureFor('imagefs.available', false)).map((c) => c.pod.metadata.name), ['layer', 'logs']);
  t.deepEqual(rankForDiskEviction([layerHeavy, logsHeavy], measureFor('nodefs.available', false)).map((c) => c.pod.metadata.name), ['logs', 'layer']);
});

test('the eviction message names the threshold, what was available and each container over its request', (t) => {
  const message = diskEvictionMessage(pod('hog'), usage(40 * 1024 * 1024, 4096), 26_843_545, 20 * 1024 * 1024);
  t.is(message, 'The node was low on resource: ephemeral-storage. Threshold quantity: 26843545, available: 20Mi. Container c was using 40964Ki, request is 0, has larger consumption of ephemeral-storage. ');
  t.is(diskEvictionMessage(pod('fits', { request: '1Gi' }), usage(1024), 4096, 1024), 'The node was low on resource: ephemeral-storage. Threshold quantity: 4Ki, available: 1Ki. ');
  t.is(pressureRejectionMessage(['DiskPressure']), 'Pod was rejected: The node had condition: [DiskPressure]. ');
});

test('requests add up over containers, init containers count when bigger; critical pods are known', (t) => {
  const p = pod('p', { request: '1Mi' });
  p.spec.containers.push({ name: 'd', image: 'x', resources: { requests: { 'ephemeral-storage': '2Mi' } } });
  t.is(ephemeralStorageRequest(p), 3 * 1024 * 1024);
  p.spec.initContainers = [{ name: 'i', image: 'x', resources: { requests: { 'ephemeral-storage': '10Mi' } } }];
  t.is(ephemeralStorageRequest(p), 10 * 1024 * 1024);
  t.true(isCriticalPod(pod('sys', { priority: 2_000_001_000 })));
  t.false(isCriticalPod(pod('user', { priority: 1000 })));
});

test('soft thresholds need a grace period each', (t) => {
  const d = (s: string) => parseDuration(s, '--eviction-soft-grace-period');
  t.deepEqual(parseEvictionSoft('imagefs.available<20%', 'imagefs.available=90s', d), [{ signal: 'imagefs.available', percent: 20, gracePeriodMs: 90_000 }]);
  t.deepEqual(parseEvictionSoft('', '', d), []);
  t.throws(() => parseEvictionSoft('nodefs.available<1Gi', 'imagefs.available=1m', d), { message: /grace period must be specified for the soft eviction threshold nodefs.available/ });
});

// the manager's round on this machine's real filesystem: a threshold of 100 % is always crossed
function manager(opts: { soft?: number; now: () => number }) {
  const dir = mkdtempSync(join(tmpdir(), 'pikube-evict-'));
  const calls: string[] = [];
  const gc = {
    imageStorePath: async () => dir,
    deleteUnused: async () => { calls.push('images'); return 0; },
  };
  const events: string[] = [];
  const threshold = { signal: 'imagefs.available' as const, percent: 100, ...(opts.soft !== undefined ? { gracePeriodMs: opts.soft } : {}) };
  const dp = new DiskPressure({ thresholds: [threshold], transitionMs: 1000 }, {
    nodefsPath: dir, gc: gc as never, log: pino({ level: 'silent' }), now: opts.now,
    event: (_type, reason) => events.push(reason),
    evict: async (s: Starvation) => { calls.push(`evict ${s.threshold.signal} ${s.sharedFs}`); return true; },
  });
  return { dp, calls, events, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('a hard threshold reclaims images first, then evicts one pod per round', async (t) => {
  const m = manager({ now: () => 0 });
  t.true(await m.dp.check());
  t.deepEqual(m.calls, ['images', 'evict imagefs.available true']);
  t.deepEqual(m.events, ['NodeHasDiskPressure', 'EvictionThresholdMet']);
  m.cleanup();
});

test('a soft threshold sets the condition at once but evicts only after its grace period', async (t) => {
  let now = 0;
  const m = manager({ soft: 60_000, now: () => now });
  t.true(await m.dp.check());
  t.deepEqual(m.calls, []);
  now = 30_000;
  await m.dp.check();
  t.deepEqual(m.calls, []);
  now = 60_000;
  await m.dp.check();
  t.deepEqual(m.calls, ['images', 'evict imagefs.available true']);
  m.cleanup();
});

import test from 'ava';
import { R } from '../../controller/apiserver/client.js';
import type { Deployment } from '../../controller/controller-manager/deployment-controller.js';
import type { ReplicaSet } from '../../controller/controller-manager/replicaset-controller.js';
import type { KubeObject, Pod } from '../../protocol/kube/types.js';
import { isPodReady } from '../../controller/controller-manager/pod-state.js';
import { ownedBy, podTemplate, podsOf, readyAll, startClusterWithControllers, waitFor } from './util.js';

type Cluster = Awaited<ReturnType<typeof startClusterWithControllers>>;
const NS = 'default';

const newDeployment = (name: string, replicas: number, strategy?: Deployment['spec']['strategy'], extra: Partial<Deployment['spec']> = {}): Deployment => ({
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name, namespace: NS },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: podTemplate({ app: name }), ...(strategy ? { strategy } : {}), ...extra },
});

const getD = (c: Cluster, name: string) => c.client.get<Deployment>(R.deployments, NS, name)!;
const setsOf = (c: Cluster, d: KubeObject) => c.client.list<ReplicaSet>(R.replicasets, { namespace: NS }).items.filter(ownedBy(d));

/** kubectl rollout status's test for "done". */
function rolloutDone(d: Deployment): boolean {
  const s = d.status ?? {};
  const want = d.spec.replicas ?? 1;
  return (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) && s.updatedReplicas === want
    && s.replicas === want && s.availableReplicas === want;
}

/** Plays the kubelet: every pending pod of the namespace turns ready shortly after creation. */
function kubelet(c: Cluster, filter: (p: Pod) => boolean = () => true): { stop(): void } {
  let stopped = false;
  const tick = async () => {
    while (!stopped) {
      await readyAll(c.client, NS, filter);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  void tick();
  return { stop: () => { stopped = true; } };
}

async function rollout(c: Cluster, name: string, timeoutMs = 15_000): Promise<Deployment> {
  return waitFor(`rollout of ${name}`, () => { const d = getD(c, name); return rolloutDone(d) && d; }, timeoutMs);
}

test('a deployment makes a hashed ReplicaSet and pods, and reports rollout conditions', async (t) => {
  const c = await startClusterWithControllers();
  const k = kubelet(c);
  try {
    const d = await c.client.create<Deployment>(R.deployments, newDeployment('hello', 3));
    const done = await rollout(c, 'hello');
    const [rs, ...more] = setsOf(c, d);
    t.is(more.length, 0);
    const hash = rs!.metadata.labels?.['pod-template-hash'];
    t.truthy(hash);
    t.is(rs!.metadata.name, `hello-${hash}`);
    t.is(rs!.spec.selector.matchLabels?.['pod-template-hash'], hash);
    t.is(rs!.spec.template.metadata?.labels?.['pod-template-hash'], hash);
    t.is(rs!.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
    t.is(done.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
    t.is(podsOf(c.client, NS, ownedBy(rs!)).length, 3);
    await waitFor('NewReplicaSetAvailable', () => {
      const s = getD(c, 'hello').status!;
      const prog = s.conditions?.find((x) => x.type === 'Progressing');
      const avail = s.conditions?.find((x) => x.type === 'Available');
      return prog?.status === 'True' && prog.reason === 'NewReplicaSetAvailable' && prog.message === `ReplicaSet "hello-${hash}" has successfully progressed.`
        && avail?.status === 'True' && avail.reason === 'MinimumReplicasAvailable' && s.unavailableReplicas === 0 && s.readyReplicas === 3;
    });
    const events = c.client.list(R.events, { namespace: NS }).items as any[];
    t.true(events.some((e) => e.reason === 'ScalingReplicaSet' && e.message === `Scaled up replica set hello-${hash} to 3 from 0`));
    // At rest, nothing is written any more (an SD card should see no steady writes).
    const rv = c.client.list(R.pods).resourceVersion;
    await new Promise((r) => setTimeout(r, 700));
    t.is(c.client.list(R.pods).resourceVersion, rv);
  } finally {
    k.stop();
    await c.close();
  }
});

test('rolling update with maxUnavailable 0 never drops below the desired ready pods', async (t) => {
  const c = await startClusterWithControllers();
  const k = kubelet(c);
  try {
    await c.client.create<Deployment>(R.deployments, newDeployment('web', 3, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }));
    const first = await rollout(c, 'web');
    let minReady = Infinity;
    let maxPods = 0;
    const watch = c.client.watch<Pod>(R.pods, { namespace: NS, resourceVersion: first.metadata.resourceVersion }, () => {
      const live = podsOf(c.client, NS, (p) => !p.metadata.deletionTimestamp && p.metadata.labels?.app === 'web');
      minReady = Math.min(minReady, live.filter(isPodReady).length);
      maxPods = Math.max(maxPods, live.length);
    });
    await c.client.patch(R.deployments, NS, 'web', { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } } });
    const done = await waitFor('rollout to 1.27', () => {
      const d = getD(c, 'web');
      return d.metadata.generation === 2 && rolloutDone(d) && d;
    }, 20_000);
    watch.stop();
    t.true(Number.isFinite(minReady));
    t.true(minReady >= 3, `ready pods dropped to ${minReady}`);
    t.true(maxPods <= 4, `surged to ${maxPods} pods`);
    const sets = setsOf(c, done);
    t.is(sets.length, 2);
    const newer = sets.find((s) => s.spec.template.spec.containers[0]!.image === 'nginx:1.27')!;
    const older = sets.find((s) => s !== newer)!;
    t.is(newer.spec.replicas, 3);
    t.is(older.spec.replicas, 0);
    t.is(newer.metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
    t.is(done.metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
    t.true(podsOf(c.client, NS, (p) => p.metadata.labels?.app === 'web').every((p) => p.spec.containers[0]!.image === 'nginx:1.27'));
  } finally {
    k.stop();
    await c.close();
  }
});

test('percentages: 25% of 4 surges by one and keeps three available', async (t) => {
  const c = await startClusterWithControllers();
  const k = kubelet(c);
  try {
    await c.client.create<Deployment>(R.deployments, newDeployment('pct', 4));
    await rollout(c, 'pct');
    let minReady = Infinity;
    let maxPods = 0;
    const watch = c.client.watch<Pod>(R.pods, { namespace: NS }, () => {
      const live = podsOf(c.client, NS, (p) => !p.metadata.deletionTimestamp && p.metadata.labels?.app === 'pct');
      minReady = Math.min(minReady, live.filter(isPodReady).length);
      maxPods = Math.max(maxPods, live.length);
    });
    await c.client.patch(R.deployments, NS, 'pct', { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } } });
    await waitFor('rollout', () => { const d = getD(c, 'pct'); return d.metadata.generation === 2 && rolloutDone(d); }, 20_000);
    watch.stop();
    t.true(minReady >= 3, `ready pods dropped to ${minReady}`);
    t.true(maxPods <= 5, `surged to ${maxPods} pods`);
  } finally {
    k.stop();
    await c.close();
  }
});

test('Recreate removes every old pod before creating new ones', async (t) => {
  const c = await startClusterWithControllers();
  const k = kubelet(c);
  try {
    await c.client.create<Deployment>(R.deployments, newDeployment('db', 2, { type: 'Recreate' }));
    await rollout(c, 'db');
    let overlap = false;
    const watch = c.client.watch<Pod>(R.pods, { namespace: NS }, (e) => {
      if (e.type !== 'ADDED' || e.object.spec.containers[0]!.image !== 'postgres:16') return;
      overlap ||= podsOf(c.client, NS, (p) => p.metadata.labels?.app === 'db' && p.spec.containers[0]!.image !== 'postgres:16').length > 0;
    });
    await c.client.patch(R.deployments, NS, 'db', { spec: { template: { spec: { containers: [{ name: 'web', image: 'postgres:16' }] } } } });
    await waitFor('recreate', () => { const d = getD(c, 'db'); return d.metadata.generation === 2 && rolloutDone(d); }, 20_000);
    watch.stop();
    t.false(overlap);
    const pods = podsOf(c.client, NS, (p) => p.metadata.labels?.app === 'db');
    t.is(pods.length, 2);
    t.true(pods.every((p) => p.spec.containers[0]!.image === 'postgres:16'));
  } finally {
    k.stop();
    await c.close();
  }
});

test('revision history is trimmed and undo brings an old ReplicaSet back as the newest revision', async (t) => {
  const c = await startClusterWithControllers();
  const k = kubelet(c);
  try {
    const d = await c.client.create<Deployment>(R.deployments, newDeployment('hist', 1, undefined, { revisionHistoryLimit: 2 }));
    await rollout(c, 'hist');
    for (const [i, tag] of ['2', '3', '4'].entries()) {
      await c.client.patch(R.deployments, NS, 'hist', { spec: { template: { spec: { containers: [{ name: 'web', image: `nginx:1.${tag}` }] } } } });
      await waitFor(`rollout ${tag}`, () => { const x = getD(c, 'hist'); return x.metadata.generation === i + 2 && rolloutDone(x); }, 15_000);
    }
    // Revision 1 went away: two old ones are kept, plus the current.
    const sets = await waitFor('history trimmed', () => { const s = setsOf(c, d); return s.length === 3 && s; });
    const revs = sets.map((s) => s.metadata.annotations?.['deployment.kubernetes.io/revision']).sort();
    t.deepEqual(revs, ['2', '3', '4']);

    // kubectl rollout undo: copy revision 3's template (minus the hash label) into the deployment.
    const rev3 = sets.find((s) => s.metadata.annotations?.['deployment.kubernetes.io/revision'] === '3')!;
    const template = structuredClone(rev3.spec.template);
    delete template.metadata!.labels!['pod-template-hash'];
    await c.client.patch(R.deployments, NS, 'hist', { spec: { template: { ...template, spec: { containers: template.spec.containers } } } });
    const after = await waitFor('undo', () => { const x = getD(c, 'hist'); return x.metadata.generation === 5 && rolloutDone(x) && x; }, 15_000);
    t.is(after.metadata.annotations?.['deployment.kubernetes.io/revision'], '5');
    const back = c.client.get<ReplicaSet>(R.replicasets, NS, rev3.metadata.name!)!;
    t.is(back.metadata.annotations?.['deployment.kubernetes.io/revision'], '5');
    t.is(back.metadata.annotations?.['deployment.kubernetes.io/revision-history'], '3');
    t.is(back.spec.replicas, 1);
    t.is(setsOf(c, d).length, 3, 'undo reuses the old ReplicaSet');

    // kubectl rollout restart: a template annotation makes a new ReplicaSet.
    await c.client.patch(R.deployments, NS, 'hist', { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-01-01T00:00:00Z' } } } } });
    const restarted = await waitFor('restart', () => { const x = getD(c, 'hist'); return x.metadata.generation === 6 && rolloutDone(x) && x; }, 15_000);
    t.is(restarted.metadata.annotations?.['deployment.kubernetes.io/revision'], '6');
    t.true(podsOf(c.client, NS, (p) => p.metadata.labels?.app === 'hist' && !p.metadata.deletionTimestamp)
      .every((p) => p.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'] === '2024-01-01T00:00:00Z'));
  } finally {
    k.stop();
    await c.close();
  }
});

test('paused deployments scale but do not roll out; resuming rolls out', async (t) => {
  const c = await startClusterWithControllers();
  const k = kubelet(c);
  try {
    const d = await c.client.create<Deployment>(R.deployments, newDeployment('p', 2));
    await rollout(c, 'p');
    await c.client.patch(R.deployments, NS, 'p', { spec: { paused: true, template: { spec: { containers: [{ name: 'web', image: 'nginx:2' }] } } } });
    await waitFor('paused condition', () => getD(c, 'p').status?.conditions?.some((x) => x.type === 'Progressing' && x.reason === 'DeploymentPaused' && x.status === 'Unknown'));
    await c.client.patch(R.deployments, NS, 'p', { spec: { replicas: 4 } });
    await waitFor('scaled while paused', () => podsOf(c.client, NS, (p) => p.metadata.labels?.app === 'p').length === 4);
    t.is(setsOf(c, d).length, 1, 'no new ReplicaSet while paused');
    await c.client.patch(R.deployments, NS, 'p', { spec: { paused: false } });
    await waitFor('resumed rollout', () => { const x = getD(c, 'p'); return rolloutDone(x) && setsOf(c, d).length === 2 && x.metadata.annotations?.['deployment.kubernetes.io/revision'] === '2'; }, 15_000);
    t.is(podsOf(c.client, NS, (p) => p.metadata.labels?.app === 'p' && p.spec.containers[0]!.image === 'nginx:2' && !p.metadata.deletionTimestamp).length, 4);
  } finally {
    k.stop();
    await c.close();
  }
});

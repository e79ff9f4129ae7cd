import test from 'ava';
import { R } from '../../controller/apiserver/client.js';
import type { DaemonSet } from '../../controller/controller-manager/daemonset-controller.js';
import { isPodAvailable } from '../../controller/controller-manager/pod-state.js';
import type { Node, Pod } from '../../protocol/kube/types.js';
import { finishTerminating, ownedBy, podTemplate, podsOf, readyAll, startClusterWithControllers, waitFor } from './util.js';

type Cluster = Awaited<ReturnType<typeof startClusterWithControllers>>;
const NS = 'kube-system';

const node = (name: string, labels: Record<string, string> = {}, taints: Node['spec'] = undefined): Node => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } }, ...(taints ? { spec: taints } : {}),
});

const daemonSet = (name: string, extra: Partial<DaemonSet['spec']> = {}, nodeSelector?: Record<string, string>): DaemonSet => {
  const template = podTemplate({ app: name }, 'busybox:1.36');
  return {
    apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name, namespace: NS },
    spec: { selector: { matchLabels: { app: name } }, template: { ...template, spec: { ...template.spec, ...(nodeSelector ? { nodeSelector } : {}) } }, ...extra },
  };
};

const live = (c: Cluster, ds: DaemonSet) => podsOf(c.client, NS, (p) => ownedBy(ds)(p) && !p.metadata.deletionTimestamp);
const nodesOf = (pods: Pod[]) => pods.map((p) => p.spec.nodeName).sort();

/** The kubelets of every node: pods become ready, graceful deletions complete. */
function kubelets(c: Cluster): { stop(): void } {
  let stopped = false;
  void (async () => {
    while (!stopped) {
      await readyAll(c.client, NS);
      await finishTerminating(c.client, NS);
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return { stop: () => { stopped = true; } };
}

test('one pod per eligible node, pinned by nodeName, with daemon tolerations', async (t) => {
  const c = await startClusterWithControllers();
  const k = kubelets(c);
  try {
    await c.client.create(R.nodes, node('pi-1'));
    await c.client.create(R.nodes, node('pi-2'));
    await c.client.create(R.nodes, node('pi-gpu', {}, { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }));
    await c.client.create(R.nodes, node('pi-cordoned', {}, { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] }));
    const ds = await c.client.create<DaemonSet>(R.daemonsets, daemonSet('agent'));
    const pods = await waitFor('pods on eligible nodes', () => { const p = live(c, ds); return p.length === 3 && p; });
    t.deepEqual(nodesOf(pods), ['pi-1', 'pi-2', 'pi-cordoned']);
    const tolerations = pods[0]!.spec.tolerations ?? [];
    for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
      t.true(tolerations.some((x) => x.key === key && x.operator === 'Exists' && x.effect === 'NoExecute'), key);
    }
    t.truthy(pods[0]!.metadata.labels?.['controller-revision-hash']);
    await waitFor('status', () => {
      const s = c.client.get<DaemonSet>(R.daemonsets, NS, 'agent')?.status as any;
      return s?.desiredNumberScheduled === 3 && s.currentNumberScheduled === 3 && s.numberReady === 3 && s.numberAvailable === 3
        && s.updatedNumberScheduled === 3 && s.numberMisscheduled === 0 && s.observedGeneration === 1;
    });
    t.is(c.client.list(R.controllerrevisions, { namespace: NS }).items.filter(ownedBy(ds)).length, 1);

    // A new node gets a pod; a deleted node's pod goes.
    await c.client.create(R.nodes, node('pi-3'));
    await waitFor('pod on the new node', () => nodesOf(live(c, ds)).includes('pi-3'));
    await c.client.delete(R.nodes, undefined, 'pi-2');
    await waitFor('pod of the removed node gone', () => !nodesOf(live(c, ds)).includes('pi-2'));
    // A pod deleted by hand comes back.
    const victim = live(c, ds).find((p) => p.spec.nodeName === 'pi-1')!;
    await c.client.delete(R.pods, NS, victim.metadata.name!);
    await waitFor('replacement', () => live(c, ds).some((p) => p.spec.nodeName === 'pi-1' && p.metadata.name !== victim.metadata.name));
    t.deepEqual(nodesOf(live(c, ds)), ['pi-1', 'pi-3', 'pi-cordoned']);
  } finally {
    k.stop();
    await c.close();
  }
});

test('nodeSelector follows node labels', async (t) => {
  const c = await startClusterWithControllers();
  const k = kubelets(c);
  try {
    await c.client.create(R.nodes, node('a', { zone: 'garage' }));
    await c.client.create(R.nodes, node('b', { zone: 'attic' }));
    const ds = await c.client.create<DaemonSet>(R.daemonsets, daemonSet('sensor', {}, { zone: 'garage' }));
    await waitFor('only on a', () => nodesOf(live(c, ds)).join() === 'a');
    await c.client.patch(R.nodes, undefined, 'b', { metadata: { labels: { zone: 'garage' } } });
    await waitFor('on a and b', () => nodesOf(live(c, ds)).join() === 'a,b');
    await c.client.patch(R.nodes, undefined, 'a', { metadata: { labels: { zone: 'shed' } } });
    await waitFor('only on b', () => nodesOf(live(c, ds)).join() === 'b');
    t.pass();
  } finally {
    k.stop();
    await c.close();
  }
});

test('RollingUpdate replaces pods within maxUnavailable; OnDelete waits for deletions', async (t) => {
  const c = await startClusterWithControllers();
  const k = kubelets(c);
  try {
    for (const n of ['n1', 'n2', 'n3', 'n4']) await c.client.create(R.nodes, node(n));
    const ds = await c.client.create<DaemonSet>(R.daemonsets, daemonSet('logs', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } } }));
    await waitFor('4 ready', () => live(c, ds).filter((p) => isPodAvailable(p, 0)).length === 4);
    let worst = 4;
    const watch = c.client.watch<Pod>(R.pods, { namespace: NS }, () => {
      worst = Math.min(worst, live(c, ds).filter((p) => isPodAvailable(p, 0)).length);
    });
    await c.client.patch(R.daemonsets, NS, 'logs', { spec: { template: { spec: { containers: [{ name: 'web', image: 'busybox:1.37' }] } } } });
    await waitFor('rolled', () => {
      const p = live(c, ds);
      const s = c.client.get<DaemonSet>(R.daemonsets, NS, 'logs')?.status as any;
      return p.length === 4 && p.every((x) => x.spec.containers[0]!.image === 'busybox:1.37') && s?.updatedNumberScheduled === 4 && s.numberAvailable === 4;
    }, 20_000);
    watch.stop();
    t.true(worst >= 3, `available pods dropped to ${worst}`);
    t.is(c.client.list(R.controllerrevisions, { namespace: NS }).items.filter(ownedBy(ds)).length, 2);

    // OnDelete: a template change alone replaces nothing.
    await c.client.patch(R.daemonsets, NS, 'logs', { spec: { updateStrategy: { type: 'OnDelete', rollingUpdate: null }, template: { spec: { containers: [{ name: 'web', image: 'busybox:1.38' }] } } } });
    await waitFor('observed', () => (c.client.get<DaemonSet>(R.daemonsets, NS, 'logs')?.status as any)?.observedGeneration === 3);
    await new Promise((r) => setTimeout(r, 300));
    t.true(live(c, ds).every((x) => x.spec.containers[0]!.image === 'busybox:1.37'));
    const one = live(c, ds)[0]!;
    await c.client.delete(R.pods, NS, one.metadata.name!);
    await waitFor('replaced with the new template', () => live(c, ds).filter((x) => x.spec.containers[0]!.image === 'busybox:1.38').length === 1);
    await waitFor('status counts one updated', () => (c.client.get<DaemonSet>(R.daemonsets, NS, 'logs')?.status as any)?.updatedNumberScheduled === 1);
  } finally {
    k.stop();
    await c.close();
  }
});

test('deleting a DaemonSet removes its pods and revisions', async (t) => {
  const c = await startClusterWithControllers();
  const k = kubelets(c);
  try {
    await c.client.create(R.nodes, node('x'));
    const ds = await c.client.create<DaemonSet>(R.daemonsets, daemonSet('gone'));
    await waitFor('pod', () => live(c, ds).length === 1);
    await c.client.delete(R.daemonsets, NS, 'gone');
    await waitFor('pods gone', () => podsOf(c.client, NS, ownedBy(ds)).length === 0);
    await waitFor('revisions gone', () => c.client.list(R.controllerrevisions, { namespace: NS }).items.filter(ownedBy(ds)).length === 0);
    t.pass();
  } finally {
    k.stop();
    await c.close();
  }
});

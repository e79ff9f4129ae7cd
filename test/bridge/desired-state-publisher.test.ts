// The desired-state publisher on its own, against the real store and in-process client:
// what each node's retained set holds, when it is sent again and when not, and that the
// agent's protocol check accepts every set it sends.
import test from 'ava';
import type { KubeObject, Node, Pod } from '../../protocol/kube/types.js';
import { parseDesiredPods } from '../../protocol/mqtt/validate.js';
import type { DesiredPodsPayload } from '../../protocol/mqtt/payloads.js';
import { R } from '../../controller/apiserver/client.js';
import { DesiredStatePublisher, type DesiredStatePublisherOptions } from '../../controller/bridge/desired-state-publisher.js';
import { SharedInformers } from '../../controller/client/shared-informers.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const silent = { warn: () => {}, debug: () => {} };

interface Sent { node: string; payload: DesiredPodsPayload | '' }

async function setup(t: import('ava').ExecutionContext, opts: Partial<DesiredStatePublisherOptions> = {}) {
  const c = await startTestCluster();
  const sent: Sent[] = [];
  let failNext = 0;
  const informers = new SharedInformers(c.client);
  const publisher = new DesiredStatePublisher({
    informers,
    revision: () => c.store.revision,
    log: silent,
    dns: { clusterDomain: 'cluster.local', serverIP: '10.43.0.10' },
    podCidrFor: (node) => (node === 'pi-01' ? '10.42.1.0/24' : undefined),
    async publish(node, payload) {
      if (failNext > 0) { failNext--; throw new Error('broker away'); }
      // what an agent receives goes through the agent's own boundary check
      sent.push({ node, payload: payload === '' ? '' : parseDesiredPods(payload) });
    },
    ...opts,
  });
  publisher.start();
  t.teardown(async () => { publisher.stop(); informers.stop(); await c.stop(); });
  const lastFor = (node: string) => [...sent].reverse().find((s) => s.node === node)?.payload;
  const countFor = (node: string) => sent.filter((s) => s.node === node).length;
  return { c, sent, publisher, lastFor, countFor, failOnce: (n = 1) => { failNext = n; } };
}

function pod(name: string, node: string | undefined, extra: Partial<Pod['spec']> = {}, meta: Partial<Pod['metadata']> = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', ...meta },
    spec: { ...(node ? { nodeName: node } : {}), containers: [{ name: 'c', image: 'localhost/busybox:latest' }], ...extra },
  };
}

const namesIn = (p: DesiredPodsPayload | '' | undefined) => (p ? p.pods.map((d) => d.pod.metadata.name).sort() : p);
const settle = () => new Promise((r) => setTimeout(r, 150));

async function createNode(c: TestCluster, name: string): Promise<void> {
  await c.client.create<Node>(R.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name } } as Node);
}

test('a node gets its whole set: its pods only, what they read, the pod CIDR and DNS, no status or last-applied annotation', async (t) => {
  const { c, lastFor } = await setup(t);
  await c.client.create<KubeObject>(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { mode: 'fast' } } as KubeObject);
  await c.client.create<KubeObject>(R.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'pw', namespace: 'default' }, data: { p: Buffer.from('s3cret').toString('base64') } } as KubeObject);
  await c.client.create<Pod>(R.pods, pod('web', 'pi-01', {
    containers: [{ name: 'c', image: 'localhost/busybox:latest', envFrom: [{ configMapRef: { name: 'cfg' } }], env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'pw', key: 'p' } } }] }],
  }, { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', keep: 'me' } }));
  await c.client.create<Pod>(R.pods, pod('elsewhere', 'pi-02'));
  await c.client.create<Pod>(R.pods, pod('unbound', undefined));

  const set = await waitFor('pi-01 set', () => { const p = lastFor('pi-01'); return p && p.pods.length === 1 ? p : undefined; }, 5000, 20);
  const dp = set.pods[0]!;
  t.is(dp.pod.metadata.name, 'web');
  t.deepEqual(dp.configMaps, { cfg: { mode: 'fast' } });
  t.deepEqual(dp.secrets, { pw: { p: Buffer.from('s3cret').toString('base64') } });
  t.deepEqual(dp.pod.metadata.annotations, { keep: 'me' });
  t.is((dp.pod as { status?: unknown }).status, undefined);
  t.is(set.podCIDR, '10.42.1.0/24');
  t.deepEqual(set.dns, { clusterDomain: 'cluster.local', serverIP: '10.43.0.10' });
  t.true(set.generation > 0);
  t.deepEqual(namesIn(await waitFor('pi-02 set', () => lastFor('pi-02'), 5000, 20)), ['elsewhere']);
});

test('a burst of pods is coalesced into few publications, the last holding them all', async (t) => {
  const { c, lastFor, countFor } = await setup(t, { debounceMs: 20, minIntervalMs: 200 });
  await Promise.all(Array.from({ length: 30 }, (_, i) => c.client.create<Pod>(R.pods, pod(`p${i}`, 'pi-01'))));
  await waitFor('all 30 pods published', () => { const p = lastFor('pi-01'); return p && p.pods.length === 30; }, 5000, 20);
  t.true(countFor('pi-01') <= 5, `${countFor('pi-01')} publications for 30 pods`);
});

test('status-only changes and unrelated objects publish nothing; spec, labels, deletion and what a pod reads do', async (t) => {
  const { c, lastFor, countFor } = await setup(t);
  await c.client.create<KubeObject>(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { v: '1' } } as KubeObject);
  await c.client.create<Pod>(R.pods, pod('web', 'pi-01', { volumes: [{ name: 'v', configMap: { name: 'cfg' } }] }));
  await waitFor('first set', () => countFor('pi-01') >= 1, 5000, 20);
  await settle();
  const base = countFor('pi-01');

  // the agent's own status report
  const cur = c.client.get<Pod>(R.pods, 'default', 'web')!;
  await c.client.update<Pod>(R.pods, { ...cur, status: { phase: 'Running', podIP: '10.42.1.5' } }, 'status');
  // an unrelated ConfigMap
  await c.client.create<KubeObject>(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other', namespace: 'default' }, data: { x: 'y' } } as KubeObject);
  await settle();
  t.is(countFor('pi-01'), base, 'nothing the agent needs changed');

  // the ConfigMap the pod mounts
  const cm = c.client.get<KubeObject>(R.configmaps, 'default', 'cfg')!;
  await c.client.update<KubeObject>(R.configmaps, { ...cm, data: { v: '2' } } as KubeObject);
  await waitFor('new ConfigMap data sent', () => { const p = lastFor('pi-01'); return p && p.pods[0]?.configMaps['cfg']?.['v'] === '2'; }, 5000, 20);

  // labels
  const before = countFor('pi-01');
  const labelled = c.client.get<Pod>(R.pods, 'default', 'web')!;
  await c.client.update<Pod>(R.pods, { ...labelled, metadata: { ...labelled.metadata, labels: { tier: 'front' } } });
  await waitFor('labels sent', () => { const p = lastFor('pi-01'); return p && p.pods[0]?.pod.metadata.labels?.['tier'] === 'front'; }, 5000, 20);
  t.true(countFor('pi-01') > before);

  // graceful deletion: the pod stays in the set with its deletion time, then leaves it
  await c.client.delete(R.pods, 'default', 'web', { gracePeriodSeconds: 30 });
  const terminating = await waitFor('deletion sent', () => { const p = lastFor('pi-01'); return p && p.pods[0]?.pod.metadata.deletionTimestamp ? p : undefined; }, 5000, 20);
  t.is(terminating.pods[0]!.pod.metadata.deletionGracePeriodSeconds, 30);
  await c.client.delete(R.pods, 'default', 'web', { gracePeriodSeconds: 0 });
  await waitFor('empty set sent', () => { const p = lastFor('pi-01'); return p && p.pods.length === 0; }, 5000, 20);
});

test('a node with no pods gets an empty set; a deleted node has its topic cleared', async (t) => {
  const { c, lastFor } = await setup(t);
  await createNode(c, 'pi-03');
  const set = await waitFor('pi-03 set', () => lastFor('pi-03'), 5000, 20);
  t.deepEqual(set, { generation: (set as DesiredPodsPayload).generation, pods: [], dns: { clusterDomain: 'cluster.local', serverIP: '10.43.0.10' } });
  await c.client.delete(R.nodes, '', 'pi-03');
  await waitFor('pi-03 cleared', () => lastFor('pi-03') === '', 5000, 20);
  t.pass();
});

test('a failed publication is retried; republishAll sends every set again', async (t) => {
  const { c, lastFor, countFor, failOnce, publisher } = await setup(t);
  failOnce();
  await c.client.create<Pod>(R.pods, pod('web', 'pi-01'));
  const first = Date.now();
  await waitFor('retried after the broker came back', () => countFor('pi-01') === 1, 5000, 20);
  t.true(Date.now() - first >= 900, 'the retry waits about a second');
  t.deepEqual(namesIn(lastFor('pi-01')), ['web']);
  publisher.republishAll();
  await waitFor('sent again', () => countFor('pi-01') === 2, 5000, 20);
  t.deepEqual(namesIn(lastFor('pi-01')), ['web']);
});

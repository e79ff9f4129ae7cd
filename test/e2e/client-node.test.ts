// The official JavaScript client (@kubernetes/client-node 1.4) against a real controller:
// its informer follows pods changed with kubectl, relists after a 410, and typed calls work.
import test from 'ava';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, makeInformer, type V1Pod } from '@kubernetes/client-node';
import { kubectl, removeDir, startController, waitFor, type ControllerHandle, type Kubectl } from '../helpers/processes.js';
import { ApiClient } from '../helpers/api-client.js';

const suffix = Math.random().toString(36).slice(2, 7);
let ctrl: ControllerHandle | undefined;
let k: Kubectl;
const stopInformers: (() => Promise<void>)[] = [];

test.before(async () => {
  ctrl = await startController();
  k = kubectl(ctrl.kubeconfig);
});

test.after.always(async () => {
  for (const stop of stopInformers) await stop().catch(() => undefined);
  if (ctrl) {
    await ctrl.kill();
    removeDir(ctrl.dir);
  }
  if (k) removeDir(k.home);
});

const podYaml = (name: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  containers:
    - name: app
      image: localhost/busybox:latest
      imagePullPolicy: Never
`;

interface Seen { verb: 'add' | 'update' | 'delete'; name: string; rv: string; labels: Record<string, string> }

/** An informer on default's pods that records what it sees and restarts itself after errors, as controllers do. */
function startPodInformer(kc: KubeConfig) {
  const core = kc.makeApiClient(CoreV1Api);
  const seen: Seen[] = [];
  const errors: unknown[] = [];
  let lists = 0;
  let stopped = false;
  const informer = makeInformer<V1Pod>(kc, '/api/v1/namespaces/default/pods', () => {
    lists++;
    return core.listNamespacedPod({ namespace: 'default' });
  });
  for (const verb of ['add', 'update', 'delete'] as const) {
    informer.on(verb, (p) => seen.push({ verb, name: p.metadata!.name!, rv: p.metadata!.resourceVersion!, labels: p.metadata!.labels ?? {} }));
  }
  informer.on('error', (err) => {
    errors.push(err);
    if (!stopped) setTimeout(() => { if (!stopped) void informer.start().catch(() => undefined); }, 500);
  });
  const stop = async () => { stopped = true; await informer.stop(); };
  stopInformers.push(stop);
  return {
    informer, seen, errors, stop,
    get lists() { return lists; },
    waitSeen: (what: string, pred: (s: Seen) => boolean) => waitFor(what, () => seen.find(pred), 30_000, 50),
  };
}

test.serial('informer sees ADDED, MODIFIED and DELETED for kubectl changes; typed list works', async (t) => {
  const kc = new KubeConfig();
  kc.loadFromFile(ctrl!.kubeconfig);
  const inf = startPodInformer(kc);
  await inf.informer.start();
  t.is(inf.lists, 1);

  const name = `inf-${suffix}`;
  await k(['create', '-f', '-'], { input: podYaml(name) });
  const added = await inf.waitSeen('ADDED', (s) => s.verb === 'add' && s.name === name);
  await k(['label', 'pod', name, 'stage=two']);
  const updated = await inf.waitSeen('MODIFIED', (s) => s.verb === 'update' && s.name === name && s.labels.stage === 'two');
  t.true(Number(updated.rv) > Number(added.rv));
  t.is(inf.informer.get(name, 'default')?.metadata?.labels?.stage, 'two', 'the cache holds the new state');

  const core = kc.makeApiClient(CoreV1Api);
  const list = await core.listNamespacedPod({ namespace: 'default' });
  const typed = list.items.find((p) => p.metadata?.name === name);
  t.truthy(typed);
  t.is(typed!.spec?.containers[0]?.image, 'localhost/busybox:latest');
  t.is(typed!.status?.phase, 'Pending');
  t.truthy(typed!.metadata?.creationTimestamp instanceof Date, 'typed: creationTimestamp decoded as a Date');
  t.truthy(list.metadata?.resourceVersion);
  const one = await core.readNamespacedPod({ name, namespace: 'default' });
  t.is(one.metadata?.uid, typed!.metadata?.uid);

  await k(['delete', 'pod', name]);
  await inf.waitSeen('DELETED', (s) => s.verb === 'delete' && s.name === name);
  t.is(inf.informer.get(name, 'default'), undefined);
  t.is(inf.lists, 1, 'no relist was needed');
  await inf.stop();
});

test.serial('after a 410 the informer relists and keeps following', async (t) => {
  const kc = new KubeConfig();
  kc.loadFromFile(ctrl!.kubeconfig);
  const inf = startPodInformer(kc);
  await inf.informer.start();

  const early = `early-${suffix}`;
  await k(['create', '-f', '-'], { input: podYaml(early) });
  const earlySeen = await inf.waitSeen('ADDED early', (s) => s.verb === 'add' && s.name === early);
  const oldRv = earlySeen.rv;

  // Fill the store's log past its snapshot threshold (4 MiB) with configmaps: a snapshot
  // is taken, and after a restart the watch window starts there, so oldRv expires.
  const api = new ApiClient(ctrl!.kubeconfig);
  try {
    for (let i = 0; i < 50; i++) {
      const r = await api.post('/api/v1/namespaces/default/configmaps', {
        apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `filler-${i}` }, data: { blob: 'y'.repeat(100 * 1024) },
      });
      t.is(r.status, 201, r.text);
    }
  } finally {
    api.close();
  }
  await waitFor('a store snapshot', () => existsSync(join(ctrl!.dir, 'store', 'store.json')), 30_000);
  // One more change after the snapshot, so that the restarted store replays a log.
  await k(['create', '-f', '-'], { input: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after-snapshot-${suffix}\n` });

  await ctrl!.kill();
  ctrl = await ctrl!.restart();

  // The server itself says 410 for the informer's old resourceVersion.
  const api2 = new ApiClient(ctrl.kubeconfig);
  try {
    const w = await api2.get(`/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=2&resourceVersion=${oldRv}`);
    const first = JSON.parse(w.text.split('\n')[0]!);
    t.is(first.type, 'ERROR', w.text);
    t.is(first.object.code, 410);
  } finally {
    api2.close();
  }

  await waitFor('the informer to relist', () => inf.lists >= 2, 60_000, 100);
  const late = `late-${suffix}`;
  await k(['create', '-f', '-'], { input: podYaml(late) });
  const lateSeen = await inf.waitSeen('ADDED after the relist', (s) => s.verb === 'add' && s.name === late);
  t.true(Number(lateSeen.rv) > Number(oldRv), 'resourceVersions keep rising across the restart');
  await k(['delete', 'pod', early]);
  await inf.waitSeen('DELETED after the relist', (s) => s.verb === 'delete' && s.name === early);
  t.deepEqual(inf.informer.list('default').map((p) => p.metadata!.name).sort(), [late]);
  t.true(inf.errors.length > 0, 'the restart was noticed as an error first');
  await inf.stop();
});

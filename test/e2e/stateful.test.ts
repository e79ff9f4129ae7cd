// Stateful apps with real parts: the compiled controller, one agent running pods through
// real podman, stock kubectl. A StatefulSet with per-pod claims on the default local-path
// class, a Deployment with a claim, and a static hostPath volume.
import test from 'ava';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '../../protocol/kube/types.js';
import { BUSYBOX_IMAGE } from '../helpers/podman-image.js';
import { removeDir, waitFor, type AgentHandle, type Kubectl } from '../helpers/processes.js';
import { startPodmanCluster, type PodmanCluster } from './podman-cluster.js';
import { getPod, uniqueNodeName } from './e2e-helpers.js';

const NODE = uniqueNodeName('e2e-stateful');
let cluster: PodmanCluster | undefined;
let agent: AgentHandle | undefined;
let k: Kubectl;
const hostDir = mkdtempSync(join(tmpdir(), 'pikube-e2e-hostpath-'));
const storageDir = () => join(agent!.dir, 'storage');

// sh as PID 1 would ignore SIGTERM; the trap lets pods stop at once.
const SERVE = 'trap "exit 0" TERM; [ -f /data/first ] || echo $HOSTNAME > /data/first; /bin/httpd -f -p 8080 -h /data & wait';

const statefulSet = (image = BUSYBOX_IMAGE, env: { name: string; value: string }[] = []) => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' },
  spec: {
    serviceName: 'db', replicas: 3, selector: { matchLabels: { app: 'db' } },
    template: {
      metadata: { labels: { app: 'db' } },
      spec: {
        terminationGracePeriodSeconds: 5,
        containers: [{
          name: 'c', image, imagePullPolicy: 'Never', command: ['/bin/sh', '-c', SERVE], env,
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
          readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
        }],
      },
    },
    volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Mi' } } } }],
  },
});

const headless = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 8080 }] } };

async function apply(obj: unknown): Promise<void> {
  await k(['apply', '-f', '-'], { input: JSON.stringify(obj) });
}

async function json<T = any>(args: string[]): Promise<T> {
  return JSON.parse((await k([...args, '-o', 'json'])).stdout) as T;
}

const readyReplicas = async (): Promise<number> => (await json(['get', 'sts', 'db'])).status?.readyReplicas ?? 0;
const claimNames = async (selector: string): Promise<string[]> => (await json(['get', 'pvc', '-l', selector])).items.map((c: any) => c.metadata.name).sort();
let appDir = '';
let appVolume = '';
let appFirstPod: Pod | undefined;
const running = async () => (await podList('app=app')).find((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);
const podList = async (selector: string): Promise<Pod[]> => (await json(['get', 'pods', '-l', selector])).items;

test.before(async () => {
  cluster = await startPodmanCluster(NODE);
  ({ agent, k } = cluster);
});

test.after.always(async () => {
  await cluster?.stop();
  removeDir(hostDir);
});

test.serial('the default local-path class is listed as upstream prints it', async (t) => {
  const out = (await k(['get', 'sc'])).stdout;
  t.regex(out, /^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE/m);
  t.regex(out, /^local-path \(default\)\s+pikube\.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+false\s/m);
});

// Pods start slowly on a busy machine: every wait gets its own test, under the inactivity timeout.
for (const n of [0, 1, 2]) {
  test.serial(`StatefulSet pod db-${n} comes up${n === 0 ? ' first' : ' after the one before it'}`, async (t) => {
    if (n === 0) {
      await apply(headless);
      await apply(statefulSet());
    }
    await waitFor(`${n + 1} ready replicas`, async () => (await readyReplicas()) >= n + 1, 170_000, 1000);
    const names = (await podList('app=db')).map((p) => p.metadata.name).sort();
    t.true(names.includes(`db-${n}`));
    t.false(names.includes(`db-${n + 2}`), `db-${n + 2} is not created before db-${n + 1} is ready`);
  });
}

test.serial('the StatefulSet came up in order, each pod on its own claim, writing its name', async (t) => {
  const pods = await podList('app=db');
  t.deepEqual(pods.map((p) => p.metadata.name).sort(), ['db-0', 'db-1', 'db-2']);
  // OrderedReady: each pod was created only once the one before was Running and Ready.
  const created = (name: string) => Date.parse(pods.find((p) => p.metadata.name === name)!.metadata.creationTimestamp!);
  const readyAt = (name: string) => Date.parse(pods.find((p) => p.metadata.name === name)!.status!.conditions!.find((c) => c.type === 'Ready')!.lastTransitionTime!);
  t.true(created('db-1') >= readyAt('db-0'), 'db-1 after db-0 was ready');
  t.true(created('db-2') >= readyAt('db-1'), 'db-2 after db-1 was ready');
  for (const p of pods) {
    t.is(p.spec.hostname, p.metadata.name);
    t.is(p.spec.subdomain, 'db');
    t.is((await k(['exec', p.metadata.name!, '--', 'cat', '/data/first'])).stdout.trim(), p.metadata.name ?? '');
  }
  const claims = (await k(['get', 'pvc', '--no-headers'])).stdout;
  for (const n of [0, 1, 2]) t.regex(claims, new RegExp(`^data-db-${n}\\s+Bound\\s+pvc-\\S+\\s+10Mi\\s+RWO\\s+local-path\\s`, 'm'));
  const pvs = await json(['get', 'pv']);
  t.is(pvs.items.length, 3);
  for (const pv of pvs.items) {
    t.deepEqual(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values, [NODE]);
    t.true(pv.spec.hostPath.path.startsWith(`${storageDir()}/`), pv.spec.hostPath.path);
  }
  t.is(readdirSync(storageDir()).length, 3);
});

test.serial('pods resolve each other by NAME-N.SERVICE names', async (t) => {
  const fetchFirst = async (target: string) => (await k(['exec', 'db-1', '--', 'sh', '-c', `printf "GET /first HTTP/1.0\\r\\n\\r\\n" | nc -w 3 ${target} 8080`], { reject: false })).stdout;
  await waitFor('db-0.db.default.svc.cluster.local answers', async () => (await fetchFirst('db-0.db.default.svc.cluster.local')).includes('db-0'), 60_000, 1000);
  t.true((await fetchFirst('db-2.db')).includes('db-2'));
});

test.serial('a deleted pod comes back under its name on its node with its data', async (t) => {
  const before = (await getPod(k, 'db-1'))!;
  await k(['delete', 'pod', 'db-1', '--wait=false']);
  await waitFor('db-1 replaced and serving its old data', async () => {
    const p = await getPod(k, 'db-1');
    if (!p || p.metadata.uid === before.metadata.uid) return false;
    const r = await k(['exec', 'db-1', '--', 'cat', '/data/first'], { reject: false });
    return r.exitCode === 0 && r.stdout.trim() === 'db-1';
  }, 120_000, 1000);
  t.is((await getPod(k, 'db-1'))!.spec.nodeName, before.spec.nodeName);
});

test.serial('scaling to 5 brings up ordinal 3', async (t) => {
  await k(['scale', 'sts', 'db', '--replicas=5']);
  await waitFor('4 ready replicas', async () => (await readyReplicas()) >= 4, 170_000, 1000);
  t.pass();
});

test.serial('and then ordinal 4', async (t) => {
  await waitFor('5 ready replicas', async () => (await readyReplicas()) === 5, 170_000, 1000);
  t.deepEqual(await claimNames('app=db'), ['data-db-0', 'data-db-1', 'data-db-2', 'data-db-3', 'data-db-4']);
});

for (const gone of [4, 3, 2]) {
  test.serial(`scaling back to 2 removes db-${gone}${gone === 4 ? ' first' : ' next'}`, async (t) => {
    if (gone === 4) await k(['scale', 'sts', 'db', '--replicas=2']);
    const remaining = async () => (await podList('app=db')).map((p) => p.metadata.name!).sort();
    await waitFor(`db-${gone} gone`, async () => !(await remaining()).includes(`db-${gone}`), 170_000, 500);
    const left = await remaining();
    // One at a time, highest first: nothing below the removed ordinal has gone yet.
    for (let n = 0; n < gone; n++) t.true(left.includes(`db-${n}`), `db-${n} still there: ${left.join(' ')}`);
    if (gone === 2) t.deepEqual(await claimNames('app=db'), ['data-db-0', 'data-db-1', 'data-db-2', 'data-db-3', 'data-db-4']);
  });
}

test.serial('scaling up again reattaches the old claim', async (t) => {
  await k(['scale', 'sts', 'db', '--replicas=3']);
  await waitFor('3 ready replicas', async () => (await readyReplicas()) === 3, 170_000, 1000);
  t.is((await k(['exec', 'db-2', '--', 'cat', '/data/first'])).stdout.trim(), 'db-2', 'db-2 found its old claim');
});

test.serial('a rolling update with partition 1 starts with the highest ordinal', async (t) => {
  await k(['patch', 'sts', 'db', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":1}}}}']);
  const oldRevision = (await json(['get', 'sts', 'db'])).status.currentRevision;
  await k(['set', 'env', 'sts/db', 'COLOUR=blue']);
  const st = await waitFor('db-2 updated and ready', async () => {
    const s = (await json(['get', 'sts', 'db'])).status;
    return s.updatedReplicas >= 1 && s.readyReplicas === 3 ? s : undefined;
  }, 170_000, 1000);
  t.not(st.updateRevision, oldRevision);
  t.is((await getPod(k, 'db-2'))!.metadata.labels!['controller-revision-hash'], st.updateRevision);
});

test.serial('the partitioned rollout completes with db-1, and rollout status and history follow it', async (t) => {
  const oldRevision = (await json(['get', 'sts', 'db'])).status.currentRevision;
  const status = await k(['rollout', 'status', 'sts/db', '--timeout=170s'], { timeoutMs: 175_000 });
  t.regex(status.stdout, /partitioned roll out complete: 2 new pods have been updated/);
  const sts = await json(['get', 'sts', 'db']);
  const revisions = Object.fromEntries((await podList('app=db')).map((p) => [p.metadata.name, p.metadata.labels!['controller-revision-hash']]));
  t.is(revisions['db-0'], oldRevision);
  t.is(revisions['db-1'], sts.status.updateRevision);
  t.is(revisions['db-2'], sts.status.updateRevision);
  t.not(sts.status.updateRevision, oldRevision);
  const history = (await k(['rollout', 'history', 'sts/db'])).stdout;
  t.regex(history, /^1\s+<none>$/m);
  t.regex(history, /^2\s+<none>$/m);
});

test.serial('rollout undo brings every pod back to the first template', async (t) => {
  const oldRevision = (await json(['get', 'sts', 'db'])).status.currentRevision;
  await k(['rollout', 'undo', 'sts/db']);
  await waitFor('db-2 back on the first template', async () => {
    const p = await getPod(k, 'db-2');
    return p?.metadata.labels?.['controller-revision-hash'] === oldRevision && p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  }, 170_000, 1000);
  t.pass();
});

test.serial('and then db-1', async (t) => {
  const oldRevision = (await json(['get', 'sts', 'db'])).status.updateRevision;
  await waitFor('every pod back on the first template', async () => {
    const s = await json(['get', 'sts', 'db']);
    const pods = await podList('app=db');
    return s.status.updateRevision === oldRevision && pods.length === 3 && pods.every((p) => p.metadata.labels!['controller-revision-hash'] === oldRevision && !p.metadata.deletionTimestamp);
  }, 170_000, 1000);
  t.pass();
});

test.serial('deleting the StatefulSet and its claims reclaims the volumes and their directories', async (t) => {
  await k(['delete', 'sts', 'db']);
  await k(['delete', 'pvc', '-l', 'app=db', '--wait=false']);
  await waitFor('no volumes left', async () => (await json(['get', 'pv'])).items.length === 0, 120_000, 1000);
  t.deepEqual(readdirSync(storageDir()), []);
});

test.serial('a Deployment with a claim on the default class: volume on its node, data across pod deletion, directory gone with the claim', async (t) => {
  await apply({
    apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'app-data' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '20Mi' } } },
  });
  const claim = await json(['get', 'pvc', 'app-data']);
  t.is(claim.spec.storageClassName, 'local-path');
  t.is(claim.status.phase, 'Pending');
  await apply({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'app' },
    spec: {
      replicas: 1, selector: { matchLabels: { app: 'app' } },
      template: {
        metadata: { labels: { app: 'app' } },
        spec: {
          terminationGracePeriodSeconds: 1,
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'app-data' } }],
          containers: [{ name: 'c', image: BUSYBOX_IMAGE, imagePullPolicy: 'Never', command: ['/bin/sh', '-c', 'trap "exit 0" TERM; date +%s%N >> /data/starts; sleep 3600 & wait'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
        },
      },
    },
  });
  const first = await waitFor('app pod running', running, 120_000, 1000);
  t.is(first.spec.nodeName, NODE);
  const bound = await json(['get', 'pvc', 'app-data']);
  t.is(bound.status.phase, 'Bound');
  t.is(bound.metadata.annotations['volume.kubernetes.io/selected-node'], NODE);
  const pv = await json(['get', 'pv', bound.spec.volumeName]);
  t.deepEqual(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values, [NODE]);
  t.is(pv.spec.capacity.storage, '20Mi');
  appDir = pv.spec.hostPath.path as string;
  appVolume = bound.spec.volumeName;
  appFirstPod = first;
  t.true(existsSync(appDir));
});

test.serial('the Deployment\'s data survives a pod deletion', async (t) => {
  const first = appFirstPod!;
  await k(['delete', 'pod', first.metadata.name!]);
  const second = await waitFor('a new app pod running', async () => { const p = await running(); return p && p.metadata.uid !== first.metadata.uid ? p : undefined; }, 120_000, 1000);
  const starts = (await k(['exec', second.metadata.name!, '--', 'cat', '/data/starts'])).stdout.trim().split('\n');
  t.is(starts.length, 2, 'the second pod saw what the first wrote');
});

test.serial('a claim in use waits for its pod; then the volume and its directory go', async (t) => {
  const dir = appDir;
  // A claim in use is not removed while its pod lives.
  await k(['delete', 'pvc', 'app-data', '--wait=false']);
  await new Promise((r) => setTimeout(r, 2000));
  const held = await json(['get', 'pvc', 'app-data']);
  t.truthy(held.metadata.deletionTimestamp);
  t.deepEqual(held.metadata.finalizers, ['kubernetes.io/pvc-protection']);
  t.true(existsSync(dir));
  await k(['delete', 'deployment', 'app']);
  await waitFor('claim, volume and directory gone', async () => {
    const c = await k(['get', 'pvc', 'app-data'], { reject: false });
    const v = await k(['get', 'pv', appVolume], { reject: false });
    return c.exitCode !== 0 && v.exitCode !== 0 && !existsSync(dir);
  }, 120_000, 1000);
  t.pass();
});

test.serial('a static hostPath volume binds to a matching claim and is mounted', async (t) => {
  await apply({
    apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'nas-small', labels: { tier: 'static' } },
    spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'manual', hostPath: { path: hostDir } },
  });
  await apply({
    apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'nas-rox' },
    spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadOnlyMany'], storageClassName: 'manual', hostPath: { path: '/nonexistent' } },
  });
  await apply({
    apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'static' },
    spec: { storageClassName: 'manual', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '500Mi' } } },
  });
  await waitFor('claim bound', async () => (await json(['get', 'pvc', 'static'])).status?.phase === 'Bound', 30_000, 500);
  const pvs = (await k(['get', 'pv', '--no-headers'])).stdout;
  t.regex(pvs, /^nas-small\s+1Gi\s+RWO\s+Retain\s+Bound\s+default\/static\s+manual\s/m);
  t.regex(pvs, /^nas-rox\s+5Gi\s+ROX\s+Retain\s+Available\s+manual\s/m);
  await apply({
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'static-user' },
    spec: {
      terminationGracePeriodSeconds: 1, restartPolicy: 'Never',
      volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'static' } }],
      containers: [{ name: 'c', image: BUSYBOX_IMAGE, imagePullPolicy: 'Never', command: ['/bin/sh', '-c', 'echo hello > /v/out'], volumeMounts: [{ name: 'v', mountPath: '/v' }] }],
    },
  });
  await waitFor('file written through the claim', async () => existsSync(join(hostDir, 'out')), 120_000, 1000);
  t.pass();
});

test.serial('a pod whose volume lives on a node that is gone stays Pending with upstream\'s message', async (t) => {
  await apply({
    apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'on-pi-02' },
    spec: {
      capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'pinned', local: { path: '/srv/data' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['pi-02'] }] }] } },
      claimRef: { namespace: 'default', name: 'pinned' },
    },
  });
  await apply({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'pinned' }, spec: { storageClassName: 'pinned', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
  await waitFor('pinned claim bound', async () => (await json(['get', 'pvc', 'pinned'])).status?.phase === 'Bound', 30_000, 500);
  await apply({
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pinned-user' },
    spec: { volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'pinned' } }], containers: [{ name: 'c', image: BUSYBOX_IMAGE, imagePullPolicy: 'Never', command: ['sleep', '60'] }] },
  });
  const message = await waitFor('FailedScheduling', async () => {
    const p = await getPod(k, 'pinned-user');
    return p?.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False')?.message;
  }, 30_000, 500);
  t.is(message, '0/1 nodes are available: 1 node(s) had volume node affinity conflict. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.');
  await apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'no-claim' }, spec: { volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'missing' } }], containers: [{ name: 'c', image: BUSYBOX_IMAGE, command: ['sleep', '60'] }] } });
  const missing = await waitFor('FailedScheduling for a missing claim', async () => {
    const p = await getPod(k, 'no-claim');
    return p?.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False')?.message;
  }, 30_000, 500);
  t.is(missing, '0/1 nodes are available: persistentvolumeclaim "missing" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.');
});

// The etcd-backed control plane against a real 3-member etcd cluster on loopback: API
// creates at 50 clients and watch delivery (compare api-creates / watch-latency, the same
// measurements on the embedded store), controller RSS on etcd, and leader failover —
// SIGKILL of the leader until the new leader's first successful schedule.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { removeDir, startAgent, startController, waitFor, type ControllerHandle } from '../test/helpers/processes.js';
import { startEtcdCluster, type EtcdCluster } from '../test/helpers/etcd.js';
import { ApiClient, percentile, runConcurrently } from '../test/helpers/api-client.js';
import { EtcdStore } from '../controller/store/etcd/etcd-store.js';
import type { KubeObject } from '../protocol/kube/types.js';
import { benchConfigMap, createMany, openWatch } from './api-bench.js';
import type { Metric } from './metric.js';

const rssMb = (pid: number) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function onEtcd<T>(fn: (etcd: EtcdCluster, ctrls: ControllerHandle[]) => Promise<T>, controllers = 1): Promise<T> {
  const etcd = await startEtcdCluster(3);
  const ctrls: ControllerHandle[] = [];
  try {
    const endpoint = etcd.endpoints.join(',');
    ctrls.push(await startController({ args: ['--datastore-endpoint', endpoint], readyTimeoutMs: 120_000 }));
    for (let i = 1; i < controllers; i++) ctrls.push(await startController({ args: ['--datastore-endpoint', endpoint, '--token', ctrls[0]!.joinToken], readyTimeoutMs: 120_000 }));
    return await fn(etcd, ctrls);
  } finally {
    for (const c of ctrls) { await c.kill(); removeDir(c.dir); }
    await etcd.stop();
  }
}

export async function benchEtcdApi(o: { total: number; concurrency: number; watchWrites: number }): Promise<Metric[]> {
  return onEtcd(async (_etcd, [ctrl]) => {
    const api = new ApiClient(ctrl!.kubeconfig, { maxSockets: o.concurrency });
    try {
      await api.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
      const path = '/api/v1/namespaces/bench/configmaps';
      await createMany(api, path, o.concurrency * 10, o.concurrency, (i) => benchConfigMap(`warm-${i}`));
      const lat: number[] = [];
      const t0 = performance.now();
      await createMany(api, path, o.total, o.concurrency, (i) => benchConfigMap(`cm-${i}`), lat);
      const seconds = (performance.now() - t0) / 1000;
      lat.sort((a, b) => a - b);
      // Watch delivery: sequential creates, from sending the write to the watcher reading it.
      const arrivals = new Map<string, (t: number) => void>();
      const rv = (await api.get(path + '?limit=1')).body.metadata.resourceVersion as string;
      const stream = await openWatch(api, `${path}?watch=true&resourceVersion=${rv}`, (ev) => {
        const done = ev.type === 'ADDED' ? arrivals.get(ev.object.metadata.name) : undefined;
        if (done) { arrivals.delete(ev.object.metadata.name); done(performance.now()); }
      });
      const wlat: number[] = [];
      try {
        for (let i = -20; i < o.watchWrites; i++) {
          const name = `w-${i}`;
          const arrived = new Promise<number>((resolve) => arrivals.set(name, resolve));
          const w0 = performance.now();
          const [r, at] = await Promise.all([api.post(path, benchConfigMap(name)), arrived]);
          if (r.status !== 201) throw new Error(`create: ${r.status}`);
          if (i >= 0) wlat.push(at - w0);
        }
      } finally {
        stream.close();
      }
      wlat.sort((a, b) => a - b);
      await new Promise((r) => setTimeout(r, 2000));
      const objects = o.total + o.concurrency * 10 + o.watchWrites + 20;
      return [
        { metric: 'etcd_api_creates_per_second', value: o.total / seconds, unit: 'creates/s', goal: { op: '>=', value: 1500 }, note: `${o.total} configmaps, ${o.concurrency} clients, 3-member etcd on loopback (each member fsyncs)` },
        { metric: 'etcd_api_create_latency_p99', value: percentile(lat, 99), unit: 'ms' },
        { metric: 'etcd_watch_delivery_latency_p99', value: percentile(wlat, 99), unit: 'ms', goal: { op: '<=', value: 20 }, note: `${o.watchWrites} sequential creates` },
        { metric: 'etcd_watch_delivery_latency_p50', value: percentile(wlat, 50), unit: 'ms' },
        { metric: 'etcd_controller_rss', value: rssMb(ctrl!.child.pid!), unit: 'MB', note: `VmRSS holding ${objects} configmaps` },
      ];
    } finally {
      api.close();
    }
  });
}

/** Three controllers on one etcd, one simulated agent: SIGKILL the leader, time to the next pod bound by the new one. */
export async function benchEtcdFailover(): Promise<Metric[]> {
  return onEtcd(async (_etcd, ctrls) => {
    const urls = ctrls.map((c) => c.mqttUrl).join(',');
    const agent = startAgent({ mqttUrl: urls, joinToken: ctrls[0]!.joinToken }, { nodeName: 'bench-ha-node' });
    const apis = ctrls.map((c) => new ApiClient(c.kubeconfig, { maxSockets: 4 }));
    try {
      await waitFor('node Ready', async () => (await apis[1]!.get('/api/v1/nodes/bench-ha-node')).body?.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True'), 60_000);
      const lease = async (api: ApiClient) => (await api.get('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/pikube-controller')).body?.spec?.holderIdentity as string | undefined;
      const leader = await lease(apis[0]!);
      const li = ctrls.findIndex((c) => leader?.includes(`:${c.apiPort}_`));
      const survivor = apis[(li + 1) % 3]!;
      const t0 = performance.now();
      await ctrls[li]!.kill();
      // A pod created right after the kill: bound once a new leader's scheduler runs.
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'after-failover' }, spec: { containers: [{ name: 'c', image: 'localhost/busybox:latest' }] } };
      await waitFor('pod created', async () => (await survivor.post('/api/v1/namespaces/default/pods', pod)).status === 201, 30_000, 100);
      await waitFor('pod bound', async () => !!(await survivor.get('/api/v1/namespaces/default/pods/after-failover')).body?.spec?.nodeName, 60_000, 50);
      const ms = performance.now() - t0;
      return [{ metric: 'leader_failover_to_first_schedule', value: ms / 1000, unit: 's', goal: { op: '<=', value: 10 }, note: 'SIGKILL of the leader controller -> the new leader binds a pending pod (lease 6s, renew 4s, retry 1s)' }];
    } finally {
      for (const a of apis) a.close();
      await agent.kill();
      removeDir(agent.dir);
    }
  }, 3);
}

/**
 * Where an etcd-backed create's time goes, below the API server: one etcd transaction per
 * create straight from the client library, then the store's create (the same transaction
 * plus waiting for the mirror's watch to deliver it), at the same concurrency on the same
 * 3-member cluster. Compare with etcd-api: the gap is the API server's share.
 */
export async function benchEtcdStoreCreates(o: { total: number; concurrency: number }): Promise<Metric[]> {
  const etcd = await startEtcdCluster(3);
  const store = new EtcdStore({ endpoints: etcd.endpoints });
  try {
    await store.open();
    const obj = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'bench', uid: name }, ...benchConfigMap(name) }) as KubeObject;
    const rate = async (fn: (i: number) => Promise<unknown>) => {
      const t0 = performance.now();
      await runConcurrently(o.total, o.concurrency, async (i) => { await fn(i); });
      return o.total / ((performance.now() - t0) / 1000);
    };
    await rate((i) => store.create('configmaps', 'bench', `warm-${i}`, obj(`warm-${i}`)));
    const raw = await rate((i) => {
      const key = `/bench-raw/${i}`;
      return store.client.if(key, 'Create', '==', 0).then(store.client.put(key).value(JSON.stringify(obj(`raw-${i}`)))).commit();
    });
    const stored = await rate((i) => store.create('configmaps', 'bench', `cm-${i}`, obj(`cm-${i}`)));
    const note = `${o.total} creates, ${o.concurrency} at a time, 3-member etcd on loopback`;
    return [
      { metric: 'etcd_raw_txn_creates_per_second', value: raw, unit: 'creates/s', note: `${note}; etcd3 client, one Txn each` },
      { metric: 'etcd_store_creates_per_second', value: stored, unit: 'creates/s', note: `${note}; EtcdStore.create (Txn + own watch event)` },
    ];
  } finally {
    await store.close();
    await etcd.stop();
  }
}

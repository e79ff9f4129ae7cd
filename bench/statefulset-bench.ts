// StatefulSet of 10 with a claim each, on a real controller process and hollow nodes
// (simulated runtime): from the create until every replica is Ready. Each pod goes
// through claim creation, scheduling with volume binding, local-path provisioning and
// the agent making its directory; OrderedReady does that one pod after the other.
import type { Metric } from './metric.js';
import { benchDir, startBenchController, startHollowNodes, until } from './scheduling-cluster.js';

function statefulSet(name: string, replicas: number, policy: 'OrderedReady' | 'Parallel'): object {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name },
    spec: {
      replicas, serviceName: name, podManagementPolicy: policy, selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'db', image: 'registry.lan/db:1.0', volumeMounts: [{ name: 'data', mountPath: '/data' }], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  };
}

export async function benchStatefulSet(opts: { replicas: number; nodes: number }): Promise<Metric[]> {
  const work = benchDir('statefulset');
  const ctrl = await startBenchController(`${work.dir}/controller`);
  const fleet = await startHollowNodes(ctrl, opts.nodes, `${work.dir}/nodes`, 5000, 'sts');
  const out: Metric[] = [];
  try {
    await until('hollow nodes registered', async () => (await ctrl.api.get('/api/v1/nodes')).body.items?.length === opts.nodes, 60_000, 200);
    for (const policy of ['OrderedReady', 'Parallel'] as const) {
      const name = policy === 'Parallel' ? 'par' : 'ord';
      const started = performance.now();
      const r = await ctrl.api.post('/apis/apps/v1/namespaces/default/statefulsets', statefulSet(name, opts.replicas, policy));
      if (r.status !== 201) throw new Error(`create statefulset: ${r.status} ${r.text.slice(0, 300)}`);
      await until(`${opts.replicas} ready replicas`, async () => {
        const s = await ctrl.api.get(`/apis/apps/v1/namespaces/default/statefulsets/${name}`);
        return s.body.status?.readyReplicas === opts.replicas;
      }, 300_000, 20);
      const seconds = (performance.now() - started) / 1000;
      const bound = (await ctrl.api.get('/api/v1/namespaces/default/persistentvolumeclaims')).body.items
        .filter((c: { metadata: { name: string }; status?: { phase?: string } }) => c.metadata.name.startsWith(`data-${name}-`) && c.status?.phase === 'Bound').length;
      if (bound !== opts.replicas) throw new Error(`${bound} of ${opts.replicas} claims bound`);
      const note = `${opts.replicas} pods with a local-path claim each on ${opts.nodes} simulated node(s), ${policy}`;
      out.push({ metric: `statefulset_${name === 'par' ? 'parallel' : 'ordered'}_ready_seconds`, value: seconds, unit: 's', note });
      out.push({ metric: `statefulset_${name === 'par' ? 'parallel' : 'ordered'}_seconds_per_pod`, value: seconds / opts.replicas, unit: 's', note });
    }
  } finally {
    await fleet.stop();
    await ctrl.kill();
    work.remove();
  }
  return out;
}

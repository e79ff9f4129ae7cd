// API creates with RBAC deciding: the same 50-client durable-create load as api-creates,
// sent by a namespaced editor (a service account bound to `edit` in its namespace) rather
// than the admin, so every request walks the role bindings.
import { performance } from 'node:perf_hooks';
import { percentile, runConcurrently } from '../test/helpers/api-client.js';
import { benchConfigMap, withController } from './api-bench.js';
import type { Metric } from './metric.js';

export async function benchApiCreatesEditor(o: { total: number; concurrency: number }): Promise<Metric[]> {
  return withController(async (_ctrl, api) => {
    const ns = 'bench';
    const sa = await api.post(`/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'editor' } });
    if (sa.status !== 201) throw new Error(`service account: ${sa.status} ${sa.text}`);
    const rb = await api.post(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'editor-edit' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ kind: 'ServiceAccount', name: 'editor', namespace: ns }],
    });
    if (rb.status !== 201) throw new Error(`role binding: ${rb.status} ${rb.text}`);
    const tr = await api.post(`/api/v1/namespaces/${ns}/serviceaccounts/editor/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } });
    if (tr.status !== 201) throw new Error(`token: ${tr.status} ${tr.text}`);
    const token = tr.body.status.token as string;
    const path = `/api/v1/namespaces/${ns}/configmaps`;
    const create = async (name: string, lat?: number[]) => {
      const t0 = performance.now();
      const r = await api.post(path, benchConfigMap(name), { token });
      if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${r.text.slice(0, 300)}`);
      lat?.push(performance.now() - t0);
    };
    await runConcurrently(o.concurrency * 10, o.concurrency, (i) => create(`warm-${i}`));
    const lat: number[] = [];
    const t0 = performance.now();
    await runConcurrently(o.total, o.concurrency, (i) => create(`cm-${i}`, lat));
    const seconds = (performance.now() - t0) / 1000;
    lat.sort((a, b) => a - b);
    const note = `${o.total} configmaps by a service account bound to edit in its namespace, ${o.concurrency} concurrent TLS clients`;
    return [
      { metric: 'api_creates_per_second_editor', value: o.total / seconds, unit: 'creates/s', goal: { op: '>=', value: 2000 }, note },
      { metric: 'api_create_latency_p50_editor', value: percentile(lat, 50), unit: 'ms' },
      { metric: 'api_create_latency_p99_editor', value: percentile(lat, 99), unit: 'ms' },
    ];
  }, o.concurrency);
}

// The Kubernetes API over MQTT against the same requests over HTTPS, in one run: a real
// controller, one MQTT user with an `edit` binding, sequential `get` and `scale` of a
// Deployment; latency from sending the request to holding the answer.
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import { MqttLink } from '../protocol/mqtt/link.js';
import { ApiClient, percentile } from '../test/helpers/api-client.js';
import { CLI, removeDir, startController } from '../test/helpers/processes.js';
import type { Metric } from './metric.js';

export async function benchMqttApi(o: { requests: number }): Promise<Metric[]> {
  const ctrl = await startController();
  const api = new ApiClient(ctrl.kubeconfig);
  let link: MqttLink | undefined;
  try {
    const password = (await execa(process.execPath, [CLI, 'user', 'add', 'bench', '--mqtt', '--data-dir', ctrl.dir])).stdout.trim().split('\n').at(-1)!;
    await api.post('/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'bench-edit' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bench' }],
    });
    await api.post('/apis/apps/v1/namespaces/default/deployments', {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
      spec: { replicas: 0, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'localhost/busybox:latest' }] } } },
    });
    link = new MqttLink({ url: ctrl.mqttUrl, clientId: 'bench-mqtt-api', username: 'bench', password });
    await link.start({ timeoutMs: 10_000 });
    const waiting = new Map<string, () => void>();
    await link.subscribe('pikube/v1/api/response/bench/+', (topic) => { const id = topic.split('/').pop()!; waiting.get(id)?.(); waiting.delete(id); });
    const overMqtt = async (id: string, req: object) => {
      const done = new Promise<void>((resolve) => waiting.set(id, resolve));
      await link!.publish('pikube/v1/api/request/bench', { id, ...req }, { qos: 1 });
      await done;
    };
    const target = { group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default', name: 'web' };
    const kinds = {
      get: { https: () => api.get('/apis/apps/v1/namespaces/default/deployments/web'), mqtt: (id: string) => overMqtt(id, { verb: 'get', ...target }) },
      scale: {
        https: (i: number) => api.request('PATCH', '/apis/apps/v1/namespaces/default/deployments/web/scale', { body: { spec: { replicas: i % 2 } }, contentType: 'application/merge-patch+json' }),
        mqtt: (id: string, i: number) => overMqtt(id, { verb: 'scale', ...target, body: { replicas: i % 2 } }),
      },
    };
    const metrics: Metric[] = [];
    for (const [verb, k] of Object.entries(kinds)) {
      const https: number[] = [];
      const mqtt: number[] = [];
      // Interleaved, so both paths see the same machine.
      for (let i = 0; i < o.requests; i++) {
        let t0 = performance.now();
        await k.https(i);
        https.push(performance.now() - t0);
        t0 = performance.now();
        await k.mqtt(`${verb}-${i}`, i);
        mqtt.push(performance.now() - t0);
      }
      https.sort((a, b) => a - b);
      mqtt.sort((a, b) => a - b);
      metrics.push(
        { metric: `mqtt_api_${verb}_p50_ms`, value: percentile(mqtt, 50), unit: 'ms', note: `HTTPS p50 ${percentile(https, 50).toFixed(2)} ms, ${o.requests} sequential requests each` },
        { metric: `mqtt_api_${verb}_p99_ms`, value: percentile(mqtt, 99), unit: 'ms', note: `HTTPS p99 ${percentile(https, 99).toFixed(2)} ms` },
        { metric: `https_api_${verb}_p50_ms`, value: percentile(https, 50), unit: 'ms' },
        { metric: `https_api_${verb}_p99_ms`, value: percentile(https, 99), unit: 'ms' },
      );
    }
    return metrics;
  } finally {
    await link?.end().catch(() => undefined);
    api.close();
    await ctrl.kill();
    removeDir(ctrl.dir);
  }
}

// /metrics on a real controller: authenticated, valid Prometheus text exposition, and
// carrying the families the issue names after real API, watch, scheduling and MQTT traffic.
import test from 'ava';
import { request } from 'node:https';
import { randomBytes } from 'node:crypto';
import { kubectl, startAgent, startController, waitFor, removeDir, type AgentHandle, type ControllerHandle } from '../helpers/processes.js';

let controller: ControllerHandle | undefined;
let agent: AgentHandle | undefined;

test.after.always(async () => {
  await agent?.kill();
  await controller?.kill();
  if (agent) removeDir(agent.dir);
  if (controller) removeDir(controller.dir);
});

function get(url: string, token?: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false, headers: token ? { Authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface Sample { name: string; labels: Record<string, string>; value: number }
interface Family { name: string; type: string; help: string; samples: Sample[] }

/**
 * A strict reader of the Prometheus text format (0.0.4): HELP and TYPE once per family and
 * before its samples, samples only of declared families (with the histogram and summary
 * suffixes), well-formed names, labels and values.
 */
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line.trim() === '') return;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`bad metric name, ${where}`);
      const f = families.get(name) ?? { name, type: 'untyped', help: '', samples: [] };
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`bad type, ${where}`);
        if (f.samples.length) throw new Error(`TYPE after samples, ${where}`);
        f.type = rest;
      } else {
        f.help = rest;
      }
      families.set(name, f);
      return;
    }
    if (line.startsWith('#')) return;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/.exec(line);
    if (!m) throw new Error(`malformed sample, ${where}`);
    const [, name, , labelText, valueText] = m as unknown as [string, string, string | undefined, string | undefined, string];
    const labels: Record<string, string> = {};
    if (labelText) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
      let pos = 0;
      while (pos < labelText.length) {
        re.lastIndex = pos;
        const l = re.exec(labelText);
        if (!l) throw new Error(`malformed labels, ${where}`);
        if (l[1]! in labels) throw new Error(`duplicate label, ${where}`);
        labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
        pos = re.lastIndex;
      }
    }
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : valueText === 'NaN' ? NaN : Number(valueText);
    if (Number.isNaN(value) && valueText !== 'NaN') throw new Error(`bad value, ${where}`);
    const family = families.get(name) ?? [...families.values()].find((f) =>
      (f.type === 'histogram' && [`${f.name}_bucket`, `${f.name}_sum`, `${f.name}_count`].includes(name))
      || (f.type === 'summary' && [`${f.name}_sum`, `${f.name}_count`].includes(name)));
    if (!family) throw new Error(`sample of an undeclared family, ${where}`);
    family.samples.push({ name, labels, value });
  });
  // Histograms: buckets cumulative, ending in +Inf equal to _count, per label set.
  for (const f of families.values()) {
    if (f.type !== 'histogram') continue;
    const series = new Map<string, Sample[]>();
    for (const s of f.samples.filter((x) => x.name.endsWith('_bucket'))) {
      const { le, ...rest } = s.labels;
      if (le === undefined) throw new Error(`${f.name}: bucket without le`);
      const key = JSON.stringify(rest);
      series.set(key, [...(series.get(key) ?? []), s]);
    }
    for (const [key, buckets] of series) {
      for (let i = 1; i < buckets.length; i++) if (buckets[i]!.value < buckets[i - 1]!.value) throw new Error(`${f.name}${key}: buckets not cumulative`);
      const inf = buckets.find((b) => b.labels.le === '+Inf');
      const count = f.samples.find((s) => s.name === `${f.name}_count` && JSON.stringify(s.labels) === key);
      if (!inf || !count || inf.value !== count.value) throw new Error(`${f.name}${key}: +Inf bucket does not match _count`);
    }
  }
  return families;
}

test('/metrics is authenticated Prometheus text with API, store, watch, scheduler, MQTT and node families', async (t) => {
  controller = await startController();
  const node = `metrics-${randomBytes(3).toString('hex')}`;
  agent = startAgent(controller, { nodeName: node });
  const k = kubectl(controller.kubeconfig);
  await waitFor('node Ready', async () => /\bReady\b/.test((await k(['get', 'node', node, '--no-headers'], { reject: false })).stdout), 60_000, 300);

  t.is((await get(`${controller.apiUrl}/metrics`)).status, 401);
  t.is((await get(`${controller.apiUrl}/metrics`, 'not-the-token')).status, 401);

  // Traffic: a watch held open, writes, a pod to schedule.
  const watch = request(`${controller.apiUrl}/api/v1/namespaces/default/pods?watch=true`, { rejectUnauthorized: false, headers: { Authorization: `Bearer ${controller.token}` } });
  watch.on('error', () => undefined);
  watch.end();
  t.teardown(() => watch.destroy());
  await k(['create', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m1\ndata:\n  a: b\n' });
  await k(['run', 'metrics-pod', '--image=localhost/busybox:latest', '--restart=Never', '--', 'sleep', '3600']);
  await waitFor('pod bound', async () => (await k(['get', 'pod', 'metrics-pod', '-o', 'jsonpath={.spec.nodeName}'])).stdout === node, 30_000);
  await k(['get', 'pods']);

  const families = await waitFor('node usage in /metrics', async () => {
    const r = await get(`${controller!.apiUrl}/metrics`, controller!.token);
    t.is(r.status, 200);
    t.regex(r.type, /^text\/plain; version=0\.0\.4/);
    const f = parseExposition(r.body);
    return f.get('pikube_node_cpu_usage_cores')?.samples.some((s) => s.labels.node === node) && (f.get('apiserver_registered_watchers')?.samples[0]?.value ?? 0) >= 1 ? f : undefined;
  }, 30_000, 500);

  const family = (name: string, type: string) => {
    const f = families.get(name);
    t.truthy(f, `family ${name}`);
    t.is(f?.type, type, `${name} type`);
    t.truthy(f?.help, `${name} help`);
    return f?.samples ?? [];
  };
  const value = (name: string, type: string, labels: Record<string, string> = {}, suffix = '') =>
    family(name, type).filter((s) => s.name === name + suffix && Object.entries(labels).every(([k2, v]) => s.labels[k2] === v)).reduce((a, s) => a + s.value, 0);

  // API requests and latency.
  t.true(value('apiserver_request_total', 'counter', { verb: 'POST', resource: 'core/configmaps', code: '201' }) >= 1);
  t.true(value('apiserver_request_total', 'counter', { verb: 'GET', resource: 'core/pods' }) >= 1);
  t.true(value('apiserver_request_duration_seconds', 'histogram', { verb: 'POST', resource: 'core/configmaps' }, '_count') >= 1);
  // Watches, store.
  t.true(value('apiserver_registered_watchers', 'gauge') >= 1);
  t.true(value('pikube_store_writes_total', 'gauge') > 0);
  t.true(value('pikube_store_bytes_written_total', 'gauge') > 0);
  t.true(value('pikube_store_objects', 'gauge') > 0);
  // Scheduler attempts and latency.
  t.true(value('scheduler_schedule_attempts_total', 'gauge', { result: 'scheduled' }) >= 1);
  t.true(value('scheduler_scheduling_attempt_duration_seconds', 'histogram', { result: 'scheduled' }, '_count') >= 1);
  // MQTT.
  t.true(value('pikube_mqtt_messages_total', 'gauge', { direction: 'received' }) > 0);
  t.true(value('pikube_mqtt_messages_total', 'gauge', { direction: 'sent' }) > 0);
  t.true(value('pikube_mqtt_bytes_total', 'gauge', { direction: 'sent' }) > 0);
  // Per node: CPU, memory, pods, as the agent reports them.
  t.true(value('pikube_node_cpu_usage_cores', 'gauge', { node }) >= 0);
  t.true(value('pikube_node_cpu_capacity_cores', 'gauge', { node }) > 0);
  t.true(value('pikube_node_memory_usage_bytes', 'gauge', { node }) > 0);
  t.true(value('pikube_node_memory_capacity_bytes', 'gauge', { node }) > 0);
  t.is(value('pikube_node_online', 'gauge', { node }), 1);
  t.true(family('pikube_node_pods', 'gauge').some((s) => s.labels.node === node));
});

test('the exposition reader rejects what Prometheus would', (t) => {
  t.throws(() => parseExposition('x 1'), { message: /newline/ });
  t.throws(() => parseExposition('# TYPE a gauge\nb 1\n'), { message: /undeclared/ });
  t.throws(() => parseExposition('# TYPE a gauge\na{x="1} 1\n'), { message: /malformed/ });
  t.throws(() => parseExposition('# TYPE a gauge\na one\n'), { message: /bad value/ });
  t.throws(() => parseExposition('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\nh_sum 0\n'), { message: /cumulative/ });
  t.is(parseExposition('# HELP a A.\n# TYPE a gauge\na{x="q\\"uote"} 1.5e3\n').get('a')!.samples[0]!.labels.x, 'q"uote');
});

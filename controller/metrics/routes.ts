// /metrics (Prometheus text) and metrics.k8s.io/v1beta1 (what `kubectl top` reads), both
// from the real usage agents report.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../protocol/kube/types.js';
import type { ApiCore } from '../apiserver/api-core.js';
import type { ExtraRoute } from '../apiserver/http/server.js';
import { registerVirtualGroup } from '../apiserver/http/discovery.js';
import { sendJson } from '../apiserver/http/respond.js';
import { notFound } from '../apiserver/errors.js';
import { findResource } from '../apiserver/resources.js';
import type { NodeTelemetry } from '../client/node-telemetry.js';
import type { StoreBackend } from '../store/backend.js';
import type { MessageLink } from '../../protocol/mqtt/link.js';
import type { ControllerMetrics } from './controller-metrics.js';

const GROUP = 'metrics.k8s.io';
const VERSION = 'v1beta1';

export function cpuNano(cores: number): string {
  return `${Math.round(cores * 1e9)}n`;
}
export function memKi(bytes: number): string {
  return `${Math.round(bytes / 1024)}Ki`;
}

export interface MetricsDeps { core: ApiCore; telemetry: NodeTelemetry; metrics: ControllerMetrics; store: StoreBackend; link?: MessageLink }

export function metricsRoutes(deps: MetricsDeps): ExtraRoute {
  registerVirtualGroup({
    group: GROUP, version: VERSION,
    resources: [
      { name: 'nodes', singularName: '', kind: 'NodeMetrics', namespaced: false, verbs: ['get', 'list'] },
      { name: 'pods', singularName: '', kind: 'PodMetrics', namespaced: true, verbs: ['get', 'list'] },
    ],
  });
  deps.metrics.attach({
    // The embedded store reports write failures (a full disk); etcd answers for its own.
    store: () => ({ ...deps.store.stats(), writeFailing: (deps.store as { health?: { failure?: unknown } }).health?.failure !== undefined }),
    mqtt: deps.link ? () => deps.link!.counters : undefined,
    nodes: () => deps.telemetry.names().map((name) => {
      const t = deps.telemetry.get(name)!;
      return { name, online: t.online, cpuCores: t.usage?.cpuCores, memoryBytes: t.usage?.memoryBytes, cpuCapacityCores: t.capacity?.cpuCores, memoryCapacityBytes: t.capacity?.memoryBytes, pods: t.pods.size, temperatureC: t.temperatureC };
    }),
  });
  return async (req, res, url) => {
    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/metrics') {
      res.writeHead(200, { 'Content-Type': deps.metrics.registry.contentType });
      res.end(await deps.metrics.registry.metrics());
      return true;
    }
    const prefix = `/apis/${GROUP}/${VERSION}`;
    if (!path.startsWith(prefix + '/')) return false;
    serveResourceMetrics(deps, req, res, path.slice(prefix.length + 1).split('/').map(decodeURIComponent), url.searchParams);
    return true;
  };
}

function serveResourceMetrics(deps: MetricsDeps, _req: IncomingMessage, res: ServerResponse, seg: string[], q: URLSearchParams): void {
  const t = deps.telemetry;
  const window = '10s';
  if (seg[0] === 'nodes') {
    const nodeMetrics = (name: string): KubeObject | undefined => {
      const e = t.get(name);
      if (!e?.usage || !e.online) return undefined;
      return {
        kind: 'NodeMetrics', apiVersion: `${GROUP}/${VERSION}`,
        metadata: { name, creationTimestamp: new Date().toISOString() },
        timestamp: e.readingTime ?? new Date(e.lastSeen).toISOString(), window,
        usage: { cpu: cpuNano(e.usage.cpuCores), memory: memKi(e.usage.memoryBytes) },
      };
    };
    if (seg[1]) {
      const m = nodeMetrics(seg[1]);
      if (!m) throw notFound('nodes', seg[1], GROUP);
      return sendJson(res, 200, m);
    }
    const nodes = deps.core.list(findResource('', 'nodes')!, undefined, { labelSelector: q.get('labelSelector') ?? undefined }).items;
    const items = nodes.map((n) => nodeMetrics(n.metadata.name!)).filter((x): x is KubeObject => !!x);
    return sendJson(res, 200, { kind: 'NodeMetricsList', apiVersion: `${GROUP}/${VERSION}`, metadata: {}, items });
  }
  let namespace: string | undefined;
  let rest = seg;
  if (seg[0] === 'namespaces') { namespace = seg[1]; rest = seg.slice(2); }
  if (rest[0] !== 'pods') throw notFound(rest[0] ?? '', '', GROUP);
  const items: KubeObject[] = [];
  for (const nodeName of t.names()) {
    const e = t.get(nodeName)!;
    for (const p of e.pods.values()) {
      if (namespace && p.namespace !== namespace) continue;
      if (rest[1] && p.name !== rest[1]) continue;
      items.push({
        kind: 'PodMetrics', apiVersion: `${GROUP}/${VERSION}`,
        metadata: { name: p.name, namespace: p.namespace, creationTimestamp: new Date().toISOString() },
        timestamp: e.readingTime ?? new Date(e.lastSeen).toISOString(), window,
        containers: p.containers.map((c) => ({ name: c.name, usage: { cpu: cpuNano(c.cpuCores), memory: memKi(c.memoryBytes) } })),
      });
    }
  }
  if (rest[1]) {
    if (!items[0]) throw notFound('pods', rest[1], GROUP);
    return sendJson(res, 200, items[0]);
  }
  sendJson(res, 200, { kind: 'PodMetricsList', apiVersion: `${GROUP}/${VERSION}`, metadata: {}, items });
}

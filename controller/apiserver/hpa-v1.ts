// autoscaling/v1 HorizontalPodAutoscalers (what `kubectl autoscale` sends), served from
// the stored autoscaling/v2 objects by conversion, as upstream converts between versions:
// targetCPUUtilizationPercentage is the v2 CPU Utilization metric; other v2 metrics ride
// along untouched on updates.
import type { HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, HorizontalPodAutoscalerStatus, HorizontalPodAutoscalerV1Spec, KubeObject, MetricSpec, MetricTarget } from '../../protocol/kube/types.js';
import type { ApiCore } from './api-core.js';
import { registerVirtualGroup } from './http/discovery.js';
import { decodeBody, readBody } from './http/body.js';
import { sendJson } from './http/respond.js';
import type { ExtraRoute } from './http/server.js';
import { ApiError, badRequest } from './errors.js';
import { applyPatch } from './patch/index.js';
import { findResource } from './resources.js';

const HPA = findResource('autoscaling', 'horizontalpodautoscalers')!;
const PATH = /^\/apis\/autoscaling\/v1\/(?:namespaces\/([^/]+)\/)?horizontalpodautoscalers(?:\/([^/]+))?(?:\/(status))?$/;

type CpuUtilizationMetric = MetricSpec & { resource: { name: 'cpu'; target: MetricTarget } };

const isCpuUtilization = (m: MetricSpec | undefined): m is CpuUtilizationMetric => m?.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.target?.type === 'Utilization';

export function hpaToV1(obj: KubeObject): KubeObject {
  const hpa = obj as HorizontalPodAutoscaler;
  const spec: Partial<HorizontalPodAutoscalerSpec> = hpa.spec ?? {};
  const status: HorizontalPodAutoscalerStatus = hpa.status ?? {};
  const cpu = (spec.metrics ?? []).find(isCpuUtilization);
  const cpuNow = (status.currentMetrics ?? []).find((m) => m?.type === 'Resource' && m.resource?.name === 'cpu');
  return {
    apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: obj.metadata,
    spec: {
      scaleTargetRef: spec.scaleTargetRef, ...(spec.minReplicas !== undefined ? { minReplicas: spec.minReplicas } : {}), maxReplicas: spec.maxReplicas,
      ...(cpu ? { targetCPUUtilizationPercentage: cpu.resource.target.averageUtilization } : {}),
    },
    status: {
      ...(status.observedGeneration !== undefined ? { observedGeneration: status.observedGeneration } : {}),
      ...(status.lastScaleTime ? { lastScaleTime: status.lastScaleTime } : {}),
      currentReplicas: status.currentReplicas ?? 0, desiredReplicas: status.desiredReplicas ?? 0,
      ...(cpuNow?.resource?.current?.averageUtilization !== undefined ? { currentCPUUtilizationPercentage: cpuNow.resource.current.averageUtilization } : {}),
    },
  };
}

/** v1 → v2; `stored` keeps the v2 metrics v1 cannot express. */
export function hpaFromV1(v1: KubeObject, stored?: KubeObject): KubeObject {
  if (!v1 || typeof v1 !== 'object' || Array.isArray(v1)) throw badRequest('the request body must be a JSON object');
  if (v1.apiVersion !== undefined && v1.apiVersion !== 'autoscaling/v1') throw badRequest(`the API version in the data (${String(v1.apiVersion)}) does not match the expected API version (autoscaling/v1)`);
  const spec = (v1.spec ?? {}) as Partial<HorizontalPodAutoscalerV1Spec>;
  const storedHpa = stored as HorizontalPodAutoscaler | undefined;
  const others = (storedHpa?.spec?.metrics ?? []).filter((m) => !isCpuUtilization(m));
  const cpu = spec.targetCPUUtilizationPercentage;
  const metrics = [...(cpu !== undefined ? [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpu } } }] : []), ...others];
  return {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: v1.metadata ?? {},
    spec: {
      ...(storedHpa?.spec ?? {}),
      scaleTargetRef: spec.scaleTargetRef, maxReplicas: spec.maxReplicas,
      ...(spec.minReplicas !== undefined ? { minReplicas: spec.minReplicas } : {}),
      ...(metrics.length ? { metrics } : { metrics: undefined }),
    },
    ...(stored?.status ? { status: stored.status } : {}),
  };
}

export function hpaV1Route(core: ApiCore): ExtraRoute {
  registerVirtualGroup({
    group: 'autoscaling', version: 'v1',
    resources: [{ name: 'horizontalpodautoscalers', singularName: 'horizontalpodautoscaler', kind: 'HorizontalPodAutoscaler', namespaced: true, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update'] }],
  });
  return async (req, res, url) => {
    const m = PATH.exec(url.pathname.replace(/\/+$/, ''));
    if (!m) return false;
    const [, ns, name] = m;
    const method = req.method ?? 'GET';
    const dryRun = url.searchParams.getAll('dryRun').includes('All');
    if (name === undefined) {
      if (method === 'GET') {
        const list = core.list(HPA, ns, { labelSelector: url.searchParams.get('labelSelector') ?? undefined, fieldSelector: url.searchParams.get('fieldSelector') ?? undefined });
        sendJson(res, 200, { kind: 'HorizontalPodAutoscalerList', apiVersion: 'autoscaling/v1', metadata: { resourceVersion: list.resourceVersion }, items: list.items.map(hpaToV1) });
        return true;
      }
      if (method === 'POST') {
        const body = decodeBody(await readBody(req), req.headers['content-type']) as KubeObject;
        sendJson(res, 201, hpaToV1(await core.create(HPA, ns ?? 'default', hpaFromV1(body), { dryRun })));
        return true;
      }
      throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
    switch (method) {
      case 'GET':
        sendJson(res, 200, hpaToV1(core.get(HPA, ns ?? '', name)));
        return true;
      case 'PUT': {
        const body = decodeBody(await readBody(req), req.headers['content-type']) as KubeObject;
        const stored = core.get(HPA, ns ?? '', name);
        sendJson(res, 200, hpaToV1(await core.update(HPA, ns, name, hpaFromV1(body, stored), undefined, { dryRun })));
        return true;
      }
      case 'PATCH': {
        const body = decodeBody(await readBody(req), req.headers['content-type']);
        const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
        const updated = await core.mutate(HPA, ns, name, (draft) => hpaFromV1(applyPatch(ct, hpaToV1(draft), body, 'autoscaling', 'HorizontalPodAutoscaler') as KubeObject, draft), undefined, { dryRun });
        sendJson(res, 200, hpaToV1(updated));
        return true;
      }
      case 'DELETE': {
        const { object } = await core.delete(HPA, ns, name, { dryRun });
        sendJson(res, 200, hpaToV1(object));
        return true;
      }
      default:
        throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
  };
}

// HorizontalPodAutoscaler controller (upstream pkg/controller/podautoscaler/horizontal.go):
// every sync period it reads the target's pods' real CPU and memory usage (what agents
// report and metrics.k8s.io serves), proposes a replica count per metric, takes the
// largest, stabilises and rate-limits it by the HPA's behavior and sets the target's scale.
import type { HorizontalPodAutoscaler, HorizontalPodAutoscalerStatus, MetricStatus, Pod, ScalableWorkload } from '../../protocol/kube/types.js';
import { selectorMatches } from '../../protocol/kube/labels.js';
import { cpuToMillis, memoryToBytes } from '../../protocol/kube/quantity.js';
import { R } from '../apiserver/client.js';
import { ignoreNotFound } from '../client/api-errors.js';
import { objectKey } from '../client/informer.js';
import { normalize, proposeReplicas, type PodSample, type Recommendation, type ScaleEvent } from './hpa-replicas.js';
import { isPodReady } from './pod-state.js';
import { QueueController, type ControllerDeps } from './queue-controller.js';
import { resourceForKind } from './resource-kinds.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

export type { HorizontalPodAutoscaler } from '../../protocol/kube/types.js';

/** The status being built: currentMetrics is null when none could be read, and then left out. */
type StatusDraft = Omit<HorizontalPodAutoscalerStatus, 'currentMetrics'> & { currentMetrics?: MetricStatus[] | null };

/** Real usage of a pod, summed over its containers; undefined when no reading exists. */
export type PodUsage = (pod: Pod) => { cpuCores: number; memoryBytes: number } | undefined;

export interface HpaControllerDeps extends ControllerDeps {
  usage: PodUsage;
  /** How often each HPA is evaluated (upstream --horizontal-pod-autoscaler-sync-period, 15s). */
  syncPeriodMs?: number;
  now?: () => number;
}


export class HorizontalPodAutoscalerController extends QueueController {
  readonly name = 'horizontal-pod-autoscaler';
  private readonly usage: PodUsage;
  private readonly period: number;
  private readonly now: () => number;
  private readonly recommendations = new Map<string, Recommendation[]>();
  private readonly scaleEvents = new Map<string, ScaleEvent[]>();

  constructor(deps: HpaControllerDeps) {
    super(deps, 'horizontal-pod-autoscaler');
    this.usage = deps.usage;
    this.period = deps.syncPeriodMs ?? 15_000;
    this.now = deps.now ?? Date.now;
  }

  private get hpas() { return this.informers.get<HorizontalPodAutoscaler>(R.horizontalpodautoscalers); }
  private get pods() { return this.informers.get<Pod>(R.pods); }

  protected register(): void {
    this.hpas.on((type, hpa) => {
      if (type === 'DELETED') { this.recommendations.delete(hpa.metadata.uid!); this.scaleEvents.delete(hpa.metadata.uid!); return; }
      this.queue.add(objectKey(hpa));
    });
    this.hpas.start();
    this.pods.start();
    for (const hpa of this.hpas.list()) this.queue.add(objectKey(hpa));
  }

  protected async reconcile(key: string): Promise<void> {
    const hpa = this.hpas.getByKey(key);
    if (!hpa || hpa.metadata.deletionTimestamp) return;
    this.queue.addAfter(key, this.period);
    const now = this.now();
    const uid = hpa.metadata.uid!;
    const ns = hpa.metadata.namespace!;
    const ref = hpa.spec.scaleTargetRef;
    const conditions: Record<string, { status: string; reason: string; message: string }> = {};
    const res = resourceForKind(ref.apiVersion ?? 'apps/v1', ref.kind);
    const target = res ? this.client.get<ScalableWorkload>(res, ns, ref.name) : undefined;
    const status: StatusDraft = { ...(hpa.status ?? {}), observedGeneration: hpa.metadata.generation ?? 1 };
    if (!res || !target || typeof target.spec?.replicas !== 'number') {
      conditions.AbleToScale = { status: 'False', reason: 'FailedGetScale', message: `the HPA controller was unable to get the target's current scale: ${ref.kind.toLowerCase()}s "${ref.name}" not found` };
      return this.writeStatus(hpa, status, conditions, now);
    }
    const current: number = target.spec.replicas;
    status.currentReplicas = current;
    const min = hpa.spec.minReplicas ?? 1;
    const max = hpa.spec.maxReplicas;
    if (current === 0 && min !== 0) {
      // Scaled to zero by hand: autoscaling is off until someone scales it up.
      conditions.ScalingActive = { status: 'False', reason: 'ScalingDisabled', message: 'scaling is disabled since the replica count of the target is zero' };
      status.desiredReplicas = 0;
      return this.writeStatus(hpa, status, conditions, now);
    }
    const selector = target.spec.selector;
    const pods = this.pods.list((p) => p.metadata.namespace === ns && selectorMatches(selector, p.metadata.labels)
      && !p.metadata.deletionTimestamp && p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded');

    let desired = 0;
    const currentMetrics: MetricStatus[] = [];
    let metricError: string | undefined;
    let reasonMetric = '';
    for (const metric of hpa.spec.metrics ?? []) {
      if (metric.type !== 'Resource' || !metric.resource) { metricError = `metric type ${metric.type} is not supported`; continue; }
      const { name, target: goal } = metric.resource;
      try {
        const samples = pods.map((p) => this.sample(p, name, goal.type === 'Utilization'));
        const wanted = goal.type === 'Utilization'
          ? { utilization: goal.averageUtilization ?? 80 }
          : { averageValue: name === 'cpu' ? cpuToMillis(goal.averageValue ?? '0') / 1000 : memoryToBytes(goal.averageValue ?? '0') };
        const proposal = proposeReplicas(current, samples, wanted);
        const avg = proposal.averageValue ?? 0;
        currentMetrics.push({ type: 'Resource', resource: { name, current: {
          ...(proposal.utilization !== undefined ? { averageUtilization: proposal.utilization } : {}),
          averageValue: name === 'cpu' ? `${Math.round(avg * 1000)}m` : String(Math.round(avg)),
        } } });
        if (proposal.replicas > desired) {
          desired = proposal.replicas;
          reasonMetric = goal.type === 'Utilization' ? `${name} resource utilization (percentage of request)` : `${name} resource`;
        }
      } catch (err) {
        metricError = `failed to get ${name} utilization: ${(err as Error).message}`;
      }
    }
    status.currentMetrics = currentMetrics.length ? currentMetrics : null;
    if (!currentMetrics.length) {
      conditions.AbleToScale = { status: 'True', reason: 'SucceededGetScale', message: 'the HPA controller was able to get the target\'s current scale' };
      conditions.ScalingActive = { status: 'False', reason: 'FailedGetResourceMetric', message: `the HPA was unable to compute the replica count: ${metricError ?? 'no metrics'}` };
      status.desiredReplicas = current;
      return this.writeStatus(hpa, status, conditions, now);
    }
    conditions.ScalingActive = { status: 'True', reason: 'ValidMetricFound', message: `the HPA was able to successfully calculate a replica count from ${reasonMetric}` };

    const history = (this.recommendations.get(uid) ?? []).filter((r) => r.at > now - 3_600_000);
    history.push({ at: now, replicas: desired });
    this.recommendations.set(uid, history);
    const events = (this.scaleEvents.get(uid) ?? []).filter((e) => e.at > now - 3_600_000);
    const result = normalize(current, desired, now, history.slice(0, -1), events, hpa.spec.behavior?.scaleUp ?? {}, hpa.spec.behavior?.scaleDown ?? {}, min, max);
    conditions.ScalingLimited = result.limited
      ? { status: 'True', reason: result.reason, message: `the desired replica count is ${result.reason === 'TooManyReplicas' ? 'more than the maximum' : 'less than the minimum'} replica count` }
      : { status: 'False', reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
    status.desiredReplicas = result.replicas;
    if (result.replicas !== current) {
      await this.client.patch(res, ns, ref.name, { spec: { replicas: result.replicas } });
      events.push({ at: now, change: result.replicas - current });
      status.lastScaleTime = rfc3339Seconds(now);
      status.currentReplicas = current;
      const direction = result.replicas > current ? 'above' : 'below';
      this.recorder.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${result.replicas}; reason: ${reasonMetric} ${direction} target`);
      conditions.AbleToScale = { status: 'True', reason: 'SucceededRescale', message: `the HPA controller was able to update the target scale to ${result.replicas}` };
    } else {
      conditions.AbleToScale = result.reason === 'ScaleDownStabilized'
        ? { status: 'True', reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' }
        : { status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' };
    }
    this.scaleEvents.set(uid, events);
    return this.writeStatus(hpa, status, conditions, now);
  }

  /** One pod's reading and requests for a resource; CPU of unready pods is not trusted. */
  private sample(pod: Pod, resource: string, needRequest: boolean): PodSample {
    let request = 0;
    for (const c of pod.spec.containers) {
      const q = c.resources?.requests?.[resource];
      if (q === undefined) {
        if (needRequest) throw new Error(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata.name}`);
        continue;
      }
      request += resource === 'cpu' ? cpuToMillis(q) / 1000 : memoryToBytes(q);
    }
    const u = this.usage(pod);
    const usage = u ? (resource === 'cpu' ? u.cpuCores : resource === 'memory' ? u.memoryBytes : undefined) : undefined;
    // As upstream's replica calculator: CPU read in a pod's first moments (start-up work)
    // is not trusted either, within 30 s of turning Ready (its initial readiness delay).
    const readySince = Date.parse(pod.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime ?? '');
    const warmingUp = Number.isFinite(readySince) && Date.now() - readySince < 30_000;
    const unready = resource === 'cpu' && (pod.status?.phase === 'Pending' || !isPodReady(pod) || warmingUp);
    return { name: pod.metadata.name!, usage, request, unready };
  }

  private async writeStatus(hpa: HorizontalPodAutoscaler, status: StatusDraft, conditions: Record<string, { status: string; reason: string; message: string }>, now: number): Promise<void> {
    const old = (hpa.status?.conditions ?? []) as { type: string; status: string; lastTransitionTime?: string }[];
    const next = [...old.filter((c) => !conditions[c.type])];
    for (const [type, c] of Object.entries(conditions)) {
      const prev = old.find((o) => o.type === type);
      next.push({ type, ...c, lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : rfc3339Seconds(now) });
    }
    const order = ['AbleToScale', 'ScalingActive', 'ScalingLimited'];
    status.conditions = next.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
    if (status.currentMetrics === null) delete status.currentMetrics;
    if (JSON.stringify(status) === JSON.stringify(hpa.status ?? {})) return;
    const copy = structuredClone(hpa);
    copy.status = status as HorizontalPodAutoscalerStatus;
    await ignoreNotFound(this.client.update(R.horizontalpodautoscalers, copy, 'status'));
  }
}

/** Usage from what agents report (the source of metrics.k8s.io). */
export function usageFromTelemetry(telemetry: { get(node: string): { online: boolean; pods: Map<string, { containers: { cpuCores: number; memoryBytes: number }[] }> } | undefined }): PodUsage {
  return (pod) => {
    const entry = pod.spec.nodeName ? telemetry.get(pod.spec.nodeName) : undefined;
    const p = entry?.online ? entry.pods.get(pod.metadata.uid!) : undefined;
    if (!p) return undefined;
    return p.containers.reduce((a, c) => ({ cpuCores: a.cpuCores + c.cpuCores, memoryBytes: a.memoryBytes + c.memoryBytes }), { cpuCores: 0, memoryBytes: 0 });
  };
}

// Pod defaults as upstream's API server applies them, plus the DefaultTolerationSeconds
// admission (tolerate not-ready/unreachable nodes for a while before eviction).
import type { Container, KubeObject, Pod, PodSpec, Toleration } from '../../../protocol/kube/types.js';

export function defaultImagePullPolicy(image: string | undefined): 'Always' | 'IfNotPresent' {
  if (!image) return 'IfNotPresent';
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const tagSep = image.indexOf(':', lastSlash + 1);
  const tag = tagSep >= 0 ? image.slice(tagSep + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(c: Container): void {
  if (!c || typeof c !== 'object') return;
  c.imagePullPolicy ??= defaultImagePullPolicy(c.image);
  (c as unknown as Record<string, unknown>).terminationMessagePath ??= '/dev/termination-log';
  (c as unknown as Record<string, unknown>).terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  // Limits without requests: requests default to the limits.
  if (c.resources.limits) {
    c.resources.requests = { ...c.resources.limits, ...(c.resources.requests ?? {}) } as Container['resources'] extends { requests?: infer Q } ? Q : never;
  }
  for (const p of c.ports ?? []) p.protocol ??= 'TCP';
  for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
    if (!probe) continue;
    probe.timeoutSeconds ??= 1;
    probe.periodSeconds ??= 10;
    probe.successThreshold ??= 1;
    probe.failureThreshold ??= 3;
    if (probe.httpGet) { probe.httpGet.path ??= '/'; probe.httpGet.scheme ??= 'HTTP'; }
  }
}

/** Defaults of a pod spec (also used for workload templates). */
export function defaultPodSpec(value: unknown): void {
  if (!value || typeof value !== 'object') return;
  const spec = value as Partial<PodSpec>;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  spec.priority ??= 0;
  if (Array.isArray(spec.containers)) spec.containers.forEach(defaultContainer);
  if (Array.isArray(spec.initContainers)) spec.initContainers.forEach(defaultContainer);
  for (const v of spec.volumes ?? []) {
    if (v?.configMap) v.configMap.defaultMode ??= 0o644;
    if (v?.secret) v.secret.defaultMode ??= 0o644;
  }
}

export function defaultPodTemplate(template: { spec?: unknown } | undefined): void {
  if (template && typeof template === 'object') defaultPodSpec(template.spec);
}

export function defaultPod(pod: KubeObject, defaultTolerationSeconds: number): void {
  const spec = (pod.spec ??= {}) as Partial<PodSpec>;
  defaultPodSpec(spec);
  spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
  spec.serviceAccount ??= spec.serviceAccountName;
  const tolerations: Toleration[] = (spec.tolerations ??= []);
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    const has = tolerations.some((t) => (t.key === key || (t.key === undefined && t.operator === 'Exists')) && (!t.effect || t.effect === 'NoExecute'));
    if (!has) tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: defaultTolerationSeconds });
  }
}

/** Guaranteed, Burstable or BestEffort, from requests and limits. */
export function podQosClass(pod: KubeObject): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const spec = (pod as Pod).spec;
  const containers: Container[] = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const r of ['cpu', 'memory']) {
      if (!lim[r] || (req[r] !== undefined && req[r] !== lim[r])) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

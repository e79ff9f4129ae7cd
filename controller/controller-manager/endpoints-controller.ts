// Endpoints controller: for every Service with a selector, an Endpoints object of the same
// name listing where its pods answer: ready pods under `addresses`, the others under
// `notReadyAddresses`, with ports resolved per pod (a named targetPort is looked up among
// the pod's container ports). Written only when the content changes; removed with the Service.
import type { EndpointAddress, EndpointPort, Endpoints, EndpointSubset, Pod, Service, ServicePort } from '../../protocol/kube/types.js';
import { R } from '../apiserver/client.js';
import { ignoreNotFound, isAlreadyExists } from '../client/api-errors.js';
import { objectKey } from '../client/informer.js';
import { isPodReady } from './pod-state.js';
import { QueueController, type ControllerDeps } from './queue-controller.js';

export type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Service, ServicePort } from '../../protocol/kube/types.js';

/** A pod that backs a Service, with the ports it serves the Service's ports on. */
export interface ServiceBackend { pod: Pod; ip: string; ready: boolean; terminating: boolean; ports: EndpointPort[] }

/** Services whose endpoints this controller keeps: a selector, and not ExternalName. */
export function hasSelector(svc: Service): boolean {
  return !!svc.spec?.selector && svc.spec.type !== 'ExternalName';
}

export function selectsPod(svc: Service, pod: Pod): boolean {
  if (!hasSelector(svc) || svc.metadata.namespace !== pod.metadata.namespace) return false;
  const labels = pod.metadata.labels ?? {};
  return Object.entries(svc.spec!.selector!).every(([k, v]) => labels[k] === v);
}

/** The pod's port for a Service port: a number as is, a name through the containers' named ports. */
export function resolveTargetPort(pod: Pod, port: ServicePort): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = port.protocol ?? 'TCP';
  for (const c of pod.spec.containers) {
    for (const p of c.ports ?? []) {
      if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
    }
  }
  return undefined;
}

/**
 * Pods a Service routes to, upstream's rules: an IP, not finished; terminating pods are
 * reported (for slices) but flagged so Endpoints can leave them out.
 */
export function serviceBackends(svc: Service, pods: Iterable<Pod>): ServiceBackend[] {
  const out: ServiceBackend[] = [];
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  for (const pod of pods) {
    if (!selectsPod(svc, pod)) continue;
    const ip = pod.status?.podIP;
    if (!ip || !pod.spec.nodeName) continue;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') continue;
    const ports: EndpointPort[] = [];
    for (const sp of svc.spec?.ports ?? []) {
      const port = resolveTargetPort(pod, sp);
      // A named port this pod does not have: the pod does not serve that Service port.
      if (port === undefined) continue;
      ports.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
    }
    out.push({ pod, ip, ready: publishNotReady || isPodReady(pod), terminating: !!pod.metadata.deletionTimestamp, ports });
  }
  return out.sort((a, b) => compareIp(a.ip, b.ip) || (a.pod.metadata.name ?? '').localeCompare(b.pod.metadata.name ?? ''));
}

export function compareIp(a: string, b: string): number {
  const pa = a.split('.').map(Number), pb = b.split('.').map(Number);
  if (pa.length === 4 && pb.length === 4) {
    for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
    return 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

function addressOf(svc: Service, b: ServiceBackend): EndpointAddress {
  const { pod } = b;
  // A pod's own DNS name under a headless Service it names as its subdomain.
  const hostname = pod.spec.hostname && pod.spec.subdomain === svc.metadata.name ? pod.spec.hostname : undefined;
  return {
    ip: b.ip, ...(hostname ? { hostname } : {}), nodeName: pod.spec.nodeName!,
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid! },
  };
}

/** Subsets as upstream packs them: pods that serve the same ports share one subset. */
export function endpointSubsets(svc: Service, pods: Iterable<Pod>): EndpointSubset[] {
  const headless = svc.spec?.clusterIP === 'None';
  const groups = new Map<string, EndpointSubset>();
  for (const b of serviceBackends(svc, pods)) {
    if (b.terminating) continue;
    // A pod that serves none of the Service's ports is no endpoint, unless the Service is headless and portless.
    if (b.ports.length === 0 && !(headless && (svc.spec?.ports ?? []).length === 0)) continue;
    const ports = [...b.ports].sort((x, y) => (x.name ?? '').localeCompare(y.name ?? '') || x.port - y.port || x.protocol.localeCompare(y.protocol));
    const key = JSON.stringify(ports);
    let subset = groups.get(key);
    if (!subset) groups.set(key, (subset = { ports }));
    const list = b.ready ? (subset.addresses ??= []) : (subset.notReadyAddresses ??= []);
    list.push(addressOf(svc, b));
  }
  const subsets = [...groups.values()].map((s) => ({
    ...(s.addresses ? { addresses: s.addresses } : {}),
    ...(s.notReadyAddresses ? { notReadyAddresses: s.notReadyAddresses } : {}),
    ...(s.ports && s.ports.length > 0 ? { ports: s.ports } : {}),
  }));
  return subsets.sort((a, b) => JSON.stringify(a.ports ?? []).localeCompare(JSON.stringify(b.ports ?? [])));
}

/** Labels an Endpoints object carries: the Service's, plus the headless marker. */
export function endpointLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
  if (svc.spec?.clusterIP === 'None') labels['service.kubernetes.io/headless'] = '';
  else delete labels['service.kubernetes.io/headless'];
  return labels;
}

/** What about a pod can change a Service's endpoints. */
function podSignature(pod: Pod): string {
  return JSON.stringify([
    pod.status?.podIP, pod.spec.nodeName, isPodReady(pod), pod.status?.phase, !!pod.metadata.deletionTimestamp,
    pod.metadata.labels ?? {}, pod.spec.hostname, pod.spec.subdomain,
  ]);
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export class EndpointsController extends QueueController {
  readonly name = 'endpoints';

  constructor(deps: ControllerDeps) {
    super(deps, 'endpoint-controller');
  }

  private get services() { return this.informers.get<Service>(R.services); }
  private get pods() { return this.informers.get<Pod>(R.pods); }
  private get endpoints() { return this.informers.get<Endpoints>(R.endpoints); }

  protected register(): void {
    this.services.on((_type, svc) => this.queue.add(objectKey(svc)));
    this.pods.on((type, pod, old) => this.onPod(type, pod, old));
    // Someone else changed or removed our object: put it back (or drop a leftover).
    this.endpoints.on((type, ep) => { if (type !== 'ADDED') this.queue.add(objectKey(ep)); });
    this.services.start();
    this.pods.start();
    this.endpoints.start();
    for (const svc of this.services.list()) this.queue.add(objectKey(svc));
    // Leftovers of Services deleted while the controller was down.
    for (const ep of this.endpoints.list((e) => !this.services.getByKey(objectKey(e)))) this.queue.add(objectKey(ep));
  }

  private onPod(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: Pod, old?: Pod): void {
    if (type === 'MODIFIED' && old && podSignature(old) === podSignature(pod)) return;
    const ns = pod.metadata.namespace;
    for (const svc of this.services.list((s) => s.metadata.namespace === ns)) {
      if (selectsPod(svc, pod) || (old && selectsPod(svc, old))) this.queue.add(objectKey(svc));
    }
  }

  protected async reconcile(key: string): Promise<void> {
    const svc = this.services.getByKey(key);
    const current = this.endpoints.getByKey(key);
    const [namespace, name] = key.split('/') as [string, string];
    if (!svc) {
      // The Service is gone: its Endpoints go with it.
      if (current) await ignoreNotFound(this.client.delete(R.endpoints, namespace, name));
      return;
    }
    // Without a selector the Endpoints belong to whoever made them (the `kubernetes` Service, users).
    if (!hasSelector(svc)) return;
    const subsets = endpointSubsets(svc, this.pods.list((p) => p.metadata.namespace === namespace));
    const labels = endpointLabels(svc);
    if (!current) {
      const ep: Endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels }, subsets };
      try {
        await this.client.create(R.endpoints, ep);
      } catch (err) {
        // Our cache lagged behind an Endpoints object already there: look again.
        if (isAlreadyExists(err)) throw new Error(`endpoints ${key} appeared meanwhile`);
        throw err;
      }
      return;
    }
    if (sameJson(current.subsets ?? [], subsets) && sameJson(current.metadata.labels ?? {}, labels)) return;
    const copy = structuredClone(current);
    copy.subsets = subsets;
    copy.metadata.labels = labels;
    await this.client.update(R.endpoints, copy);
  }
}

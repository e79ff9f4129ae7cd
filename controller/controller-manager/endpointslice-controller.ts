// EndpointSlice controller: the discovery.k8s.io/v1 view of a Service's pods. Pods that
// serve the same resolved ports share slices of at most MAX_ENDPOINTS; terminating pods
// stay listed with `terminating: true` so clients can drain them. Slices are owned by the
// Service (garbage collected with it) and found again through the service-name label.
import type { EndpointSlice, Pod, SliceEndpoint } from '../../protocol/kube/types.js';
import { R } from '../apiserver/client.js';
import { ignoreNotFound } from '../client/api-errors.js';
import { newControllerRef } from './controller-ref.js';
import { hasSelector, selectsPod, serviceBackends, type EndpointPort, type Service } from './endpoints-controller.js';
import { objectKey } from '../client/informer.js';
import { isPodReady } from './pod-state.js';
import { QueueController, type ControllerDeps } from './queue-controller.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
/** The value clients expect for slices kept by the cluster's own controller. */
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
const MAX_ENDPOINTS = 100;

export type { EndpointSlice, SliceEndpoint } from '../../protocol/kube/types.js';

/** The slices a Service should have, without names: content only. */
export function desiredSlices(svc: Service, pods: Iterable<Pod>): { ports: EndpointPort[]; endpoints: SliceEndpoint[] }[] {
  const groups = new Map<string, { ports: EndpointPort[]; endpoints: SliceEndpoint[] }>();
  for (const b of serviceBackends(svc, pods)) {
    if (!b.ip.includes('.')) continue; // IPv4 slices only
    if (b.ports.length === 0 && (svc.spec?.ports ?? []).length > 0) continue;
    const ports = [...b.ports].sort((x, y) => (x.name ?? '').localeCompare(y.name ?? '') || x.port - y.port);
    const key = JSON.stringify(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, endpoints: [] }));
    const { pod } = b;
    const hostname = pod.spec.hostname && pod.spec.subdomain === svc.metadata.name ? pod.spec.hostname : undefined;
    g.endpoints.push({
      addresses: [b.ip],
      // Ready means "send new traffic": never while terminating. Serving is readiness alone.
      conditions: { ready: b.ready && !b.terminating, serving: b.ready || isPodReady(pod), terminating: b.terminating },
      nodeName: pod.spec.nodeName!,
      ...(hostname ? { hostname } : {}),
      targetRef: { kind: 'Pod', namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid! },
    });
  }
  const out: { ports: EndpointPort[]; endpoints: SliceEndpoint[] }[] = [];
  for (const key of [...groups.keys()].sort()) {
    const g = groups.get(key)!;
    for (let i = 0; i < g.endpoints.length; i += MAX_ENDPOINTS) out.push({ ports: g.ports, endpoints: g.endpoints.slice(i, i + MAX_ENDPOINTS) });
  }
  // A Service without endpoints still has one (empty) slice carrying its ports, like upstream.
  if (out.length === 0) {
    out.push({ ports: (svc.spec?.ports ?? []).filter((p) => typeof (p.targetPort ?? p.port) === 'number').map((p) => ({ ...(p.name ? { name: p.name } : {}), port: Number(p.targetPort ?? p.port), protocol: p.protocol ?? 'TCP' })), endpoints: [] });
  }
  return out;
}

function sliceLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
  delete labels[SERVICE_NAME_LABEL];
  delete labels[MANAGED_BY_LABEL];
  if (svc.spec?.clusterIP === 'None') labels['service.kubernetes.io/headless'] = '';
  return { ...labels, [SERVICE_NAME_LABEL]: svc.metadata.name!, [MANAGED_BY_LABEL]: MANAGED_BY };
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export class EndpointSliceController extends QueueController {
  readonly name = 'endpointslices';

  constructor(deps: ControllerDeps) {
    super(deps, 'endpointslice-controller');
  }

  private get services() { return this.informers.get<Service>(R.services); }
  private get pods() { return this.informers.get<Pod>(R.pods); }
  private get slices() { return this.informers.get<EndpointSlice>(R.endpointslices); }

  protected register(): void {
    this.services.on((_type, svc) => this.queue.add(objectKey(svc)));
    this.pods.on((_type, pod, old) => {
      const ns = pod.metadata.namespace;
      for (const svc of this.services.list((s) => s.metadata.namespace === ns)) {
        if (selectsPod(svc, pod) || (old && selectsPod(svc, old))) this.queue.add(objectKey(svc));
      }
    });
    this.slices.on((type, slice) => {
      const svc = slice.metadata.labels?.[SERVICE_NAME_LABEL];
      if (type !== 'ADDED' && svc && slice.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY) this.queue.add(`${slice.metadata.namespace}/${svc}`);
    });
    this.services.start();
    this.pods.start();
    this.slices.start();
    for (const svc of this.services.list()) this.queue.add(objectKey(svc));
  }

  private ownedSlices(namespace: string, name: string): EndpointSlice[] {
    return this.slices.list((s) => s.metadata.namespace === namespace && s.metadata.labels?.[SERVICE_NAME_LABEL] === name
      && s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY)
      .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  }

  protected async reconcile(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const svc = this.services.getByKey(key);
    const existing = this.ownedSlices(namespace, name);
    if (!svc || !hasSelector(svc)) {
      for (const s of existing) await ignoreNotFound(this.client.delete(R.endpointslices, namespace, s.metadata.name!));
      return;
    }
    const want = desiredSlices(svc, this.pods.list((p) => p.metadata.namespace === namespace));
    const labels = sliceLabels(svc);
    const owner = newControllerRef(svc, 'v1', 'Service');
    // Existing slices are reused in name order; extra ones are deleted, missing ones created.
    for (let i = 0; i < want.length; i++) {
      const w = want[i]!;
      const cur = existing[i];
      if (!cur) {
        const slice: EndpointSlice = {
          apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
          metadata: { generateName: `${name}-`, namespace, labels, ownerReferences: [owner] },
          addressType: 'IPv4', endpoints: w.endpoints, ports: w.ports,
        };
        await this.client.create(R.endpointslices, slice);
        continue;
      }
      if (sameJson(cur.endpoints ?? [], w.endpoints) && sameJson(cur.ports ?? [], w.ports) && sameJson(cur.metadata.labels ?? {}, labels)) continue;
      const copy = structuredClone(cur);
      copy.endpoints = w.endpoints;
      copy.ports = w.ports;
      copy.metadata.labels = labels;
      copy.metadata.ownerReferences = [owner];
      await this.client.update(R.endpointslices, copy);
    }
    for (const extra of existing.slice(want.length)) await ignoreNotFound(this.client.delete(R.endpointslices, namespace, extra.metadata.name!));
  }
}

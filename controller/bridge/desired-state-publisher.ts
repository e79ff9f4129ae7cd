// Pods bound to a node → that node's whole desired set, published retained on
// `<base>/v1/nodes/<node>/pods`. Level-triggered: every publication is the complete set,
// so an agent that missed anything (or reconnects) converges on the latest one.
import { createHash } from 'node:crypto';
import type { KubeObject, Pod, Node } from '../../protocol/kube/types.js';
import type { DesiredPod, DesiredPodsPayload } from '../../protocol/mqtt/payloads.js';
import { R, type ClusterClient, type WatchHandle } from '../apiserver/client.js';
import { claimVolumesKey, claimVolumesOf } from './claim-volumes.js';
import { podClaimNames } from '../storage/volume-matching.js';

export interface DesiredStatePublisherOptions {
  client: ClusterClient;
  /** The payload as JSON text (a DesiredPodsPayload), or '' to clear the node's topic. */
  publish: (node: string, payload: Buffer | '') => Promise<unknown>;
  /** Store revision: a generation that only rises, across restarts too. */
  revision: () => number;
  serviceAccount?: (pod: Pod) => DesiredPod['serviceAccount'] | undefined;
  podCidrFor?: (node: string) => string | undefined;
  dns?: DesiredPodsPayload['dns'];
  log: { warn: (o: object, m: string) => void; debug?: (o: object, m: string) => void };
  /** Coalesces bursts (a Deployment scaling up) into one publication per node. */
  debounceMs?: number;
  /**
   * Least time between two publications to one node. Each publication is the node's
   * whole set, so during a burst this bounds the bytes sent (and parsed, and saved by the
   * agent) to a few sets a second instead of one per pod.
   */
  minIntervalMs?: number;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** What the agent needs of a pod: no status, no client bookkeeping. */
export function desiredPodOf(pod: Pod): Pod {
  const m = pod.metadata;
  const annotations = m.annotations ? { ...m.annotations } : undefined;
  if (annotations) delete annotations[LAST_APPLIED];
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: m.name, namespace: m.namespace, uid: m.uid, generation: m.generation, labels: m.labels,
      ...(annotations && Object.keys(annotations).length ? { annotations } : {}),
      ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp, deletionGracePeriodSeconds: m.deletionGracePeriodSeconds } : {}),
      ...(m.ownerReferences ? { ownerReferences: m.ownerReferences } : {}),
      creationTimestamp: m.creationTimestamp,
    },
    spec: pod.spec,
  };
}

/** Names of ConfigMaps and Secrets a pod reads. */
export function podReferences(pod: Pod): { configMaps: Set<string>; secrets: Set<string> } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef) configMaps.add(e.valueFrom.configMapKeyRef.name);
      if (e.valueFrom?.secretKeyRef) secrets.add(e.valueFrom.secretKeyRef.name);
    }
    for (const f of c.envFrom ?? []) {
      if (f.configMapRef) configMaps.add(f.configMapRef.name);
      if (f.secretRef) secrets.add(f.secretRef.name);
    }
  }
  for (const s of pod.spec.imagePullSecrets ?? []) if (s?.name) secrets.add(s.name);
  for (const v of pod.spec.volumes ?? []) {
    if (v.configMap) configMaps.add(v.configMap.name);
    if (v.secret) secrets.add(v.secret.secretName);
    for (const s of v.projected?.sources ?? []) {
      if (s?.configMap?.name) configMaps.add(s.configMap.name);
      if (s?.secret?.name) secrets.add(s.secret.name);
    }
  }
  return { configMaps, secrets };
}

/** How often pod tokens are looked at for renewal (they are renewed at 80 % of an hour or more). */
const TOKEN_CHECK_MS = 60_000;

export class DesiredStatePublisher {
  /** node → pod uid → pod */
  private readonly byNode = new Map<string, Map<string, Pod>>();
  private readonly podNode = new Map<string, string>();
  private readonly lastHash = new Map<string, string>();
  private readonly dirty = new Set<string>();
  private readonly knownNodes = new Set<string>();
  private timer?: NodeJS.Timeout;
  private timerAt = 0;
  private readonly lastPublished = new Map<string, number>();
  /** JSON of each pod's DesiredPod, reused while the pod and what it reads are unchanged. */
  private readonly podJson = new Map<string, { key: string; json: string }>();
  private watches: WatchHandle[] = [];
  private publishing = Promise.resolve();
  private tokenTimer?: NodeJS.Timeout;

  constructor(private readonly opts: DesiredStatePublisherOptions) {}

  start(): void {
    const c = this.opts.client;
    this.watches.push(c.watch<Node>(R.nodes, {}, (e) => {
      const name = e.object.metadata.name!;
      if (e.type === 'DELETED') {
        this.knownNodes.delete(name);
        this.lastHash.delete(name);
        this.lastPublished.delete(name);
        void this.opts.publish(name, '').catch(() => undefined);
      } else if (!this.knownNodes.has(name)) {
        this.knownNodes.add(name);
        this.markDirty(name);
      }
    }));
    this.watches.push(c.watch<Pod>(R.pods, {}, (e) => this.onPod(e.type, e.object)));
    const onRef = (kind: 'configMaps' | 'secrets') => (e: { object: KubeObject }) => {
      const ns = e.object.metadata.namespace;
      const name = e.object.metadata.name!;
      for (const [node, pods] of this.byNode) {
        for (const p of pods.values()) {
          if (p.metadata.namespace === ns && podReferences(p)[kind].has(name)) { this.markDirty(node); break; }
        }
      }
    };
    this.watches.push(c.watch(R.configmaps, { resourceVersion: String(this.opts.revision()) }, onRef('configMaps')));
    this.watches.push(c.watch(R.secrets, { resourceVersion: String(this.opts.revision()) }, onRef('secrets')));
    // Pod tokens are re-signed before they expire; a node whose set did not change is not
    // published again (the hash is the same).
    this.tokenTimer = setInterval(() => { for (const n of this.byNode.keys()) this.markDirty(n); }, TOKEN_CHECK_MS);
    this.tokenTimer.unref();
    // A claim bound (or its volume changed) after its pod reached the node.
    const onClaim = (ns: string | undefined, name: string) => {
      for (const [node, pods] of this.byNode) {
        for (const p of pods.values()) if (p.metadata.namespace === ns && podClaimNames(p.spec).includes(name)) { this.markDirty(node); break; }
      }
    };
    this.watches.push(c.watch(R.persistentvolumeclaims, { resourceVersion: String(this.opts.revision()) }, (e) => onClaim(e.object.metadata.namespace, e.object.metadata.name!)));
    this.watches.push(c.watch(R.persistentvolumes, { resourceVersion: String(this.opts.revision()) }, (e) => {
      const ref = (e.object.spec as { claimRef?: { namespace?: string; name?: string } } | undefined)?.claimRef;
      if (ref?.name) onClaim(ref.namespace, ref.name);
    }));
  }

  stop(): void {
    if (this.tokenTimer) clearInterval(this.tokenTimer);
    for (const w of this.watches) w.stop();
    this.watches = [];
    if (this.timer) clearTimeout(this.timer);
  }

  /** Publishes every node's set again (after the controller reconnects to the broker). */
  republishAll(): void {
    this.lastHash.clear();
    for (const n of this.knownNodes) this.markDirty(n);
    for (const n of this.byNode.keys()) this.markDirty(n);
  }

  private onPod(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: Pod): void {
    const uid = pod.metadata.uid!;
    const before = this.podNode.get(uid);
    const node = type === 'DELETED' ? undefined : pod.spec.nodeName;
    if (type === 'DELETED') this.podJson.delete(uid);
    if (before && before !== node) {
      this.byNode.get(before)?.delete(uid);
      this.podNode.delete(uid);
      this.markDirty(before);
    }
    if (!node) return;
    let pods = this.byNode.get(node);
    if (!pods) this.byNode.set(node, (pods = new Map()));
    const old = pods.get(uid);
    pods.set(uid, pod);
    this.podNode.set(uid, node);
    // Status-only changes (the agent's own reports) do not change the desired set.
    if (!old || old.metadata.generation !== pod.metadata.generation || old.metadata.deletionTimestamp !== pod.metadata.deletionTimestamp
      || JSON.stringify(old.metadata.labels) !== JSON.stringify(pod.metadata.labels) || JSON.stringify(old.spec) !== JSON.stringify(pod.spec)) {
      this.markDirty(node);
    }
  }

  private markDirty(node: string): void {
    this.dirty.add(node);
    this.schedule(Math.max(this.opts.debounceMs ?? 2, this.wait(node)));
  }

  /** How long until `node` may be published again. */
  private wait(node: string): number {
    const last = this.lastPublished.get(node);
    return last === undefined ? 0 : Math.max(0, last + (this.opts.minIntervalMs ?? 25) - Date.now());
  }

  private schedule(delayMs: number): void {
    const at = Date.now() + delayMs;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const due = [...this.dirty].filter((n) => this.wait(n) === 0);
      for (const n of due) this.dirty.delete(n);
      const now = Date.now();
      for (const n of due) this.lastPublished.set(n, now);
      if (due.length) this.publishing = this.publishing.then(() => this.flush(due));
      if (this.dirty.size) this.schedule(Math.min(...[...this.dirty].map((n) => this.wait(n))));
    }, delayMs);
  }

  private async flush(nodes: string[]): Promise<void> {
    await Promise.all(nodes.map(async (node) => {
      const { body, tail } = this.serialized(node);
      // Identical content is not sent again; the generation alone does not count.
      const hash = createHash('sha1').update(body).update(tail).digest('hex');
      if (this.lastHash.get(node) === hash) return;
      this.lastHash.set(node, hash);
      try {
        await this.opts.publish(node, Buffer.from(`{"generation":${this.opts.revision()},"pods":${body}${tail}}`));
      } catch (err) {
        this.lastHash.delete(node);
        this.opts.log.warn({ node, err: String(err) }, 'desired pods not published; will retry');
        setTimeout(() => this.markDirty(node), 1000).unref();
      }
    }));
  }

  /** The node's pods as a JSON array, built from per-pod JSON kept between publications. */
  private serialized(node: string): { body: string; tail: string } {
    const pods = [...(this.byNode.get(node)?.values() ?? [])].sort((a, b) => (a.metadata.uid! < b.metadata.uid! ? -1 : 1));
    const parts: string[] = [];
    for (const pod of pods) {
      const uid = pod.metadata.uid!;
      const key = this.cacheKey(pod);
      let cached = this.podJson.get(uid);
      if (!cached || cached.key !== key) {
        cached = { key, json: JSON.stringify(this.desiredPod(pod)) };
        this.podJson.set(uid, cached);
      }
      parts.push(cached.json);
    }
    const podCIDR = this.opts.podCidrFor?.(node);
    const tail = `${podCIDR ? `,"podCIDR":${JSON.stringify(podCIDR)}` : ''}${this.opts.dns ? `,"dns":${JSON.stringify(this.opts.dns)}` : ''}`;
    return { body: `[${parts.join(',')}]`, tail };
  }

  /** Changes whenever the pod or a ConfigMap or Secret it reads changes. */
  private cacheKey(pod: Pod): string {
    const c = this.opts.client;
    const refs = podReferences(pod);
    const ns = pod.metadata.namespace;
    // Not the resourceVersion: the agent's own status reports change that all the time.
    const m = pod.metadata;
    let key = `${m.generation}|${m.deletionTimestamp ?? ''}|${m.deletionGracePeriodSeconds ?? ''}|${JSON.stringify(m.labels ?? {})}|${JSON.stringify(m.annotations ?? {})}|${JSON.stringify(m.ownerReferences ?? [])}`;
    for (const name of refs.configMaps) key += `|c${c.get(R.configmaps, ns, name)?.metadata.resourceVersion ?? '-'}`;
    for (const name of refs.secrets) key += `|s${c.get(R.secrets, ns, name)?.metadata.resourceVersion ?? '-'}`;
    // A re-signed service-account token is a change too (its signature's tail is enough).
    const token = this.opts.serviceAccount?.(pod)?.token;
    if (token) key += `|t${token.slice(-12)}`;
    return key + claimVolumesKey(c, pod);
  }

  /** The node's whole desired set, as published. */
  payloadFor(node: string): DesiredPodsPayload {
    const { body, tail } = this.serialized(node);
    return JSON.parse(`{"generation":${this.opts.revision()},"pods":${body}${tail}}`) as DesiredPodsPayload;
  }

  private desiredPod(pod: Pod): DesiredPod {
    const c = this.opts.client;
    const refs = podReferences(pod);
    const ns = pod.metadata.namespace;
    const configMaps: DesiredPod['configMaps'] = {};
    const secrets: DesiredPod['secrets'] = {};
    for (const name of refs.configMaps) {
      const cm = c.get(R.configmaps, ns, name);
      if (cm) configMaps[name] = (cm.data as Record<string, string>) ?? {};
    }
    for (const name of refs.secrets) {
      const s = c.get(R.secrets, ns, name);
      if (s) secrets[name] = (s.data as Record<string, string>) ?? {};
    }
    // The token source decides: automount off still serves an explicitly projected token.
    const sa = this.opts.serviceAccount?.(pod);
    const claims = claimVolumesOf(c, pod);
    return { pod: desiredPodOf(pod), configMaps, secrets, ...(sa ? { serviceAccount: sa } : {}), ...(claims ? { claims } : {}) };
  }
}

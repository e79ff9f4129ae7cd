// Pods bound to a node → that node's whole desired set, published retained on
// `<base>/v1/nodes/<node>/pods`. Level-triggered: every publication is the complete set,
// so an agent that missed anything (or reconnects) converges on the latest one. Pods,
// nodes and what pods read come from the bridge's shared informers (the kubelet's pod
// source, pkg/kubelet/config/apiserver.go, is a watch of the node's pods in the same way).
import type { KubeObject, Pod, Node } from '../../protocol/kube/types.js';
import type { DesiredPod, DesiredPodsPayload } from '../../protocol/mqtt/payloads.js';
import { R, type ResourceRef } from '../apiserver/client.js';
import type { InformerHandler } from '../client/informer.js';
import type { SharedInformers } from '../client/shared-informers.js';
import { claimVolumesKey, claimVolumesOf } from './claim-volumes.js';
import { RetainedTopics, type Retained } from './retained-topics.js';
import { podClaimNames } from '../storage/volume-matching.js';

export interface DesiredStatePublisherOptions {
  /** Caches of pods, nodes, ConfigMaps, Secrets, claims and volumes; started by the publisher. */
  informers: SharedInformers;
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

const COMMA = Buffer.from(',');

/** `{"generation":G,"pods":[…]…}` copied together from the pods' encoded JSON: one allocation. */
function setPayload(generation: number, parts: readonly Buffer[], tail: string): Buffer {
  const chunks: Buffer[] = [Buffer.from(`{"generation":${generation},"pods":[`)];
  parts.forEach((part, i) => { if (i) chunks.push(COMMA); chunks.push(part); });
  chunks.push(Buffer.from(`]${tail}}`));
  return Buffer.concat(chunks);
}

/** How often pod tokens are looked at for renewal (they are renewed at 80 % of an hour or more). */
const TOKEN_CHECK_MS = 60_000;

export class DesiredStatePublisher {
  /** node → pod uid → pod */
  private readonly byNode = new Map<string, Map<string, Pod>>();
  private readonly podNode = new Map<string, string>();
  private readonly knownNodes = new Set<string>();
  /**
   * JSON of each pod's DesiredPod, UTF-8 encoded once and reused while the pod and what it
   * reads are unchanged: a node's set is then copied together from these, not rebuilt.
   */
  private readonly podJson = new Map<string, { pod: Pod; refs: number; key: string; json: Buffer; serial: number }>();
  /** Numbers each new JSON of a pod: a node's set is named by its pods' uids and serials. */
  private serial = 0;
  /**
   * Rises whenever something a pod may read changes (a ConfigMap, Secret, claim or volume)
   * and when tokens are due a look: a pod object seen at the same value needs no new key.
   */
  private refs = 0;
  private readonly topics: RetainedTopics<Buffer>;
  private detach: (() => void)[] = [];
  private tokenTimer?: NodeJS.Timeout;

  constructor(private readonly opts: DesiredStatePublisherOptions) {
    this.topics = new RetainedTopics<Buffer>({
      render: (nodes) => new Map(nodes.map((n) => [n, this.retained(n)])),
      publish: (node, payload) => opts.publish(node, payload),
      debounceMs: opts.debounceMs ?? 0,
      minIntervalMs: opts.minIntervalMs ?? 25,
      log: opts.log,
      failure: { message: 'desired pods not published; will retry', keyField: 'node' },
    });
  }

  start(): void {
    this.topics.start();
    const onRef = (kind: 'configMaps' | 'secrets') => (_type: string, obj: KubeObject) => {
      this.refs++;
      const ns = obj.metadata.namespace;
      const name = obj.metadata.name!;
      for (const [node, pods] of this.byNode) {
        for (const p of pods.values()) {
          if (p.metadata.namespace === ns && podReferences(p)[kind].has(name)) { this.markDirty(node); break; }
        }
      }
    };
    // A claim bound (or its volume changed) after its pod reached the node.
    const onClaim = (ns: string | undefined, name: string) => {
      this.refs++;
      for (const [node, pods] of this.byNode) {
        for (const p of pods.values()) if (p.metadata.namespace === ns && podClaimNames(p.spec).includes(name)) { this.markDirty(node); break; }
      }
    };
    // What pods read comes first: while no pod is known, the caches' initial ADDED events cost nothing.
    this.follow(R.configmaps, onRef('configMaps'));
    this.follow(R.secrets, onRef('secrets'));
    this.follow(R.persistentvolumeclaims, (_type, claim) => onClaim(claim.metadata.namespace, claim.metadata.name!));
    this.follow(R.persistentvolumes, (_type, pv) => {
      const ref = (pv.spec as { claimRef?: { namespace?: string; name?: string } } | undefined)?.claimRef;
      if (ref?.name) onClaim(ref.namespace, ref.name);
    });
    this.follow<Node>(R.nodes, (type, node) => {
      const name = node.metadata.name!;
      if (type === 'DELETED') {
        this.knownNodes.delete(name);
        this.topics.clear(name);
      } else if (!this.knownNodes.has(name)) {
        this.knownNodes.add(name);
        this.markDirty(name);
      }
    });
    this.follow<Pod>(R.pods, (type, pod) => this.onPod(type, pod));
    // Pod tokens are re-signed before they expire; a node whose set did not change is not
    // published again (the hash is the same).
    this.tokenTimer = setInterval(() => {
      this.refs++;
      for (const n of this.byNode.keys()) this.markDirty(n);
    }, TOKEN_CHECK_MS);
    this.tokenTimer.unref();
  }

  private follow<T extends KubeObject>(ref: ResourceRef, handler: InformerHandler<T>): void {
    const informer = this.opts.informers.get<T>(ref);
    this.detach.push(informer.addEventHandler(handler));
    informer.start();
  }

  stop(): void {
    if (this.tokenTimer) clearInterval(this.tokenTimer);
    for (const d of this.detach) d();
    this.detach = [];
    this.topics.stop();
  }

  /** Publishes every node's set again (after the controller reconnects to the broker). */
  republishAll(): void {
    this.topics.resend(new Set([...this.knownNodes, ...this.byNode.keys()]));
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
    this.topics.changed(node);
  }

  /** The node's set as retained content: the generation is left out of what counts as a change. */
  private retained(node: string): Retained<Buffer> {
    const { parts, tail, identity } = this.serialized(node);
    return { identity, payload: () => setPayload(this.opts.revision(), parts, tail) };
  }

  /** The node's pods' JSON, in uid order, kept between publications, and what follows the array. */
  private serialized(node: string): { parts: Buffer[]; tail: string; identity: string } {
    const pods = [...(this.byNode.get(node)?.values() ?? [])].sort((a, b) => (a.metadata.uid! < b.metadata.uid! ? -1 : 1));
    const parts: Buffer[] = [];
    // What the set is made of, short: the same uids and serials mean the same JSON.
    const names: string[] = [];
    for (const pod of pods) {
      const uid = pod.metadata.uid!;
      let cached = this.podJson.get(uid);
      // the same pod object, and nothing it reads changed since: its key is the same too
      if (!cached || cached.pod !== pod || cached.refs !== this.refs) {
        const key = this.cacheKey(pod);
        if (!cached || cached.key !== key) {
          const json = Buffer.from(JSON.stringify(this.desiredPod(pod)));
          cached = { pod, refs: this.refs, key, json, serial: cached?.json.equals(json) ? cached.serial : ++this.serial };
        } else {
          cached = { ...cached, pod, refs: this.refs };
        }
        this.podJson.set(uid, cached);
      }
      parts.push(cached.json);
      names.push(`${uid}:${cached.serial}`);
    }
    const podCIDR = this.opts.podCidrFor?.(node);
    const tail = `${podCIDR ? `,"podCIDR":${JSON.stringify(podCIDR)}` : ''}${this.opts.dns ? `,"dns":${JSON.stringify(this.opts.dns)}` : ''}`;
    return { parts, tail, identity: `${names.join(',')}${tail}` };
  }

  /** Changes whenever the pod or a ConfigMap or Secret it reads changes. */
  private cacheKey(pod: Pod): string {
    const c = this.opts.informers.reader;
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

  private desiredPod(pod: Pod): DesiredPod {
    const c = this.opts.informers.reader;
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

// The TopicBinding loop: follows each binding's MQTT topic with the controller's own
// broker identity, and keeps the binding's taint or labels on the selected nodes exactly
// while its condition holds. Level-triggered like the other controllers: a message, a
// binding change or a node change enqueues the binding, and reconcile converges.
import type { Node } from '../../protocol/kube/types.js';
import type { MessageLink } from '../../protocol/mqtt/link.js';
import { isPublishableTopic } from '../../protocol/mqtt/topics.js';
import { R } from '../apiserver/client.js';
import { isConflict, isNotFound } from '../client/api-errors.js';
import { QueueController, type ControllerDeps } from '../controller-manager/queue-controller.js';
import { nodesCarrying, planNodeChanges } from './node-changes.js';
import { conditionHolds, extractValue, SignalError } from './signal.js';
import { TopicWatcher, type TopicMessage } from './topic-watcher.js';
import { TOPIC_BINDING_FINALIZER, TOPIC_BINDING_REF, type TopicBinding, type TopicBindingStatus } from './topic-binding-types.js';
import { rfc3339Seconds } from '../../protocol/kube/time.js';

const DEFAULT_SILENT_AFTER_SECONDS = 600;
/** Status keeps a short value: enough to read, not a channel for whole payloads. */
const MAX_VALUE_CHARS = 256;

interface Followed {
  topic: string;
  stop: () => void;
  since: number;
  message?: TopicMessage;
}

export interface TopicBindingDeps extends ControllerDeps {
  link: Pick<MessageLink, 'subscribe'>;
  /** The cluster's own MQTT base topic: bindings may not read it (desired sets carry secrets). */
  baseTopic: string;
}

export class TopicBindingController extends QueueController {
  readonly name = 'topicbinding';
  private readonly followed = new Map<string, Followed>();
  private readonly watcher: TopicWatcher;
  private silenceTimer?: NodeJS.Timeout;

  constructor(private readonly deps: TopicBindingDeps) {
    super(deps, 'topicbinding-controller');
    this.watcher = new TopicWatcher(deps.link, (topic, err) => this.log.warn({ topic, err: err.message }, 'topic subscription refused'));
  }

  /** Why the topic may not be followed, or undefined when it may. */
  topicProblem(topic: string): string | undefined {
    if (!isPublishableTopic(topic)) return `topic ${JSON.stringify(topic)} must be one topic name, without + or # wildcards`;
    if (topic.startsWith('$')) return `topic ${JSON.stringify(topic)} is a broker-internal ($) topic`;
    if (topic === this.deps.baseTopic || topic.startsWith(`${this.deps.baseTopic}/`)) return `topic ${JSON.stringify(topic)} is under the cluster's own base topic ${this.deps.baseTopic}/`;
    return undefined;
  }

  protected register(): void {
    const bindings = this.informers.get<TopicBinding>(TOPIC_BINDING_REF);
    const nodes = this.informers.get<Node>(R.nodes);
    bindings.on((_type, b) => this.queue.add(b.metadata.name!));
    // A node that appears, or whose labels change, may enter or leave a binding's selection.
    nodes.on((type, n, old) => {
      if (type === 'MODIFIED' && JSON.stringify(n.metadata.labels) === JSON.stringify(old?.metadata.labels)
        && JSON.stringify(n.spec?.taints) === JSON.stringify(old?.spec?.taints)) return;
      for (const b of bindings.list()) this.queue.add(b.metadata.name!);
    });
    bindings.start();
    nodes.start();
    for (const b of bindings.list()) this.queue.add(b.metadata.name!);
    this.silenceTimer = setInterval(() => { for (const b of bindings.list()) this.queue.add(b.metadata.name!); }, 30_000);
    this.silenceTimer.unref();
  }

  override stop(): void {
    if (this.silenceTimer) clearInterval(this.silenceTimer);
    for (const f of this.followed.values()) f.stop();
    this.followed.clear();
    this.watcher.stop();
    super.stop();
  }

  private follow(name: string, topic: string): Followed {
    const current = this.followed.get(name);
    if (current?.topic === topic) return current;
    current?.stop();
    const f: Followed = { topic, since: Date.now(), stop: () => undefined };
    f.stop = this.watcher.watch(topic, (message) => {
      f.message = message;
      this.queue.add(name);
    });
    this.followed.set(name, f);
    return f;
  }

  private unfollow(name: string): void {
    this.followed.get(name)?.stop();
    this.followed.delete(name);
  }

  protected async reconcile(name: string): Promise<void> {
    const binding = this.client.get<TopicBinding>(TOPIC_BINDING_REF, undefined, name);
    if (!binding) { this.unfollow(name); return; }
    const nodes = this.client.list<Node>(R.nodes).items;

    if (binding.metadata.deletionTimestamp) {
      await this.applyToNodes(binding, false, nodes);
      this.unfollow(name);
      const finalizers = (binding.metadata.finalizers ?? []).filter((f) => f !== TOPIC_BINDING_FINALIZER);
      if (finalizers.length !== (binding.metadata.finalizers ?? []).length) {
        await this.client.patch(TOPIC_BINDING_REF, undefined, name, { metadata: { finalizers, resourceVersion: binding.metadata.resourceVersion } })
          .catch((err) => { if (!isNotFound(err)) throw err; });
      }
      return;
    }
    if (!(binding.metadata.finalizers ?? []).includes(TOPIC_BINDING_FINALIZER)) {
      await this.client.patch(TOPIC_BINDING_REF, undefined, name, {
        metadata: { finalizers: [...(binding.metadata.finalizers ?? []), TOPIC_BINDING_FINALIZER], resourceVersion: binding.metadata.resourceVersion },
      });
      return; // the update comes back through the informer
    }

    const spec = binding.spec;
    const previous = binding.status ?? {};
    const problem = this.topicProblem(spec.topic);
    if (problem) {
      this.unfollow(name);
      await this.writeStatus(binding, { ...previous, message: problem, observedGeneration: binding.metadata.generation });
      return;
    }
    const followed = this.follow(name, spec.topic);
    const now = Date.now();
    let active = previous.active ?? false;
    let lastValue = previous.lastValue;
    let message: string | undefined;
    if (followed.message) {
      try {
        const value = extractValue(followed.message.payload, spec.valuePath);
        lastValue = value.length > MAX_VALUE_CHARS ? `${value.slice(0, MAX_VALUE_CHARS)}…` : value;
        active = conditionHolds(spec.when ?? {}, value);
      } catch (err) {
        if (!(err instanceof SignalError)) throw err;
        message = `last message ignored: ${err.message}; keeping the last state`;
      }
    }
    const lastMessageMs = followed.message?.at ?? (previous.lastMessageTime ? Date.parse(previous.lastMessageTime) : undefined);
    const silentAfterMs = (spec.silentAfterSeconds ?? DEFAULT_SILENT_AFTER_SECONDS) * 1000;
    const silent = now - (lastMessageMs ?? followed.since) > silentAfterMs;
    if (silent && !message) message = lastMessageMs ? `no message for ${Math.round((now - lastMessageMs) / 1000)}s; keeping the last state` : 'no message yet';

    const after = await this.applyToNodes(binding, active, nodes);
    const transitioned = active !== (previous.active ?? false);
    if (transitioned) {
      this.recorder.event(binding, 'Normal', active ? 'Activated' : 'Deactivated',
        `${spec.topic} is ${JSON.stringify(lastValue ?? '')}: ${spec.taint ? `taint ${spec.taint.key}:${spec.taint.effect}` : 'labels'} ${active ? 'on' : 'off'} ${after.length ? after.join(', ') : 'no nodes'}`);
    }
    await this.writeStatus(binding, {
      active,
      ...(lastValue !== undefined ? { lastValue } : {}),
      ...(lastMessageMs ? { lastMessageTime: rfc3339Seconds(lastMessageMs) } : {}),
      ...(transitioned ? { lastTransitionTime: rfc3339Seconds(now) } : previous.lastTransitionTime ? { lastTransitionTime: previous.lastTransitionTime } : {}),
      nodes: after,
      silent,
      ...(message ? { message } : {}),
      observedGeneration: binding.metadata.generation,
    });
  }

  /** Writes every node that is not in line yet; returns the nodes that carry the binding afterwards. */
  private async applyToNodes(binding: TopicBinding, active: boolean, nodes: Node[]): Promise<string[]> {
    const byName = new Map(nodes.map((n) => [n.metadata.name!, n]));
    for (const change of planNodeChanges(binding.spec, active, nodes)) {
      const node = structuredClone(byName.get(change.node)!) as Node;
      if (change.taints) node.spec = { ...node.spec, taints: change.taints };
      if (change.labels) {
        const labels = { ...(node.metadata.labels ?? {}) };
        for (const [k, v] of Object.entries(change.labels)) { if (v === null) delete labels[k]; else labels[k] = v; }
        node.metadata.labels = labels;
      }
      try {
        byName.set(change.node, await this.client.update(R.nodes, node));
      } catch (err) {
        if (isNotFound(err)) { byName.delete(change.node); continue; }
        if (isConflict(err)) this.queue.add(binding.metadata.name!); // the node moved on: try again from the cache
        else throw err;
      }
    }
    return nodesCarrying(binding.spec, [...byName.values()]);
  }

  private async writeStatus(binding: TopicBinding, status: TopicBindingStatus): Promise<void> {
    if (JSON.stringify(binding.status ?? {}) === JSON.stringify(status)) return;
    await this.client.patch(TOPIC_BINDING_REF, undefined, binding.metadata.name!, { status }, 'status');
  }
}

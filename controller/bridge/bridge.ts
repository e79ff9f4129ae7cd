// The MQTT gateway: store changes → per-node desired state on MQTT, agent reports →
// Node and Pod status. Every incoming payload is validated; bad ones are logged and dropped.
// Its client is its own identity's (component-identities.ts, MQTT_BRIDGE_USER): the
// publishers read through shared informers on it, the status syncs write through it.
import type { NodeDenial } from './node-restriction.js';
import type { Pod } from '../../protocol/kube/types.js';
import type { ClusterConfigPayload, DesiredPod, DesiredPodsPayload } from '../../protocol/mqtt/payloads.js';
import type { MessageLink } from '../../protocol/mqtt/link.js';
import { Topics } from '../../protocol/mqtt/topics.js';
import {
  isCleared, parseAvailability, parseEvents, parseHeartbeat, parseNodeStatus, parsePodStatus, parseResponseChunk, PayloadError,
} from '../../protocol/mqtt/validate.js';
import type { ApiCore } from '../apiserver/api-core.js';
import type { ClusterClient } from '../apiserver/client.js';
import { DesiredStatePublisher } from './desired-state-publisher.js';
import { NodeEvents } from './node-events.js';
import { NodeStatusSync } from './node-status-sync.js';
import type { NodeTelemetry } from '../client/node-telemetry.js';
import { SharedInformers } from '../client/shared-informers.js';
import { PodStatusSync } from './pod-status-sync.js';
import { PodStreamRelay } from './pod-streams.js';
import { ServiceRoutingPublisher } from './service-routing-publisher.js';
import { IngressPublisher } from '../ingress/ingress-publisher.js';

export interface BridgeOptions {
  link: MessageLink;
  topics: Topics;
  core: ApiCore;
  /** The bridge's own client (RBAC-checked as MQTT_BRIDGE_USER in the control plane). */
  client: ClusterClient;
  telemetry: NodeTelemetry;
  log: { info: (o: object, m: string) => void; warn: (o: object, m: string) => void; debug: (o: object, m: string) => void };
  serviceAccount?: (pod: Pod) => DesiredPod['serviceAccount'] | undefined;
  podCidrFor?: (node: string) => string | undefined;
  dns?: DesiredPodsPayload['dns'];
  /** Heartbeat rate and status refresh for every agent, retained on `<base>/v1/cluster/config`. */
  clusterConfig: ClusterConfigPayload;
  /** A node tried what it may not (NodeRestriction): counted in the metrics. */
  onNodeDenied?: NodeDenial;
}

export class Bridge {
  readonly streams: PodStreamRelay;
  readonly publisher: DesiredStatePublisher;
  readonly serviceRouting: ServiceRoutingPublisher;
  readonly ingress: IngressPublisher;
  private readonly nodes: NodeStatusSync;
  private readonly pods: PodStatusSync;
  private readonly events: NodeEvents;
  /** One cache per resource for the three publishers. */
  private readonly informers: SharedInformers;
  private unsubscribers: (() => Promise<void>)[] = [];
  /** Messages dropped because they failed validation, for metrics. */
  dropped = 0;

  constructor(private readonly opts: BridgeOptions) {
    const { link, topics, client, log } = opts;
    const informers = (this.informers = new SharedInformers(client));
    this.pods = new PodStatusSync({ client, log });
    this.nodes = new NodeStatusSync({
      client, telemetry: opts.telemetry, log, podCidrFor: opts.podCidrFor, onDenied: opts.onNodeDenied,
      // The controller marked this node's pods unready while it was away: restore what the agent last reported.
      onReady: (node) => void this.pods.reapply(node).catch((err) => log.warn({ node, err: String(err) }, 'pod statuses not restored')),
    });
    this.events = new NodeEvents(client, log);
    this.publisher = new DesiredStatePublisher({
      informers, log,
      revision: () => opts.core.store.revision,
      publish: (node, payload) => link.publish(topics.pods(node), payload, { retain: true, qos: 1 }),
      serviceAccount: opts.serviceAccount,
      podCidrFor: opts.podCidrFor,
      dns: opts.dns,
    });
    this.serviceRouting = new ServiceRoutingPublisher({
      informers, log,
      revision: () => opts.core.store.revision,
      publish: (payload) => link.publish(topics.services(), payload, { retain: true, qos: 1 }),
      clusterDomain: opts.dns?.clusterDomain,
    });
    this.ingress = new IngressPublisher({
      informers, log, revision: () => opts.core.store.revision,
      publish: (node, payload) => link.publish(topics.ingress(node), payload, { retain: true, qos: 1 }),
    });
    this.streams = new PodStreamRelay(
      { send: (node, op, payload) => link.publish(topics.request(node, op), payload, { qos: 1 }) },
      opts.core,
      (node) => opts.telemetry.get(node)?.online ?? false,
    );
  }

  async start(): Promise<void> {
    const { link, topics } = this.opts;
    const on = async (filter: string, handle: (node: string, buf: Buffer) => void) => {
      this.unsubscribers.push(await link.subscribe(filter, (topic, buf) => {
        const parsed = topics.parse(topic);
        if (!parsed || !('node' in parsed)) return;
        try {
          handle(parsed.node, buf);
        } catch (err) {
          this.dropped++;
          if (err instanceof PayloadError) this.opts.log.warn({ topic, err: err.message }, 'dropped a malformed message');
          else this.opts.log.warn({ topic, err: String(err) }, 'message handling failed');
        }
      }));
    };
    this.publisher.start();
    this.serviceRouting.start();
    this.ingress.start();
    await on(topics.allNodes('availability'), (node, buf) => {
      if (isCleared(buf)) return;
      this.nodes.availability(node, parseAvailability(buf).state === 'online');
    });
    await on(topics.allNodes('status'), (node, buf) => {
      if (isCleared(buf)) return;
      this.nodes.status(node, parseNodeStatus(buf));
    });
    await on(topics.allNodes('heartbeat'), (node, buf) => {
      parseHeartbeat(buf);
      this.nodes.heartbeat(node);
    });
    await on(topics.allNodes('pod-status'), (node, buf) => void this.pods.apply(node, parsePodStatus(buf).updates));
    await on(topics.allNodes('events'), (node, buf) => this.events.record(node, parseEvents(buf).events));
    await on(topics.allResponses(), (_node, buf) => this.streams.onResponse(parseResponseChunk(buf)));
    await this.publishClusterConfig();
    // After a broker restart (embedded or external), retained desired state may be gone.
    link.onConnect(() => { this.publisher.republishAll(); this.serviceRouting.republish(); this.ingress.republish(); void this.publishClusterConfig(); });
  }

  private async publishClusterConfig(): Promise<void> {
    await this.opts.link.publish(this.opts.topics.clusterConfig(), this.opts.clusterConfig, { retain: true, qos: 1 })
      .catch((err) => this.opts.log.warn({ err: String(err) }, 'cluster config not published'));
  }

  async stop(): Promise<void> {
    this.publisher.stop();
    this.serviceRouting.stop();
    this.ingress.stop();
    this.informers.stop();
    for (const u of this.unsubscribers) await u().catch(() => undefined);
    this.unsubscribers = [];
  }
}

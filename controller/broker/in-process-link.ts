// The controller's link to its own embedded broker, in process: the same contract as the
// network client (protocol/mqtt/link.ts MessageLink), without a loopback socket, a CONNECT
// and two MQTT encodings and parsings of every message each way. Subscriptions are
// aedes' in-process ones (aedes.js subscribe → mqemitter), and a new subscription is sent
// the stored (retained) messages it matches first, as aedes' handlers/subscribe.js does
// for a network client.
import { EventEmitter } from 'node:events';
import { callHandlers, payloadBytes, type LinkCounters, type MessageHandler, type MessageLink, type PublishOptions, type QoS } from '../../protocol/mqtt/link.js';
import { isPublishableTopic } from '../../protocol/mqtt/topics.js';

/** A published message as the broker hands it to in-process subscribers. */
export interface BrokerMessage { topic: string; payload: Buffer | string; retain?: boolean }

/** What the link needs of the broker. */
export interface BrokerPort {
  publish(message: { topic: string; payload: Buffer; qos: QoS; retain: boolean }): Promise<void>;
  subscribe(filter: string, deliver: (message: BrokerMessage, done: () => void) => void): Promise<void>;
  unsubscribe(filter: string, deliver: (message: BrokerMessage, done: () => void) => void): Promise<void>;
  /** The stored messages whose topics match filter. */
  retained(filter: string): AsyncIterable<BrokerMessage>;
}

interface Subscription { deliver: (message: BrokerMessage, done: () => void) => void; handlers: Set<MessageHandler> }

export class InProcessLink extends EventEmitter<{ error: [Error] }> implements MessageLink {
  readonly counters: LinkCounters = { messagesSent: 0, bytesSent: 0, messagesReceived: 0, bytesReceived: 0 };
  private readonly subscriptions = new Map<string, Subscription>();
  private ended = false;

  constructor(private readonly broker: BrokerPort) {
    super();
  }

  get connected(): boolean {
    return !this.ended;
  }

  /** Never called: the link cannot lose its broker, which lives and dies with this process. */
  onConnect(_cb: () => void | Promise<void>): () => void {
    return () => undefined;
  }

  async publish(topic: string, payload: object | '' | Buffer, opts: PublishOptions = {}): Promise<boolean> {
    if (!isPublishableTopic(topic)) throw new Error(`refusing to publish to ${JSON.stringify(topic)}: wildcards are not allowed`);
    if (this.ended) {
      if (opts.ifConnected) return false;
      throw new Error('link ended');
    }
    const body = payloadBytes(payload);
    await this.broker.publish({ topic, payload: body, qos: opts.qos ?? 1, retain: opts.retain ?? false });
    this.counters.messagesSent++;
    this.counters.bytesSent += body.length;
    return true;
  }

  async subscribe(filter: string, handler: MessageHandler, _opts: { qos?: QoS } = {}): Promise<() => Promise<void>> {
    if (this.ended) throw new Error('link ended');
    const existing = this.subscriptions.get(filter);
    // like the network client, which subscribes once per filter: no stored messages again
    existing?.handlers.add(handler);
    const sub = existing ?? (await this.open(filter, handler));
    return async () => {
      sub.handlers.delete(handler);
      if (sub.handlers.size > 0 || this.subscriptions.get(filter) !== sub) return;
      this.subscriptions.delete(filter);
      await this.broker.unsubscribe(filter, sub.deliver);
    };
  }

  /** Subscribes to the broker for a new filter, then hands its first handler the stored messages. */
  private async open(filter: string, first: MessageHandler): Promise<Subscription> {
    const sub: Subscription = {
      handlers: new Set([first]),
      // live messages: `retain` marks only stored ones, as a network client sees them
      deliver: (message, done) => {
        this.dispatch(sub, message.topic, message.payload, false);
        done();
      },
    };
    this.subscriptions.set(filter, sub);
    await this.broker.subscribe(filter, sub.deliver);
    for await (const stored of this.broker.retained(filter)) this.dispatch(sub, stored.topic, stored.payload, true);
    return sub;
  }

  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    const subs = [...this.subscriptions];
    this.subscriptions.clear();
    await Promise.all(subs.map(([filter, s]) => this.broker.unsubscribe(filter, s.deliver).catch(() => undefined)));
  }

  private dispatch(sub: Subscription, topic: string, payload: Buffer | string, retain: boolean): void {
    if (this.ended) return;
    const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
    this.counters.messagesReceived++;
    this.counters.bytesReceived += body.length;
    callHandlers(sub.handlers, topic, body, retain, (err) => { if (this.listenerCount('error') > 0) this.emit('error', err); });
  }
}

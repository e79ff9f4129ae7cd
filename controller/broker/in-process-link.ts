// The controller's link to its own embedded broker, in process: the same contract as the
// network client (protocol/mqtt/link.ts MessageLink), without a loopback socket, a CONNECT
// and two MQTT encodings and parsings of every message each way. Subscriptions are
// aedes' in-process ones (aedes.js subscribe → mqemitter), and a new subscription is sent
// the stored (retained) messages it matches first, as aedes' handlers/subscribe.js does
// for a network client.
import { EventEmitter } from 'node:events';
import type { LinkCounters, MessageHandler, MessageLink, PublishOptions, QoS } from '../../protocol/mqtt/link.js';
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
    const body = Buffer.isBuffer(payload) ? payload : payload === '' ? Buffer.alloc(0) : Buffer.from(JSON.stringify(payload));
    await this.broker.publish({ topic, payload: body, qos: opts.qos ?? 1, retain: opts.retain ?? false });
    this.counters.messagesSent++;
    this.counters.bytesSent += body.length;
    return true;
  }

  async subscribe(filter: string, handler: MessageHandler, _opts: { qos?: QoS } = {}): Promise<() => Promise<void>> {
    if (this.ended) throw new Error('link ended');
    let sub = this.subscriptions.get(filter);
    if (sub) {
      // like the network client, which subscribes once per filter: no stored messages again
      sub.handlers.add(handler);
    } else {
      const entry: Subscription = {
        handlers: new Set([handler]),
        // live messages: `retain` marks only stored ones, as a network client sees them
        deliver: (message, done) => {
          this.dispatch(entry, message.topic, message.payload, false);
          done();
        },
      };
      sub = entry;
      this.subscriptions.set(filter, entry);
      await this.broker.subscribe(filter, entry.deliver);
      for await (const stored of this.broker.retained(filter)) this.dispatch(entry, stored.topic, stored.payload, true);
    }
    const entry = sub;
    return async () => {
      entry.handlers.delete(handler);
      if (entry.handlers.size > 0 || this.subscriptions.get(filter) !== entry) return;
      this.subscriptions.delete(filter);
      await this.broker.unsubscribe(filter, entry.deliver);
    };
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
    for (const handler of sub.handlers) {
      try {
        handler(topic, body, { retain });
      } catch (err) {
        // A broken handler must not take the link (or the other handlers) down.
        if (this.listenerCount('error') > 0) this.emit('error', err as Error);
      }
    }
  }
}

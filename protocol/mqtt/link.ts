// The one module that talks to MQTT.js. Everything else sees typed JSON publishes,
// handler-based subscriptions that survive reconnects, and availability handled the
// home-lab way: retained `online` on connect, retained `offline` as the Will, and an
// explicit `offline` before a clean disconnect (a clean disconnect does not fire the Will).
import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { isPublishableTopic, topicMatches } from './topics.js';
import type { AvailabilityPayload } from './payloads.js';

export type QoS = 0 | 1;

/** CONNACK return code 3 (MQTT 3.1.1). */
export const SERVER_UNAVAILABLE = 3;

/** A comma-separated URL list, as `--mqtt-url` takes it. */
export function splitUrls(value: string): string[] {
  return value.split(',').map((u) => u.trim()).filter(Boolean);
}

export interface MqttLinkOptions {
  /**
   * mqtt://host:port or mqtts://host:port; or several, comma-separated: each reconnect
   * tries the next (with several controllers only the leader's broker admits nodes).
   */
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /** CA certificate(s) for mqtts:// (PEM). */
  ca?: string | Buffer;
  /** Default true; false only for tests against self-signed brokers without a CA. */
  rejectUnauthorized?: boolean;
  /** Seconds; the broker notices a silent client after 1.5× this. Default 30. */
  keepaliveSeconds?: number;
  /** Delay between reconnect attempts, ms. Default 1000; reconnects forever. */
  reconnectPeriodMs?: number;
  /** How long one connection attempt may take, ms. Default 10000. */
  connectTimeoutMs?: number;
  /**
   * Retained availability topic: Will = `{"state":"offline"}`, `{"state":"online"}` on
   * every connect, `offline` published by end() before the clean disconnect.
   */
  availabilityTopic?: string;
  /** Any other Will (ignored when availabilityTopic is set). */
  will?: { topic: string; payload: object; retain: boolean; qos: QoS };
}

export interface PublishOptions {
  retain?: boolean;
  /** Default 1. */
  qos?: QoS;
  /** Drop (resolve false) instead of queueing while disconnected: for heartbeats that a newer one replaces. */
  ifConnected?: boolean;
}

/** `retain` is set when the broker delivers a stored (retained) message, not a live one. */
export type MessageHandler = (topic: string, payload: Buffer, info: { retain: boolean }) => void;

/** The broker refused the connection (bad credentials, not authorised, ...). */
export class MqttRefusedError extends Error {
  override readonly name = 'MqttRefusedError';
  constructor(message: string, readonly code: number) { super(message); }
}

export interface LinkCounters { messagesSent: number; bytesSent: number; messagesReceived: number; bytesReceived: number }

/** A publication's bytes: a Buffer as it is, '' as the empty payload that clears a retained topic, anything else as JSON. */
export function payloadBytes(payload: object | '' | Buffer): Buffer {
  return Buffer.isBuffer(payload) ? payload : payload === '' ? Buffer.alloc(0) : Buffer.from(JSON.stringify(payload));
}

/** Hands a message to each handler; one that throws is reported, and the others still get it. */
export function callHandlers(handlers: Iterable<MessageHandler>, topic: string, payload: Buffer, retain: boolean, report: (err: Error) => void): void {
  for (const handler of handlers) {
    try {
      handler(topic, payload, { retain });
    } catch (err) {
      // A broken handler must not take the link (or the other handlers) down.
      report(err as Error);
    }
  }
}

/**
 * What a component needs of its connection to the broker. MqttLink is the network client;
 * the controller reaches its embedded broker in process (controller/broker/in-process-link.ts)
 * with the same contract: one link's filters must not overlap, handlers see `retain` only
 * on stored messages, a QoS 1 publish resolves once the broker took it.
 */
export interface MessageLink {
  readonly connected: boolean;
  readonly counters: LinkCounters;
  onConnect(cb: () => void | Promise<void>): () => void;
  publish(topic: string, payload: object | '' | Buffer, opts?: PublishOptions): Promise<boolean>;
  subscribe(filter: string, handler: MessageHandler, opts?: { qos?: QoS }): Promise<() => Promise<void>>;
  end(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): this;
}

interface LinkEvents {
  connect: [];
  reconnect: [];
  offline: [];
  close: [];
  error: [Error];
  refused: [MqttRefusedError];
}

export class MqttLink extends EventEmitter<LinkEvents> implements MessageLink {
  private client?: MqttClient;
  private readonly handlers = new Map<string, { qos: QoS; handlers: Set<MessageHandler> }>();
  private readonly connectCallbacks = new Set<() => void | Promise<void>>();
  private ending = false;
  /** Payload bytes and message counts, for metrics and the bench. */
  readonly counters: LinkCounters = { messagesSent: 0, bytesSent: 0, messagesReceived: 0, bytesReceived: 0 };

  constructor(private readonly options: MqttLinkOptions) {
    super();
    for (const u of splitUrls(options.url)) if (!/^mqtts?:\/\/[^/]/.test(u)) throw new Error(`MQTT URL must start with mqtt:// or mqtts://: ${u}`);
    if (!options.clientId) throw new Error('MQTT clientId is required');
    if (options.availabilityTopic && !isPublishableTopic(options.availabilityTopic)) {
      throw new Error(`invalid availability topic: ${options.availabilityTopic}`);
    }
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /**
   * Connects and resolves on the first CONNACK. Later drops reconnect forever. A refusal
   * (CONNACK error) rejects and stops the link when failOnRefusal (default); otherwise it
   * is reported as a `refused` event and retried like any other failure.
   */
  start(opts: { timeoutMs?: number; failOnRefusal?: boolean } = {}): Promise<void> {
    if (this.client) throw new Error('MqttLink already started');
    const failOnRefusal = opts.failOnRefusal ?? true;
    const o = this.options;
    const willTopic = o.availabilityTopic ?? o.will?.topic;
    const clientOptions: IClientOptions = {
      clientId: o.clientId,
      username: o.username,
      password: o.password,
      keepalive: o.keepaliveSeconds ?? 30,
      reconnectPeriod: o.reconnectPeriodMs ?? 1000,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      // no table of 65,536 number Buffers in mqtt-packet (packet-numbers.ts says why)
      writeCache: false,
      protocolVersion: 4,
      clean: true,
      // We resubscribe ourselves from the handler table on every connect.
      resubscribe: false,
      reconnectOnConnackError: true,
      ca: o.ca,
      rejectUnauthorized: o.rejectUnauthorized ?? true,
      will: willTopic
        ? {
            topic: willTopic,
            payload: Buffer.from(JSON.stringify(o.availabilityTopic ? ({ state: 'offline' } satisfies AvailabilityPayload) : o.will!.payload)),
            retain: o.availabilityTopic ? true : o.will!.retain,
            qos: o.availabilityTopic ? 1 : o.will!.qos,
          }
        : undefined,
    };
    const urls = splitUrls(o.url);
    if (urls.length > 1) {
      clientOptions.servers = urls.map((u) => {
        const p = new URL(u);
        return { host: p.hostname.replace(/^\[|\]$/g, ''), port: Number(p.port) || (p.protocol === 'mqtts:' ? 8883 : 1883), protocol: p.protocol.slice(0, -1) as 'mqtt' | 'mqtts' };
      });
    }
    const client = mqtt.connect(urls[0]!, clientOptions);
    this.client = client;

    client.on('connect', () => {
      // Small request/answer packets must not wait for Nagle's algorithm (~40 ms a hop).
      (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
      void this.onConnected();
    });
    client.on('reconnect', () => this.emit('reconnect'));
    client.on('offline', () => this.emit('offline'));
    client.on('close', () => this.emit('close'));
    client.on('message', (topic, payload, packet) => this.dispatch(topic, payload, packet.retain === true));
    client.on('error', (err) => {
      const code = (err as { code?: unknown }).code;
      if (/^Connection refused/.test(err.message) && typeof code === 'number') {
        this.emit('refused', new MqttRefusedError(err.message, code));
      } else if (this.listenerCount('error') > 0) {
        this.report(err);
      }
    });

    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        this.off('connect', onConnect);
        this.off('refused', onRefused);
      };
      const onConnect = () => { cleanup(); resolve(); };
      const onRefused = (err: MqttRefusedError) => {
        // "Server unavailable" is a broker that does not serve us now (a controller that is
        // not the leader): like an unreachable one, the next attempt tries the next URL.
        if (!failOnRefusal || err.code === SERVER_UNAVAILABLE) return;
        cleanup();
        this.stop();
        reject(err);
      };
      this.on('connect', onConnect);
      this.on('refused', onRefused);
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          cleanup();
          this.stop();
          reject(new Error(`could not connect to ${o.url} within ${opts.timeoutMs} ms`));
        }, opts.timeoutMs);
      }
    });
  }

  /** Runs on every connect (first and after reconnects), after resubscription and `online`. */
  onConnect(cb: () => void | Promise<void>): () => void {
    this.connectCallbacks.add(cb);
    return () => this.connectCallbacks.delete(cb);
  }

  private async onConnected(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const filters = [...this.handlers.entries()];
    if (filters.length > 0) {
      await new Promise<void>((resolve) => {
        client.subscribe(Object.fromEntries(filters.map(([f, e]) => [f, { qos: e.qos }])), (err) => {
          if (err) this.report(err);
          resolve();
        });
      });
    }
    if (this.options.availabilityTopic) {
      await this.publish(this.options.availabilityTopic, { state: 'online' } satisfies AvailabilityPayload, { retain: true, qos: 1 })
        .catch((err: Error) => this.report(err));
    }
    for (const cb of this.connectCallbacks) {
      try {
        await cb();
      } catch (err) {
        this.report(err as Error);
      }
    }
    this.emit('connect');
  }

  // MQTT 3.1.1 brokers may deliver a message once per matching subscription, and each
  // delivery goes to every matching handler: keep one link's filters from overlapping.
  private dispatch(topic: string, payload: Buffer, retain = false): void {
    this.counters.messagesReceived++;
    this.counters.bytesReceived += payload.length;
    for (const [filter, entry] of this.handlers) {
      if (topicMatches(filter, topic)) callHandlers(entry.handlers, topic, payload, retain, (err) => this.report(err));
    }
  }

  /**
   * JSON-encodes and publishes. An empty string clears a retained topic. Resolves true
   * once sent (QoS 1: acknowledged), false when dropped by `ifConnected`.
   */
  /** A Buffer is sent as it is: for callers that already hold the JSON text. */
  publish(topic: string, payload: object | '' | Buffer, opts: PublishOptions = {}): Promise<boolean> {
    if (!isPublishableTopic(topic)) return Promise.reject(new Error(`refusing to publish to ${JSON.stringify(topic)}: wildcards are not allowed`));
    const client = this.client;
    if (!client) return Promise.reject(new Error('MqttLink not started'));
    if (opts.ifConnected && !client.connected) return Promise.resolve(false);
    const body = payloadBytes(payload);
    const qos = opts.qos ?? 1;
    return new Promise<boolean>((resolve, reject) => {
      client.publish(topic, body, { qos, retain: opts.retain ?? false }, (err) => {
        if (err) return reject(err);
        this.counters.messagesSent++;
        this.counters.bytesSent += body.length;
        resolve(true);
      });
    });
  }

  /**
   * Calls handler for every message matching filter, across reconnects. Resolves once the
   * broker grants the subscription (or at once while offline: it is made on connect);
   * rejects when the broker refuses it. The returned function unsubscribes this handler.
   */
  async subscribe(filter: string, handler: MessageHandler, opts: { qos?: QoS } = {}): Promise<() => Promise<void>> {
    const client = this.client;
    if (!client) throw new Error('MqttLink not started');
    let entry = this.handlers.get(filter);
    const isNew = !entry;
    if (!entry) {
      entry = { qos: opts.qos ?? 1, handlers: new Set() };
      this.handlers.set(filter, entry);
    }
    entry.handlers.add(handler);
    if (isNew && client.connected) {
      await new Promise<void>((resolve, reject) => {
        client.subscribe(filter, { qos: entry.qos }, (err) => {
          if (!err) return resolve();
          this.handlers.delete(filter);
          reject(new Error(`subscription to ${filter} refused: ${err.message}`));
        });
      });
    }
    return async () => {
      const current = this.handlers.get(filter);
      if (!current) return;
      current.handlers.delete(handler);
      if (current.handlers.size > 0) return;
      this.handlers.delete(filter);
      if (client.connected) await new Promise<void>((resolve) => client.unsubscribe(filter, () => resolve()));
    };
  }

  /** Announces offline (when configured), then disconnects cleanly. */
  async end(): Promise<void> {
    const client = this.client;
    if (!client || this.ending) return;
    this.ending = true;
    if (this.options.availabilityTopic && client.connected) {
      await Promise.race([
        this.publish(this.options.availabilityTopic, { state: 'offline' } satisfies AvailabilityPayload, { retain: true, qos: 1 }).catch(() => false),
        new Promise((r) => setTimeout(r, 2000)),
      ]);
    }
    // A clean end waits for in-flight QoS 1 messages; one the broker will never
    // acknowledge must not hold the process, so force the end after a while.
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => client.end(true, {}, () => resolve()), 2000);
      client.end(false, {}, () => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  /** Errors go to `error` listeners when there are any; a link never throws from an event. */
  private report(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /** Drops the connection at once, without announcing anything (the Will fires). */
  private stop(): void {
    this.ending = true;
    this.client?.end(true);
  }
}

// The MQTT broker the controller embeds when no external broker is given: aedes on a
// TCP listener, optionally a TLS one too, with authentication and the ACL of acl.ts on
// every connect, publish, subscribe and delivery.
import { createServer, type AddressInfo, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { Topics } from '../../protocol/mqtt/topics.js';
import { mayPublish, mayReceive, maySubscribe } from './acl.js';
import { LoginLimiter, PublishLimits } from './client-limits.js';
import { ownsClientId, type BrokerCredentials, type BrokerIdentity } from './credentials.js';
import { withoutNumberCache } from '../../protocol/mqtt/packet-numbers.js';
import type { BrokerMessage, BrokerPort } from './in-process-link.js';

export interface BrokerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface EmbeddedBrokerOptions {
  /** `HOST:PORT` (`[::1]:1883` for IPv6); port 0 picks a free one. */
  listen: string;
  /** Optional MQTT over TLS listener; PEM material is passed in by the caller. */
  tls?: { listen: string; cert: string | Buffer; key: string | Buffer; ca?: string | Buffer };
  credentials: BrokerCredentials;
  baseTopic?: string;
  logger?: BrokerLogger;
  /**
   * With several controllers, nodes attach only to the leader's broker: elsewhere this
   * answers false and nodes are refused with "server unavailable", so they try the next URL.
   */
  admitNodes?: () => boolean;
}

export interface HostPort { host: string; port: number }

/** Parses `HOST:PORT`, `[v6]:PORT` or `:PORT` (all interfaces). */
export function parseHostPort(value: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`expected HOST:PORT, got ${JSON.stringify(value)}`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

const silent: BrokerLogger = { info() {}, warn() {} };

function notAuthorized(): AuthenticateError {
  const err = new Error('not authorized') as AuthenticateError;
  err.returnCode = 5;
  return err;
}

async function listen(server: Server, at: HostPort): Promise<HostPort> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  return { host: addr.address, port: addr.port };
}

export class EmbeddedBroker {
  private constructor(
    private readonly aedes: Aedes,
    private readonly servers: Server[],
    /** Where the plain listener is bound (the real port when 0 was asked for). */
    readonly address: HostPort,
    readonly tlsAddress: HostPort | undefined,
    private readonly identities: WeakMap<Client, BrokerIdentity>,
  ) {}

  static async start(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
    const topics = new Topics(opts.baseTopic);
    const log = opts.logger ?? silent;
    const plainAt = parseHostPort(opts.listen);
    const tlsAt = opts.tls ? parseHostPort(opts.tls.listen) : undefined;
    // aedes clients carry no username; remember who each one authenticated as.
    const identities = new WeakMap<Client, BrokerIdentity>();
    const limits = new PublishLimits(topics);
    const logins = new LoginLimiter(log);
    const addressOf = (client: Client) => (client as unknown as { conn?: { remoteAddress?: string } }).conn?.remoteAddress ?? 'unknown';

    withoutNumberCache();
    const aedes = await Aedes.createBroker({
      connectTimeout: 10_000,
      keepaliveLimit: 600,
      maxTopicLevels: 16,
      drainTimeout: 30_000,
      authenticate(client, username, password, done) {
        const address = addressOf(client);
        if (logins.locked(address)) {
          logins.fail(address);
          return done(notAuthorized(), false);
        }
        opts.credentials.authenticate(username, password?.toString('utf8'), client.id).then((identity) => {
          if (!identity) {
            logins.fail(address);
            log.warn({ clientId: client.id, username, address }, 'mqtt connection refused: bad credentials');
            return done(notAuthorized(), false);
          }
          if (!ownsClientId(identity, client.id)) {
            log.warn({ clientId: client.id, username }, 'mqtt connection refused: client id belongs to another identity');
            return done(notAuthorized(), false);
          }
          if (identity.role !== 'controller' && opts.admitNodes && !opts.admitNodes()) {
            const err = new Error('server unavailable: not the leader') as AuthenticateError;
            err.returnCode = 3;
            return done(err, false);
          }
          identities.set(client, identity);
          done(null, true);
        }, (err: Error) => {
          log.warn({ clientId: client.id, err: err.message }, 'mqtt authentication failed');
          done(notAuthorized(), false);
        });
      },
      authorizePublish(client, packet, done) {
        if (!client) return done(null); // the broker's own publications
        const identity = identities.get(client);
        if (identity && !packet.topic.startsWith('$') && mayPublish(identity, packet.topic, topics)) {
          const size = packet.payload ? Buffer.byteLength(packet.payload as Buffer) : 0;
          const refused = limits.check(client, identity, packet.topic, size, packet.retain === true);
          if (!refused) return done(null);
          log.warn({ clientId: client.id, topic: packet.topic, bytes: size, reason: refused }, 'mqtt client dropped: over its limits');
          done(new Error(refused));
          client.close();
          return;
        }
        log.warn({ clientId: client.id, topic: packet.topic }, 'mqtt publish denied');
        done(new Error(`publish to ${packet.topic} not allowed`));
      },
      authorizeSubscribe(client, sub, done) {
        const identity = identities.get(client);
        if (identity && maySubscribe(identity, sub.topic, topics)) return done(null, sub);
        log.warn({ clientId: client.id, topic: sub.topic }, 'mqtt subscription denied');
        done(null, null);
      },
      authorizeForward(client, packet) {
        const identity = identities.get(client);
        return identity && mayReceive(identity, packet.topic, topics) ? packet : null;
      },
    });

    const servers: Server[] = [];
    try {
      // Small MQTT packets must not wait for Nagle's algorithm and delayed ACKs (~40 ms a hop).
      const plain = createServer({ noDelay: true }, (socket) => aedes.handle(socket));
      servers.push(plain);
      const address = await listen(plain, plainAt);
      let tlsAddress: HostPort | undefined;
      if (opts.tls && tlsAt) {
        const secure = createTlsServer({ cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.ca, noDelay: true }, (socket) => aedes.handle(socket));
        servers.push(secure);
        tlsAddress = await listen(secure, tlsAt);
      }
      log.info({ address, tlsAddress }, 'mqtt broker listening');
      return new EmbeddedBroker(aedes, servers, address, tlsAddress, identities);
    } catch (err) {
      for (const s of servers) s.close();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      throw err;
    }
  }

  /** `mqtt://host:port` of the plain listener (loopback when bound to all interfaces). */
  get url(): string {
    const host = this.address.host === '0.0.0.0' || this.address.host === '::' ? '127.0.0.1' : this.address.host;
    return `mqtt://${formatHost(host)}:${this.address.port}`;
  }

  get tlsUrl(): string | undefined {
    if (!this.tlsAddress) return undefined;
    const host = this.tlsAddress.host === '0.0.0.0' || this.tlsAddress.host === '::' ? '127.0.0.1' : this.tlsAddress.host;
    return `mqtts://${formatHost(host)}:${this.tlsAddress.port}`;
  }

  get connectedClients(): number {
    return this.aedes.connectedClients;
  }

  /** Disconnects every node and joiner (this controller stopped leading); they reconnect elsewhere. */
  dropNodes(): number {
    let n = 0;
    for (const client of Object.values((this.aedes as unknown as { clients: Record<string, Client> }).clients)) {
      if (this.identities.get(client)?.role === 'controller') continue;
      client.close();
      n++;
    }
    return n;
  }

  /** Disconnects every MQTT API user `keep` no longer accepts (revoked, expired); returns their names. */
  dropUsers(keep: (user: string) => boolean): string[] {
    const dropped: string[] = [];
    for (const client of Object.values((this.aedes as unknown as { clients: Record<string, Client> }).clients)) {
      const identity = this.identities.get(client);
      if (identity?.role !== 'user' || keep(identity.user)) continue;
      client.close();
      dropped.push(identity.user);
    }
    return dropped;
  }

  /** The broker as the controller's own link sees it: publications and subscriptions in process. */
  port(): BrokerPort {
    const aedes = this.aedes;
    const persistence = (aedes as unknown as { persistence: { createRetainedStream(filter: string): AsyncIterable<BrokerMessage> } }).persistence;
    return {
      publish: (m) => new Promise<void>((resolve, reject) => {
        aedes.publish({ cmd: 'publish', topic: m.topic, payload: m.payload, qos: m.qos, retain: m.retain, dup: false }, (err) => (err ? reject(err) : resolve()));
      }),
      subscribe: (filter, deliver) => new Promise<void>((resolve) => aedes.subscribe(filter, deliver as never, resolve)),
      unsubscribe: (filter, deliver) => new Promise<void>((resolve) => aedes.unsubscribe(filter, deliver as never, resolve)),
      retained: (filter) => persistence.createRetainedStream(filter),
    };
  }

  /** Stops listening, disconnects every client and closes aedes. */
  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => {
      s.close(() => resolve());
    })).concat(new Promise<void>((resolve) => this.aedes.close(() => resolve()))));
  }
}

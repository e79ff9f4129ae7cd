// Where the embedded broker listens. Agents use the TLS listener (certificate from the
// cluster CA, the CA sent along so a joining board can check it against its token's hash);
// the plaintext one is for this host's own clients and is kept on loopback, unless the
// operator asks for it elsewhere with --mqtt-insecure-listen, which is logged.
import { isIP } from 'node:net';
import { EmbeddedBroker, type BrokerLogger, type EmbeddedBrokerOptions } from './embedded-broker.js';

export interface BrokerListeners {
  plain: { host: string; port: number };
  /** The plaintext listener was asked for off loopback (--mqtt-insecure-listen). */
  plainInsecure?: boolean;
  tls?: { host: string; port: number };
  /** The TLS address is the default one: if its port is taken, go on without it (logged). */
  tlsDefaulted?: boolean;
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

const hostPort = (a: { host: string; port: number }) => `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;

export async function startListeningBroker(
  listeners: BrokerListeners,
  pem: { cert: string; key: string; ca: string },
  rest: Omit<EmbeddedBrokerOptions, 'listen' | 'tls'> & { logger: BrokerLogger },
): Promise<EmbeddedBroker> {
  const log = rest.logger;
  if (!isLoopbackHost(listeners.plain.host)) {
    if (!listeners.plainInsecure) throw new Error(`plaintext MQTT on ${hostPort(listeners.plain)} is not loopback: use --mqtt-insecure-listen to allow it`);
    log.warn({ listen: hostPort(listeners.plain) }, 'plaintext MQTT listener off loopback (--mqtt-insecure-listen): node passwords, tokens and secrets cross the network unencrypted');
  }
  const start = (withTls: boolean) => EmbeddedBroker.start({
    ...rest,
    listen: hostPort(listeners.plain),
    // The chain carries the CA: a board with only a K10 token checks it against the hash.
    ...(withTls && listeners.tls ? { tls: { listen: hostPort(listeners.tls), cert: `${pem.cert.trimEnd()}\n${pem.ca}`, key: pem.key, ca: pem.ca } } : {}),
  });
  try {
    return await start(true);
  } catch (err) {
    if (!(listeners.tls && listeners.tlsDefaulted && (err as NodeJS.ErrnoException).code === 'EADDRINUSE')) throw err;
    log.warn({ listen: hostPort(listeners.tls) }, 'MQTT TLS port already in use: no TLS listener, agents on other hosts cannot connect; give --mqtt-tls-listen');
    return start(false);
  }
}

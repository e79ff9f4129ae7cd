// Mosquitto's TLS listener for agents, as the embedded broker has: a certificate from the
// cluster CA whose file carries the CA too (a board with only a K10 token checks the CA
// against the token's hash), kept in `<data-dir>/mosquitto/`. The plaintext listener
// `pikube mosquitto-config` writes stays on loopback unless asked for elsewhere.
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ensurePki } from '../apiserver/certs.js';
import { writePrivateFile } from './credentials.js';
import { parseHostPort } from './embedded-broker.js';
import { isLoopbackHost } from './listeners.js';

export const MOSQUITTO_TLS_FILES = { cert: 'server.crt', key: 'server.key', ca: 'ca.crt' } as const;

/** Refuses a plaintext listener off loopback unless the operator said so. */
export function assertMosquittoPlainListen(listen: string, insecure: boolean): void {
  const { host } = parseHostPort(listen);
  if (!insecure && !isLoopbackHost(host)) {
    throw new Error(`--listen ${listen} is not loopback: plaintext MQTT would carry node passwords and secrets; agents use the TLS listener (--tls-listen); to serve plaintext there anyway add --insecure-listen`);
  }
}

/** Writes the certificate, key and CA for mosquitto; returns the listener's mosquitto.conf lines. */
export async function mosquittoTlsListener(dataDir: string, listen: string): Promise<string> {
  const { host, port } = parseHostPort(listen);
  const dir = join(resolve(dataDir), 'mosquitto');
  const pki = await ensurePki(resolve(dataDir));
  const paths = { cert: join(dir, MOSQUITTO_TLS_FILES.cert), key: join(dir, MOSQUITTO_TLS_FILES.key), ca: join(dir, MOSQUITTO_TLS_FILES.ca) };
  await writeFile(paths.cert, `${pki.serverCert.trimEnd()}\n${pki.caCert}`, { mode: 0o644 });
  await writePrivateFile(paths.key, pki.serverKey);
  await writeFile(paths.ca, pki.caCert, { mode: 0o644 });
  return [
    '# Agents: MQTT over TLS with a certificate from the cluster CA.',
    `listener ${port} ${host}`,
    'protocol mqtt',
    `certfile ${paths.cert}`,
    `keyfile ${paths.key}`,
    `cafile ${paths.ca}`,
    'tls_version tlsv1.2',
    '',
  ].join('\n');
}

// Joining over TLS with one token: the K10<CA hash>::<token> form lets a new board verify
// the embedded broker's TLS listener on first contact (real broker, real certificates from
// the cluster CA, real TLS sockets), refuses a broker whose CA is not the token's before
// sending the secret, and keeps the CA so later connections verify as usual. Plaintext
// stays on loopback unless asked for.
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ensurePki, hostAddresses } from '../../controller/apiserver/certs.js';
import { BrokerCredentials, ensureJoinToken } from '../../controller/broker/credentials.js';
import { JoinService } from '../../controller/broker/join-service.js';
import { startListeningBroker } from '../../controller/broker/listeners.js';
import { JoinError, obtainCredentials } from '../../agent/join.js';
import { CA_FILE, isPlaintextOffHost } from '../../agent/cluster-ca.js';
import { caCertHash, formatSecureJoinToken, parseJoinToken } from '../../protocol/join-token.js';
import { controllerOptions } from '../../cli/commands/controller-command.js';
import { connectLink, tempDir } from './helpers.js';
import { runCommand } from '../ship/run-command.js';

const quiet = { info() {}, warn() {}, error() {}, debug() {}, child() { return quiet; } } as never;

async function tlsCluster() {
  const dataDir = await tempDir();
  const pki = await ensurePki(dataDir);
  const credentials = await BrokerCredentials.load(dataDir);
  const warnings: string[] = [];
  const broker = await startListeningBroker(
    { plain: { host: '127.0.0.1', port: 0 }, tls: { host: '127.0.0.1', port: 0 } },
    { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert },
    { credentials, logger: { info() {}, warn: (_o, m) => warnings.push(m) } },
  );
  const controller = await connectLink(broker.url, { username: 'pikube-controller', password: credentials.controllerPassword });
  const joined: string[] = [];
  const service = new JoinService({ link: controller, dataDir, onJoined: (n) => joined.push(n) });
  await service.start();
  const token = await ensureJoinToken(dataDir);
  return {
    dataDir, pki, broker, token, joined, credentials,
    secureToken: formatSecureJoinToken(pki.caCert, token),
    close: async () => { await service.stop(); await controller.end(); await broker.close(); },
  };
}

test('the K10 token names the CA by the SHA-256 of its DER, and parses back', async (t) => {
  const dir = await tempDir();
  const pki = await ensurePki(dir);
  const secure = formatSecureJoinToken(pki.caCert, 'abcdef.0123456789abcdef');
  t.regex(secure, /^K10[0-9a-f]{64}::abcdef\.0123456789abcdef$/);
  t.deepEqual(parseJoinToken(secure), { caHash: caCertHash(pki.caCert), credentials: 'abcdef.0123456789abcdef' });
  t.deepEqual(parseJoinToken('abcdef.0123456789abcdef'), { credentials: 'abcdef.0123456789abcdef' });
  t.throws(() => parseJoinToken('K10abc::abcdef.0123456789abcdef'), { message: /64 hex digits/ });
});

test('a board joins over mqtts with only the K10 token, keeps the CA and then verifies with it', async (t) => {
  const c = await tlsCluster();
  t.teardown(c.close);
  const agentDir = await tempDir('pikube-agent-');
  const creds = await obtainCredentials({ mqttUrl: c.broker.tlsUrl!, nodeName: 'pi-tls', joinToken: c.secureToken, dataDir: agentDir, timeoutMs: 8000 });
  t.is(creds.username, 'pi-tls');
  t.deepEqual(c.joined, ['pi-tls']);
  const saved = await readFile(join(agentDir, CA_FILE), 'utf8');
  t.is(caCertHash(saved), caCertHash(c.pki.caCert), 'the CA kept is the cluster CA');
  // From now on an ordinary, verifying TLS connection with the saved CA.
  const link = await connectLink(c.broker.tlsUrl!, { username: creds.username, password: creds.password, clientId: 'pikube-agent-pi-tls', ca: saved, rejectUnauthorized: true });
  await link.end();
  // Boards often name the controller by mDNS: the certificate covers <host>.local.
  t.true(new X509Certificate(c.pki.serverCert).checkHost(`${hostname()}.local`) !== undefined || hostname().includes('.'));
});

test('a broker whose CA is not the token\'s is refused before the token is sent', async (t) => {
  const c = await tlsCluster();
  t.teardown(c.close);
  const other = await ensurePki(await tempDir());
  const wrong = formatSecureJoinToken(other.caCert, c.token);
  const agentDir = await tempDir('pikube-agent-');
  const err = await t.throwsAsync(obtainCredentials({ mqttUrl: c.broker.tlsUrl!, nodeName: 'pi-mitm', joinToken: wrong, dataDir: agentDir, timeoutMs: 5000 }), { instanceOf: JoinError });
  t.regex(err!.message, /^the broker at mqtts:\/\/127\.0\.0\.1:\d+ presented CA sha256:[0-9a-f]{16}…, which does not match the join token's sha256:[0-9a-f]{16}…: refusing to join/);
  t.false(err!.message.includes('\n'), 'one line');
  t.deepEqual(c.joined, [], 'no join request reached the controller');
  t.false(c.credentials.nodePasswords.has('pi-mitm'));
  await t.throwsAsync(readFile(join(agentDir, CA_FILE), 'utf8'), { code: 'ENOENT' }, 'no CA kept');
});

test('an old token without a CA hash cannot verify a self-signed broker, and says what to use', async (t) => {
  const c = await tlsCluster();
  t.teardown(c.close);
  const agentDir = await tempDir('pikube-agent-');
  const err = await t.throwsAsync(obtainCredentials({ mqttUrl: c.broker.tlsUrl!, nodeName: 'pi-old', joinToken: c.token, dataDir: agentDir, timeoutMs: 2500 }), { instanceOf: JoinError });
  t.regex(err!.message, /certificate.*K10… join token/);
  t.deepEqual(c.joined, []);
  // With the CA given explicitly, the old token still joins over TLS.
  const creds = await obtainCredentials({ mqttUrl: c.broker.tlsUrl!, nodeName: 'pi-old', joinToken: c.token, ca: c.pki.caCert, dataDir: agentDir, timeoutMs: 8000 });
  t.is(creds.username, 'pi-old');
  // And on loopback plaintext, as before.
  const loop = await obtainCredentials({ mqttUrl: c.broker.url, nodeName: 'pi-loop', joinToken: c.token, dataDir: await tempDir('pikube-agent-'), timeoutMs: 8000 });
  t.is(loop.username, 'pi-loop');
});

test('the join token is not sent in plaintext to another host unless --mqtt-insecure', async (t) => {
  const lan = hostAddresses().find((a) => !a.startsWith('127.') && !a.includes(':'));
  if (!lan) return t.pass('no non-loopback IPv4 address on this host');
  const agentDir = await tempDir('pikube-agent-');
  // Refused before any connection is tried (nothing listens there).
  const err = await t.throwsAsync(obtainCredentials({ mqttUrl: `mqtt://${lan}:1`, nodeName: 'pi-clear', joinToken: 'abcdef.0123456789abcdef', dataDir: agentDir, timeoutMs: 1000 }), { instanceOf: JoinError });
  t.regex(err!.message, /^refusing to send the join token in plaintext to mqtt:\/\/.*--mqtt-insecure/);
  t.true(isPlaintextOffHost(`mqtt://${lan}:1883`));
  t.false(isPlaintextOffHost('mqtt://127.0.0.1:1883'), 'loopback plaintext is fine');
  t.false(isPlaintextOffHost(`mqtts://${lan}:8883`));
});

test('plaintext MQTT listens on loopback by default; off loopback only with --mqtt-insecure-listen, logged', async (t) => {
  const base = { 'node-monitor-grace-period': '20s', 'service-cluster-ip-range': '10.43.0.0/16', 'cluster-cidr': '10.42.0.0/16', 'node-cidr-mask-size': '24', 'default-toleration-seconds': '60', 'api-listen': '0.0.0.0:6443', 'leader-elect-lease-duration': '6s', 'leader-elect-renew-deadline': '4s', 'leader-elect-retry-period': '1s' };
  const defaults = controllerOptions(base, quiet);
  t.deepEqual(defaults.mqttListen, { host: '127.0.0.1', port: 1883 });
  t.deepEqual(defaults.mqttTlsListen, { host: '0.0.0.0', port: 8883 });
  t.falsy(defaults.mqttListenInsecure);
  t.throws(() => controllerOptions({ ...base, 'mqtt-listen': '0.0.0.0:1883' }, quiet), { message: /not a loopback address.*--mqtt-insecure-listen 0\.0\.0\.0:1883/ });
  const insecure = controllerOptions({ ...base, 'mqtt-insecure-listen': '0.0.0.0:1883' }, quiet);
  t.true(insecure.mqttListenInsecure);

  // The broker itself holds to it, and says so when told otherwise.
  const dataDir = await tempDir();
  const pki = await ensurePki(dataDir);
  const credentials = await BrokerCredentials.load(dataDir);
  const pem = { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert };
  await t.throwsAsync(startListeningBroker({ plain: { host: '0.0.0.0', port: 0 } }, pem, { credentials, logger: { info() {}, warn() {} } }), { message: /not loopback/ });
  const warnings: string[] = [];
  const broker = await startListeningBroker({ plain: { host: '0.0.0.0', port: 0 }, plainInsecure: true }, pem, { credentials, logger: { info() {}, warn: (_o, m) => warnings.push(m) } });
  t.teardown(() => broker.close());
  t.true(warnings.some((w) => /plaintext MQTT listener off loopback/.test(w)));
});

test('a taken default TLS port is logged and skipped; a taken explicit one fails', async (t) => {
  const c = await tlsCluster();
  t.teardown(c.close);
  const taken = c.broker.tlsAddress!;
  const pem = { cert: c.pki.serverCert, key: c.pki.serverKey, ca: c.pki.caCert };
  const warnings: string[] = [];
  const logger = { info() {}, warn: (_o: object, m: string) => warnings.push(m) };
  await t.throwsAsync(startListeningBroker({ plain: { host: '127.0.0.1', port: 0 }, tls: taken }, pem, { credentials: c.credentials, logger }), { code: 'EADDRINUSE' });
  const b = await startListeningBroker({ plain: { host: '127.0.0.1', port: 0 }, tls: taken, tlsDefaulted: true }, pem, { credentials: c.credentials, logger });
  t.teardown(() => b.close());
  t.is(b.tlsUrl, undefined);
  t.true(warnings.some((w) => /TLS port already in use/.test(w)));
});

test('pikube token create and show print the K10 form for this cluster\'s CA', async (t) => {
  const c = await tlsCluster();
  t.teardown(c.close);
  const shown = runCommand('token', ['show', '--data-dir', c.dataDir]);
  t.is(shown.code, 0, shown.stderr);
  t.is(shown.stdout.trim(), c.secureToken);
  const created = runCommand('token', ['create', '--ttl', '1h', '--data-dir', c.dataDir]);
  t.is(created.code, 0, created.stderr);
  const parsed = parseJoinToken(created.stdout.trim());
  t.is(parsed.caHash, caCertHash(c.pki.caCert));
  // The new token joins over TLS on its own.
  const creds = await obtainCredentials({ mqttUrl: c.broker.tlsUrl!, nodeName: 'pi-new', joinToken: created.stdout.trim(), dataDir: await tempDir('pikube-agent-'), timeoutMs: 8000 });
  t.is(creds.username, 'pi-new');
});

// `pikube mosquitto-config` writes a TLS listener too: a real Mosquitto serves the cluster
// CA's certificate (with the CA in its chain), and a board joins through it over mqtts://
// with only the K10 token, as it does with the embedded broker.
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { writeMosquittoConfig } from '../../controller/broker/mosquitto-config.js';
import { JoinService } from '../../controller/broker/join-service.js';
import { CONTROLLER_USERNAME, loadControllerPassword, ensureJoinToken } from '../../controller/broker/credentials.js';
import { obtainCredentials } from '../../agent/join.js';
import { caCertHash, formatSecureJoinToken } from '../../protocol/join-token.js';
import { waitFor } from '../helpers/wait.js';
import { connectLink, freePort, tempDir } from './helpers.js';

const mosquittoBinary = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find(existsSync);
if (!mosquittoBinary && process.env.CI === 'true') throw new Error('mosquitto is required in CI');
const maybe = mosquittoBinary ? test : test.skip;

const listening = (port: number) => new Promise<boolean>((resolve) => {
  const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
  s.on('error', () => resolve(false));
});

maybe('a board joins an external Mosquitto over TLS with only the K10 token', async (t) => {
  const dataDir = await tempDir('pikube-mosq-tls-');
  const [port, tlsPort] = [await freePort(), await freePort()];
  const files = await writeMosquittoConfig({ dataDir, listen: `127.0.0.1:${port}`, tlsListen: `127.0.0.1:${tlsPort}` });
  const conf = await readFile(files.conf, 'utf8');
  t.regex(conf, new RegExp(`^listener ${tlsPort} 127\\.0\\.0\\.1\\nprotocol mqtt\\ncertfile .*server\\.crt\\nkeyfile .*server\\.key`, 'm'));
  const child = spawn(mosquittoBinary!, ['-c', files.conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  t.teardown(() => { child.kill('SIGTERM'); });
  await waitFor('mosquitto on both listeners', async () => {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${stderr}`);
    return (await listening(port)) && (await listening(tlsPort));
  }, 10_000, 50);

  // The controller on the loopback listener, answering joins and adding nodes to mosquitto.
  const link = await connectLink(`mqtt://127.0.0.1:${port}`, { username: CONTROLLER_USERNAME, password: await loadControllerPassword(dataDir) });
  t.teardown(() => link.end());
  const service = new JoinService({ link, dataDir, externalBroker: 'mosquitto' });
  await service.start();
  t.teardown(() => service.stop());

  const ca = await readFile(join(dataDir, 'pki', 'ca.crt'), 'utf8');
  const token = formatSecureJoinToken(ca, await ensureJoinToken(dataDir));
  const agentDir = await tempDir('pikube-agent-');
  const creds = await obtainCredentials({ mqttUrl: `mqtts://127.0.0.1:${tlsPort}`, nodeName: 'pi-mosq', joinToken: token, dataDir: agentDir, timeoutMs: 10_000 });
  t.is(creds.username, 'pi-mosq');
  t.is(caCertHash(await readFile(join(agentDir, 'mqtt-ca.crt'), 'utf8')), caCertHash(ca));
  // And the node's own verified TLS connection works with what it kept.
  const node = await connectLink(`mqtts://127.0.0.1:${tlsPort}`, { username: creds.username, password: creds.password, clientId: 'pikube-agent-pi-mosq', ca: await readFile(join(agentDir, 'mqtt-ca.crt'), 'utf8') });
  await node.end();
});

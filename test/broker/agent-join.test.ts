import test from 'ava';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EmbeddedBroker } from '../../controller/broker/embedded-broker.js';
import { BrokerCredentials, ensureJoinToken } from '../../controller/broker/credentials.js';
import { JoinService } from '../../controller/broker/join-service.js';
import { JoinError, forgetCredentials, loadSavedCredentials, obtainCredentials } from '../../agent/join.js';
import { connectLink, freePort, tempDir } from './helpers.js';

async function cluster(withService: boolean) {
  const dataDir = await tempDir();
  const credentials = await BrokerCredentials.load(dataDir);
  const broker = await EmbeddedBroker.start({ listen: '127.0.0.1:0', credentials });
  const controller = await connectLink(broker.url, { username: 'pikube-controller', password: credentials.controllerPassword });
  const service = new JoinService({ link: controller, dataDir });
  if (withService) await service.start();
  const token = await ensureJoinToken(dataDir);
  return {
    dataDir, credentials, broker, token,
    close: async () => { await service.stop(); await controller.end(); await broker.close(); },
  };
}

test('joins once, saves 0600 credentials, and reuses them', async (t) => {
  const c = await cluster(true);
  t.teardown(c.close);
  const agentDir = await tempDir('pikube-agent-');
  const creds = await obtainCredentials({ mqttUrl: c.broker.url, nodeName: 'pi-7', joinToken: c.token, dataDir: agentDir, timeoutMs: 5000 });
  t.is(creds.username, 'pi-7');
  t.deepEqual(await c.credentials.authenticate('pi-7', creds.password, 'pikube-agent-pi-7'), { role: 'node', node: 'pi-7' });
  const file = join(agentDir, 'credentials.json');
  t.is((await stat(file)).mode & 0o777, 0o600);
  const { crc32, ...onDisk } = JSON.parse(await readFile(file, 'utf8'));
  t.deepEqual(onDisk, creds);
  t.regex(crc32, /^[0-9a-f]{8}$/, 'the file carries its checksum');
  t.deepEqual(await loadSavedCredentials(agentDir, 'pi-7'), creds);
  // Saved credentials of another node name are not used.
  t.is(await loadSavedCredentials(agentDir, 'pi-8'), undefined);
  await forgetCredentials(agentDir);
  t.is(await loadSavedCredentials(agentDir, 'pi-7'), undefined);
});

test('a damaged credentials file means joining again', async (t) => {
  const c = await cluster(true);
  t.teardown(c.close);
  const agentDir = await tempDir('pikube-agent-');
  await writeFile(join(agentDir, 'credentials.json'), '{"username":');
  const creds = await obtainCredentials({ mqttUrl: c.broker.url, nodeName: 'pi-9', joinToken: c.token, dataDir: agentDir, timeoutMs: 5000 });
  t.is(creds.username, 'pi-9');
  t.true((await readdir(agentDir)).some((f) => f.startsWith('credentials.json.bad-')), 'the damaged file is set aside');
  // One flipped byte in a sealed file: the password would be wrong, so it is not used.
  const sealed = await readFile(join(agentDir, 'credentials.json'), 'utf8');
  await writeFile(join(agentDir, 'credentials.json'), sealed.replace(/"password":"(.)/, (_m, c: string) => `"password":"${c === 'a' ? 'b' : 'a'}`));
  t.is(await loadSavedCredentials(agentDir, 'pi-9'), undefined);
});

test('clear errors: no controller answering, no broker, no token, bad name', async (t) => {
  const c = await cluster(false);
  t.teardown(c.close);
  const agentDir = await tempDir('pikube-agent-');
  const started = Date.now();
  const silent = await t.throwsAsync(obtainCredentials({ mqttUrl: c.broker.url, nodeName: 'pi-1', joinToken: c.token, dataDir: agentDir, timeoutMs: 800 }), { instanceOf: JoinError });
  t.regex(silent!.message, /no answer to the join request within 800 ms/);
  t.true(Date.now() - started < 4000);

  const port = await freePort();
  const down = await t.throwsAsync(obtainCredentials({ mqttUrl: `mqtt://127.0.0.1:${port}`, nodeName: 'pi-1', joinToken: c.token, dataDir: agentDir, timeoutMs: 800 }), { instanceOf: JoinError });
  t.regex(down!.message, /cannot reach the broker/);

  const noToken = await t.throwsAsync(obtainCredentials({ mqttUrl: c.broker.url, nodeName: 'pi-1', dataDir: agentDir }), { instanceOf: JoinError });
  t.regex(noToken!.message, /no join token/);

  await t.throwsAsync(obtainCredentials({ mqttUrl: c.broker.url, nodeName: 'Pi_1', joinToken: c.token, dataDir: agentDir }), { message: /DNS-1123/ });
  t.is(await loadSavedCredentials(agentDir, 'pi-1'), undefined, 'nothing saved after failures');
});

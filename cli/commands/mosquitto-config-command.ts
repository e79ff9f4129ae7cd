// `pikube mosquitto-config`: prepares an external Mosquitto 2.x for the cluster in the
// data dir (config, password file, ACL). The controller then adds nodes as they join.
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { HOMEASSISTANT_PASSWORD_FILE, writeMosquittoConfig } from '../../controller/broker/mosquitto-config.js';
import { HOMEASSISTANT_USERNAME } from '../../controller/homeassistant/homeassistant-topics.js';
import { defaultDataDir } from '../args.js';
import { assertMosquittoPlainListen } from '../../controller/broker/mosquitto-tls.js';

const USAGE = `Usage: pikube mosquitto-config [--data-dir DIR] [--listen HOST:PORT] [--tls-listen HOST:PORT|off] [--out DIR] [--node NAME ...] [--base-topic TOPIC] [--user NAME] [--homeassistant]

Writes mosquitto.conf (to --out, default <data-dir>/mosquitto), and the password file
and ACL (in <data-dir>/mosquitto) for running the cluster on an external Mosquitto.
  --data-dir DIR       the controller's data dir (default ${defaultDataDir('controller')})
  --listen HOST:PORT   mosquitto's plaintext listener, loopback only (default 127.0.0.1:1883)
  --insecure-listen    allow --listen off loopback (passwords and secrets travel in clear)
  --tls-listen HOST:PORT  its TLS listener for agents, certificate from the cluster CA
                       (default 0.0.0.0:8883; off for none)
  --out DIR            where mosquitto.conf goes
  --node NAME          a node to add to the password file now (repeatable)
  --base-topic TOPIC   MQTT base topic (default pikube)
  --user NAME          user mosquitto runs as (default: the data dir's owner, so that it
                       can read the files and the controller can make it reload)
  --homeassistant      add the MQTT user Home Assistant logs in as (${HOMEASSISTANT_USERNAME}; its
                       password goes to <data-dir>/${HOMEASSISTANT_PASSWORD_FILE})`;

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'data-dir': { type: 'string' },
        listen: { type: 'string' },
        'tls-listen': { type: 'string' },
        'insecure-listen': { type: 'boolean' },
        out: { type: 'string' },
        node: { type: 'string', multiple: true },
        'base-topic': { type: 'string' },
        user: { type: 'string' },
        homeassistant: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  try {
    assertMosquittoPlainListen(values.listen ?? '127.0.0.1:1883', values['insecure-listen'] ?? false);
    const tlsListen = values['tls-listen'] ?? '0.0.0.0:8883';
    const files = await writeMosquittoConfig({
      ...(tlsListen === 'off' ? {} : { tlsListen }),
      dataDir: values['data-dir'] ?? defaultDataDir('controller'),
      listen: values.listen,
      outDir: values.out,
      nodes: values.node ?? [],
      baseTopic: values['base-topic'],
      runAs: values.user,
      homeassistant: values.homeassistant ?? false,
    });
    process.stdout.write([
      `wrote ${files.conf}`,
      `wrote ${files.passwd}`,
      `wrote ${files.acl}`,
      `start mosquitto with: mosquitto -c ${files.conf}`,
      ...(values.homeassistant ? [`Home Assistant's MQTT user: ${HOMEASSISTANT_USERNAME}, password in ${join(values['data-dir'] ?? defaultDataDir('controller'), HOMEASSISTANT_PASSWORD_FILE)}`] : []),
      `then run the controller with its --mqtt-url pointing at that listener; it adds joining nodes and reloads mosquitto (pid file ${files.pid}).`,
      ...(tlsListen === 'off' ? [] : [`agents join over TLS: --mqtt-url mqtts://HOST:${tlsListen.replace(/^.*:/, '')} --join-token <the K10… token from pikube token show>`]),
      '',
    ].join('\n'));
    return 0;
  } catch (err) {
    process.stderr.write(`pikube mosquitto-config: ${(err as Error).message}\n`);
    return 1;
  }
}

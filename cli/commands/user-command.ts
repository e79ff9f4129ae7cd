// `pikube user add NAME [--group G]... [--ttl 8760h]` prints a kubeconfig with a client
// certificate the cluster CA signed; `pikube user revoke NAME` ends every certificate
// issued to NAME (the API server notices within a second); `pikube user list`.
import { parseArgs } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueUserCertificate, readUsers, revokeUser, userKubeconfig } from '../../controller/auth/user-certificates.js';
import { defaultDataDir, parseDuration, UsageError } from '../args.js';
import { issueMqttPassword } from '../../controller/auth/mqtt-users.js';
import { NodePasswords } from '../../controller/broker/node-passwords.js';
import { isReservedUsername } from '../../controller/broker/credentials.js';
import { HOMEASSISTANT_USERNAME } from '../../controller/homeassistant/homeassistant-topics.js';

/** The broker's own usernames are taken, and mosquitto's password file cannot hold a `:`. */
function checkMqttUserName(name: string): void {
  if (isReservedUsername(name) || name === HOMEASSISTANT_USERNAME) throw new UsageError(`"${name}" is one of the cluster's own MQTT usernames: pick another user name for MQTT`);
  if (name.includes(':')) throw new UsageError(`an MQTT user name cannot contain ":" (mosquitto's password file separates name and hash with it)`);
}

const USAGE = 'Usage: pikube user add NAME [--group G]... [--ttl 8760h] [--mqtt] [--server https://HOST:PORT] [--data-dir DIR]\n       (--mqtt: also MQTT credentials for the API over MQTT; the password is the last line printed)\n       pikube user revoke NAME [--data-dir DIR]\n       pikube user list [--data-dir DIR]\n';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      'data-dir': { type: 'string' }, group: { type: 'string', multiple: true }, ttl: { type: 'string', default: '8760h' },
      server: { type: 'string' }, mqtt: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { process.stdout.write(USAGE); return 0; }
  const dataDir = values['data-dir'] ?? defaultDataDir('controller');
  if (!existsSync(join(dataDir, 'pki', 'ca.key'))) throw new UsageError(`no cluster CA in ${dataDir}: start the controller first or give --data-dir`);
  const [sub, name] = positionals;
  switch (sub) {
    case 'add': {
      if (!name) throw new UsageError('missing user name');
      const ttlSeconds = Math.round(parseDuration(values.ttl!, '--ttl') / 1000);
      if (ttlSeconds <= 0) throw new UsageError('--ttl must be positive');
      let server = values.server;
      if (!server) {
        const admin = join(dataDir, 'kubeconfig');
        server = existsSync(admin) ? /server: "([^"]+)"/.exec(readFileSync(admin, 'utf8'))?.[1] : undefined;
        if (!server) throw new UsageError('no API address known yet: give --server https://HOST:PORT');
      }
      if (!/^https:\/\/[^\s"]+$/.test(server)) throw new UsageError('--server must be an https:// URL');
      // MQTT user names and node names share the broker's usernames: a joined node keeps its own.
      if (values.mqtt && new NodePasswords(dataDir).has(name)) throw new UsageError(`"${name}" is a node that joined the cluster: pick another user name for MQTT`);
      if (values.mqtt) checkMqttUserName(name);
      const issued = await issueUserCertificate(dataDir, name, values.group ?? [], ttlSeconds);
      process.stdout.write(userKubeconfig(server, readFileSync(join(dataDir, 'pki', 'ca.crt'), 'utf8'), name, issued.cert, issued.key));
      if (values.mqtt) process.stdout.write(`${issueMqttPassword(dataDir, name)}\n`);
      process.stderr.write(`user ${name} expires ${issued.expires.toISOString()}; grant it rights with kubectl create (cluster)rolebinding\n`);
      return 0;
    }
    case 'revoke': {
      if (!name) throw new UsageError('missing user name');
      if (!revokeUser(dataDir, name)) throw new UsageError(`no user "${name}"`);
      process.stderr.write(`user ${name} revoked\n`);
      return 0;
    }
    case 'list': {
      for (const [n, u] of Object.entries(readUsers(dataDir).users)) process.stdout.write(`${n}\tgroups=${u.groups.join(',') || '-'}\texpires ${u.expires ?? '-'}\n`);
      return 0;
    }
    default:
      throw new UsageError(sub ? `unknown user subcommand "${sub}"` : 'missing subcommand: add, revoke or list');
  }
}

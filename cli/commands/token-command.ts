// `pikube token create|list`: join tokens for new agents.
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { createJoinToken, listJoinTokens, JOIN_TOKEN_FILE } from '../../controller/broker/credentials.js';
import { defaultDataDir, parseDuration, UsageError } from '../args.js';
import { formatSecureJoinToken } from '../../protocol/join-token.js';

/** The token as agents take it, `K10<CA hash>::<token>`, so a board checks the broker's CA with it. */
function secureForm(dataDir: string, token: string): string {
  const caFile = join(dataDir, 'pki', 'ca.crt');
  if (!existsSync(caFile)) throw new UsageError(`${caFile} does not exist yet: start the controller once, then ask again`);
  return formatSecureJoinToken(readFileSync(caFile, 'utf8'), token);
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { 'data-dir': { type: 'string' }, ttl: { type: 'string', default: '24h' }, help: { type: 'boolean', short: 'h' } },
  });
  const usage = 'Usage: pikube token create [--ttl 24h] [--data-dir DIR]\n       pikube token list [--data-dir DIR]\n       pikube token show [--data-dir DIR]   (the first-start token)\n'
    + '\nTokens print as K10<sha256 of the cluster CA>::<token>: with one, a new agent checks the broker\'s\nTLS certificate before it sends anything, with nothing else to copy.\n';
  if (values.help) { process.stdout.write(usage); return 0; }
  const dataDir = values['data-dir'] ?? defaultDataDir('controller');
  if (!existsSync(dataDir)) throw new UsageError(`data directory ${dataDir} does not exist: start the controller first or give --data-dir`);
  switch (positionals[0]) {
    case 'create': {
      const ttlSeconds = Math.round(parseDuration(values.ttl!, '--ttl') / 1000);
      if (ttlSeconds <= 0) throw new UsageError('--ttl must be positive');
      const t = await createJoinToken(dataDir, ttlSeconds);
      process.stdout.write(`${secureForm(dataDir, t.token)}\n`);
      process.stderr.write(`expires ${t.expires}\n`);
      return 0;
    }
    case 'list': {
      for (const t of await listJoinTokens(dataDir)) process.stdout.write(`${t.id}\texpires ${t.expires}\n`);
      return 0;
    }
    case 'show': {
      process.stdout.write(`${secureForm(dataDir, readFileSync(join(dataDir, JOIN_TOKEN_FILE), 'utf8').trim())}\n`);
      return 0;
    }
    default:
      throw new UsageError(positionals[0] ? `unknown token subcommand "${positionals[0]}"` : 'missing subcommand: create, list or show');
  }
}

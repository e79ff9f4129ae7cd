#!/usr/bin/env node
// The `pikube` command: one binary, one subcommand per role or task.
import { UsageError } from './args.js';
import { agentV8Flags, setV8Flags } from './v8-flags.js';

/** A command: what `--help` says of it, its code, and the V8 flags it runs with (set before its code loads). */
interface Command { summary: string; load: () => Promise<{ run: (argv: string[]) => Promise<number> }>; v8Flags?: () => string[] }

const COMMANDS: Record<string, Command> = {
  up: { summary: 'controller, embedded broker and a local agent in one process (try it out)', load: () => import('./commands/up-command.js') },
  controller: { summary: 'run the control plane', load: () => import('./commands/controller-command.js') },
  agent: { summary: 'run a node agent', load: () => import('./commands/agent-command.js'), v8Flags: agentV8Flags },
  kubeconfig: { summary: 'print the admin kubeconfig', load: () => import('./commands/kubeconfig-command.js') },
  user: { summary: 'API users with client certificates: pikube user add NAME [--group G] | revoke NAME', load: () => import('./commands/user-command.js') },
  node: { summary: 'pikube node reset NAME: let a node name join again', load: () => import('./commands/node-command.js') },
  token: { summary: 'join tokens: pikube token create [--ttl 24h]', load: () => import('./commands/token-command.js') },
  'mosquitto-config': { summary: 'write mosquitto.conf, passwords and ACL for an external broker', load: () => import('./commands/mosquitto-config-command.js') },
  install: { summary: 'install systemd units: pikube install controller|agent', load: () => import('./commands/install-command.js') },
  store: { summary: 'store check, repair, snapshot save|restore', load: () => import('./commands/store-command.js') },
  'flash-config': { summary: 'write boot-partition files that join a fresh Pi', load: () => import('./commands/flash-config-command.js') },
};

/** Subcommands kept in files of their own, found before the command table. */
const SUBCOMMANDS: Record<string, () => Promise<{ run: (argv: string[]) => Promise<number> }>> = {
  'store migrate': () => import('./commands/store-migrate-command.js'),
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return `Usage: pikube <command> [flags]\n\n${Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`).join('\n')}\n\nRun 'pikube <command> --help' for a command's flags.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === 'version') {
    process.stdout.write('pikube 0.1.0\n');
    return 0;
  }
  const subKey = `${name} ${rest[0] ?? ''}`;
  const sub = subKey in SUBCOMMANDS ? { load: SUBCOMMANDS[subKey]! } : undefined;
  const cmd: Omit<Command, 'summary'> | undefined = sub ?? COMMANDS[name];
  if (sub) rest.shift();
  if (!cmd) {
    process.stderr.write(`pikube: unknown command "${name}" (see 'pikube --help')\n`);
    return 2;
  }
  try {
    if (cmd.v8Flags) setV8Flags(cmd.v8Flags());
    return await (await cmd.load()).run(rest);
  } catch (err) {
    // Bad flags: one readable line, non-zero exit.
    const e = err as Error & { code?: string };
    if (err instanceof UsageError || e.code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`pikube ${name}: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`pikube ${name}: ${e.message ?? String(err)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => {
  process.stderr.write(`pikube: ${String(err)}\n`);
  process.exitCode = 1;
});

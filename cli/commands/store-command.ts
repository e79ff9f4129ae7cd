// `pikube store …`: look after the controller's store. Each subcommand lives in its own
// module under ./store/; adding one is one line in SUBCOMMANDS.
import { UsageError } from '../args.js';

type Sub = { summary: string; load: () => Promise<{ run: (argv: string[]) => Promise<number> }> };

const SUBCOMMANDS: Record<string, Sub> = {
  check: { summary: 'verify the store files, change nothing (exit 1 when damaged)', load: () => import('./store/check-command.js') },
  repair: { summary: 'keep a copy of damaged files, keep every record that verifies', load: () => import('./store/repair-command.js') },
  'snapshot save': { summary: 'FILE: a consistent copy from the running controller', load: () => import('./store/snapshot-save-command.js') },
  'snapshot restore': { summary: 'FILE --data-dir DIR: a snapshot becomes the store of a new data dir', load: () => import('./store/snapshot-restore-command.js') },
};

function usage(): string {
  const width = Math.max(...Object.keys(SUBCOMMANDS).map((c) => c.length));
  return `Usage: pikube store <subcommand> [flags]\n\n${Object.entries(SUBCOMMANDS).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`).join('\n')}\n\nRun 'pikube store <subcommand> --help' for its flags.\n`;
}

export async function run(argv: string[]): Promise<number> {
  if (!argv[0] || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(usage());
    return argv[0] ? 0 : 2;
  }
  // The longest name that the arguments start with: `snapshot save` before `snapshot`.
  const name = Object.keys(SUBCOMMANDS).sort((a, b) => b.length - a.length)
    .find((n) => n.split(' ').every((w, i) => argv[i] === w));
  if (!name) throw new UsageError(`unknown store subcommand "${argv.slice(0, 2).join(' ')}" (see 'pikube store --help')`);
  return (await SUBCOMMANDS[name]!.load()).run(argv.slice(name.split(' ').length));
}

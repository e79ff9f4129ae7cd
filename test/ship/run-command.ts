// Runs one CLI subcommand (`cli/commands/<name>-command.js`) in a child process, as the
// CLI would, and collects its exit code and output.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCommand(name: string, argv: string[], env: NodeJS.ProcessEnv = process.env): CommandResult {
  const module = fileURLToPath(new URL(`../../cli/commands/${name}-command.js`, import.meta.url));
  const script = `const m = await import(${JSON.stringify(module)}); process.exitCode = await m.run(JSON.parse(process.argv[1]));`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(argv)], { encoding: 'utf8', env });
  if (result.error) throw result.error;
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** The package root, from dist/test/ship/. */
export const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));

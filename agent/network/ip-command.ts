// Runs iproute2 (`ip`) and says plainly when the agent may not change the host's network.
import { execa } from 'execa';

export interface CommandResult { ok: boolean; stdout: string; stderr: string }

export type CommandRunner = (cmd: string, args: string[], input?: string) => Promise<CommandResult>;

export const runCommand: CommandRunner = async (cmd, args, input) => {
  try {
    const r = await execa(cmd, args, { reject: false, timeout: 15_000, ...(input !== undefined ? { input } : { stdin: 'ignore' }) });
    return { ok: r.exitCode === 0, stdout: String(r.stdout), stderr: String(r.stderr) };
  } catch (err) {
    return { ok: false, stdout: '', stderr: String((err as Error).message ?? err) };
  }
};

/** Only root (or CAP_NET_ADMIN, which we do not probe) may change addresses, routes and rules. */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

// Runs iproute2 (`ip`) and says plainly when the agent may not change the host's network.
import { runProcess } from '../runtime/child-process.js';

export interface CommandResult { ok: boolean; stdout: string; stderr: string }

export type CommandRunner = (cmd: string, args: string[], input?: string) => Promise<CommandResult>;

export const runCommand: CommandRunner = async (cmd, args, input) => {
  const r = await runProcess(cmd, args, { timeoutMs: 15_000, ...(input !== undefined ? { input } : {}) });
  return { ok: r.exitCode === 0 && !r.failure, stdout: r.stdout, stderr: r.failure && !r.stderr ? r.failure : r.stderr };
};

/** Only root (or CAP_NET_ADMIN, which we do not probe) may change addresses, routes and rules. */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

// Runs one container CLI (nerdctl, podman, docker) through execa. Drivers never spawn
// processes themselves: they ask a CliExec so that tests can point it at a recorded fake.
import { execa } from 'execa';
import type { Logger } from 'pino';
import type { OutputSink } from './types.js';

export interface CliResult { exitCode: number; stdout: string; stderr: string }

export interface CliStreamOptions {
  signal?: AbortSignal;
  stdin?: NodeJS.ReadableStream;
  env?: Record<string, string>;
}

export class CliExec {
  constructor(
    readonly binary: string,
    /** Flags that go before every subcommand (namespace, address, runtime...). */
    private readonly globalArgs: () => string[],
    private readonly log?: Logger,
  ) {}

  argv(args: string[]): string[] {
    return [...this.globalArgs(), ...args];
  }

  /** Runs to completion and never throws for a non-zero exit: callers classify. */
  async run(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
    const argv = this.argv(args);
    this.log?.debug({ cmd: this.binary, argv }, 'runtime command');
    const result = await execa(this.binary, argv, {
      reject: false,
      stdin: 'ignore',
      env: opts.env,
      timeout: opts.timeoutMs,
      stripFinalNewline: false,
    });
    if (result.failed && result.exitCode === undefined) {
      // The binary could not be started at all (ENOENT, EACCES, timeout).
      return { exitCode: 127, stdout: '', stderr: String(result.originalMessage ?? result.message ?? '') };
    }
    return { exitCode: result.exitCode ?? 1, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
  }

  /**
   * Streams stdout/stderr chunks to the sink as they come. Resolves with the exit code
   * and the stderr text (kept so the caller can tell the CLI's own errors apart).
   * An abort ends the process and resolves with exit code -1.
   */
  async stream(args: string[], sink: OutputSink, opts: CliStreamOptions = {}): Promise<CliResult> {
    const argv = this.argv(args);
    this.log?.debug({ cmd: this.binary, argv }, 'runtime stream');
    const child = execa(this.binary, argv, {
      reject: false,
      buffer: false,
      stdin: opts.stdin ? 'pipe' : 'ignore',
      env: opts.env,
      cancelSignal: opts.signal,
      forceKillAfterDelay: 2000,
    });
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => sink('stdout', chunk));
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += chunk.toString('utf8');
      sink('stderr', chunk);
    });
    if (opts.stdin && child.stdin) {
      // A closed child stdin (process gone) must not crash the agent.
      child.stdin.on('error', () => {});
      opts.stdin.pipe(child.stdin);
    }
    const result = await child;
    if (result.isCanceled) return { exitCode: -1, stdout: '', stderr };
    if (result.failed && result.exitCode === undefined) {
      return { exitCode: 127, stdout: '', stderr: String(result.originalMessage ?? result.message ?? '') };
    }
    return { exitCode: result.exitCode ?? 1, stdout: '', stderr };
  }
}

// Runs one container CLI (nerdctl, podman, docker). Drivers never spawn
// processes themselves: they ask a CliExec so that tests can point it at a recorded fake.
import { runProcess, streamProcess, watchLines, type LineWatch } from './child-process.js';
import type { Logger } from 'pino';
import type { OutputSink } from './container-runtime.js';

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
    const started = this.log?.isLevelEnabled('debug') ? performance.now() : 0;
    const r = await runProcess(this.binary, argv, opts);
    // With its start line above, this times every CLI call (the pod-start breakdown reads both).
    if (started) this.log!.debug({ cmd: this.binary, argv, exitCode: r.exitCode, ms: Math.round(performance.now() - started) }, 'runtime command done');
    // The binary could not be started at all (ENOENT, EACCES, timeout): exit code 127.
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  }

  /**
   * Streams stdout/stderr chunks to the sink as they come. Resolves with the exit code
   * and the stderr text (kept so the caller can tell the CLI's own errors apart).
   * An abort ends the process and resolves with exit code -1.
   */
  async stream(args: string[], sink: OutputSink, opts: CliStreamOptions = {}): Promise<CliResult> {
    const argv = this.argv(args);
    this.log?.debug({ cmd: this.binary, argv }, 'runtime stream');
    let stderr = '';
    const r = await streamProcess(this.binary, argv, {
      ...opts,
      killAfterMs: 2000,
      onStdout: (chunk) => sink('stdout', chunk),
      onStderr: (chunk) => {
        if (stderr.length < 64 * 1024) stderr += chunk.toString('utf8');
        sink('stderr', chunk);
      },
    });
    if (r.exitCode === 127 && r.failure) return { exitCode: 127, stdout: '', stderr: r.failure };
    return { exitCode: r.exitCode, stdout: '', stderr };
  }

  /** A long-lived subcommand (an event stream) read line by line. */
  watch(args: string[], onLine: (line: string) => void): LineWatch {
    const argv = this.argv(args);
    this.log?.debug({ cmd: this.binary, argv }, 'runtime watch');
    return watchLines(this.binary, argv, onLine);
  }
}

// The agent's one way to start other programs, through execa: buffered runs, streamed
// runs (logs, exec) and long-lived line readers (runtime event streams).
import { execa, type ResultPromise } from 'execa';

export interface ProcessResult {
  /** The exit code; 127 when the program could not be started, or was killed by a timeout. */
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Set when the program never ran (ENOENT, EACCES) or was killed by a timeout. */
  failure?: string;
}

export interface RunOptions {
  /** Added to the agent's own environment. */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Written to stdin, then closed; otherwise stdin is /dev/null. */
  input?: string;
}

interface ExecaOutcome {
  exitCode?: number;
  stdout?: unknown;
  stderr?: unknown;
  failed: boolean;
  timedOut: boolean;
  isCanceled: boolean;
  signal?: string;
  shortMessage?: string;
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined ? '' : String(v);
}

/** An execa outcome in our terms: 127 and a reason when the program did not run to an exit code. */
function toResult(r: ExecaOutcome, cmd: string, timeoutMs?: number): ProcessResult {
  const stdout = text(r.stdout);
  const stderr = text(r.stderr);
  if (r.timedOut) {
    const failure = `${cmd} timed out after ${timeoutMs} ms`;
    return { exitCode: 127, stdout, stderr: stderr || failure, failure };
  }
  if (r.exitCode === undefined) {
    const failure = r.signal ? 'killed by a signal' : r.shortMessage ?? `${cmd} could not be started`;
    return { exitCode: 127, stdout, stderr: stderr || failure, failure };
  }
  return { exitCode: r.exitCode, stdout, stderr };
}

/** Runs to completion with output buffered; never throws. */
export async function runProcess(cmd: string, args: string[], opts: RunOptions = {}): Promise<ProcessResult> {
  const r = await execa(cmd, args, {
    reject: false, stripFinalNewline: false,
    env: opts.env, timeout: opts.timeoutMs, forceKillAfterDelay: 2000,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
  });
  return toResult(r as unknown as ExecaOutcome, cmd, opts.timeoutMs);
}

export interface StreamOptions {
  env?: Record<string, string>;
  stdin?: NodeJS.ReadableStream;
  /** Aborting ends the process (SIGTERM, SIGKILL after killAfterMs). */
  signal?: AbortSignal;
  killAfterMs?: number;
  onStdout(chunk: Buffer): void;
  onStderr(chunk: Buffer): void;
}

/** Streams output as it comes; resolves with the exit code, -1 when aborted. */
export async function streamProcess(cmd: string, args: string[], opts: StreamOptions): Promise<ProcessResult> {
  if (opts.signal?.aborted) return { exitCode: -1, stdout: '', stderr: '' };
  const child = execa(cmd, args, {
    reject: false, buffer: false, encoding: 'buffer',
    env: opts.env, cancelSignal: opts.signal, forceKillAfterDelay: opts.killAfterMs ?? 2000,
    stdin: opts.stdin ? 'pipe' : 'ignore',
  });
  child.stdout?.on('data', (c: Buffer) => opts.onStdout(c));
  child.stderr?.on('data', (c: Buffer) => opts.onStderr(c));
  if (opts.stdin && child.stdin) {
    // A closed child stdin (process gone) must not crash the agent.
    child.stdin.on('error', () => {});
    opts.stdin.pipe(child.stdin);
  }
  const r = (await child) as unknown as ExecaOutcome;
  if (opts.stdin && child.stdin) opts.stdin.unpipe(child.stdin);
  if (r.isCanceled) return { exitCode: -1, stdout: '', stderr: '' };
  const out = toResult({ ...r, stdout: '', stderr: '' }, cmd);
  return { exitCode: out.exitCode, stdout: '', stderr: out.failure ? out.stderr : '', ...(out.failure ? { failure: out.failure } : {}) };
}

export interface LineWatch {
  /** Resolves when the process has ended, with its exit code (127: could not start). */
  readonly done: Promise<number>;
  stop(): void;
}

/** Text in chunks → each whole, non-blank line (trimmed); a partial last line waits for the next chunk. */
export function lineSplitter(onLine: (line: string) => void): { push(text: string): void; reset(): void } {
  let rest = '';
  return {
    push(text) {
      rest += text;
      for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n')) {
        const line = rest.slice(0, nl).trim();
        rest = rest.slice(nl + 1);
        if (line) onLine(line);
      }
    },
    reset() { rest = ''; },
  };
}

/** A long-lived process whose stdout is read line by line (event streams). */
export function watchLines(cmd: string, args: string[], onLine: (line: string) => void, onStderr?: (text: string) => void): LineWatch {
  const child: ResultPromise = execa(cmd, args, { reject: false, buffer: false, stdin: 'ignore' });
  const lines = lineSplitter(onLine);
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => lines.push(chunk));
  child.stderr?.on('data', (c: Buffer) => onStderr?.(c.toString('utf8')));
  const done = child.then((r) => {
    const o = r as unknown as ExecaOutcome;
    return o.exitCode ?? (o.signal ? 1 : 127);
  });
  return { done, stop: () => { child.kill('SIGTERM'); } };
}

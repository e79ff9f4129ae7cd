// The agent's only way to start other programs: a thin layer over node:child_process.
// (A general-purpose process library costs an idle agent ~8 MB of resident memory for
// features it never uses; on a 1 GB board that matters more than convenience.)
import { spawn, type ChildProcess } from 'node:child_process';

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

function childEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv | undefined {
  return extra ? { ...process.env, ...extra } : undefined;
}

/** Runs to completion with output buffered; never throws. */
export function runProcess(cmd: string, args: string[], opts: RunOptions = {}): Promise<ProcessResult> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, { env: childEnv(opts.env), stdio: [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    } catch (err) {
      resolve({ exitCode: 127, stdout: '', stderr: String(err), failure: String(err) });
      return;
    }
    const out: Buffer[] = [];
    const errs: Buffer[] = [];
    let failure: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) {
      timer = setTimeout(() => {
        failure = `${cmd} timed out after ${opts.timeoutMs} ms`;
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 2000).unref();
      }, opts.timeoutMs);
    }
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => errs.push(c));
    if (opts.input !== undefined && child.stdin) {
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input);
    }
    child.on('error', (err) => { failure ??= err.message; });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(errs).toString('utf8');
      if (failure !== undefined || code === null) {
        resolve({ exitCode: 127, stdout, stderr: stderr || (failure ?? 'killed by a signal'), failure: failure ?? 'killed by a signal' });
      } else {
        resolve({ exitCode: code, stdout, stderr });
      }
    });
  });
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
export function streamProcess(cmd: string, args: string[], opts: StreamOptions): Promise<ProcessResult> {
  return new Promise((resolve) => {
    if (opts.signal?.aborted) { resolve({ exitCode: -1, stdout: '', stderr: '' }); return; }
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, { env: childEnv(opts.env), stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    } catch (err) {
      resolve({ exitCode: 127, stdout: '', stderr: String(err), failure: String(err) });
      return;
    }
    let aborted = false;
    let failure: string | undefined;
    const onAbort = () => {
      aborted = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 2000).unref();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout!.on('data', (c: Buffer) => opts.onStdout(c));
    child.stderr!.on('data', (c: Buffer) => opts.onStderr(c));
    if (opts.stdin && child.stdin) {
      // A closed child stdin (process gone) must not crash the agent.
      child.stdin.on('error', () => {});
      opts.stdin.pipe(child.stdin);
    }
    child.on('error', (err) => { failure ??= err.message; });
    child.on('close', (code) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (opts.stdin && child.stdin) opts.stdin.unpipe(child.stdin);
      if (aborted) resolve({ exitCode: -1, stdout: '', stderr: '' });
      else if (failure !== undefined || code === null) resolve({ exitCode: 127, stdout: '', stderr: failure ?? 'killed by a signal', failure: failure ?? 'killed by a signal' });
      else resolve({ exitCode: code, stdout: '', stderr: '' });
    });
  });
}

export interface LineWatch {
  /** Resolves when the process has ended, with its exit code (127: could not start). */
  readonly done: Promise<number>;
  stop(): void;
}

/** A long-lived process whose stdout is read line by line (event streams). */
export function watchLines(cmd: string, args: string[], onLine: (line: string) => void, onStderr?: (text: string) => void): LineWatch {
  let child: ChildProcess | undefined;
  const done = new Promise<number>((resolve) => {
    try {
      child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch {
      resolve(127);
      return;
    }
    let rest = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      rest += text;
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        const line = rest.slice(0, nl).trim();
        rest = rest.slice(nl + 1);
        if (line) onLine(line);
      }
    });
    child.stderr!.on('data', (c: Buffer) => onStderr?.(c.toString('utf8')));
    let failed = false;
    child.on('error', () => { failed = true; });
    child.on('close', (code) => resolve(failed ? 127 : (code ?? 1)));
  });
  return { done, stop: () => { child?.kill('SIGTERM'); } };
}

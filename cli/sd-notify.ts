// The systemd notification protocol (sd_notify): READY=1 once serving, WATCHDOG=1
// while alive, STOPPING=1 on the way out. Nothing happens unless systemd started us
// with NOTIFY_SOCKET set.
//
// Node cannot open unix datagram sockets (and the npm packages that can are native
// add-ons), so each message goes through the `systemd-notify` binary that ships with
// systemd itself. It understands abstract sockets (`@name`), and by default waits
// until the manager has processed the message, so the message is never lost to the
// helper exiting too early. The units set NotifyAccess=all because the sender is the
// helper, not our main process.
import { execFile } from 'node:child_process';

export interface NotifyOptions {
  /** Environment to read NOTIFY_SOCKET / WATCHDOG_* from; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** The helper binary; defaults to `systemd-notify` from PATH. */
  binary?: string;
}

export interface WatchdogOptions extends NotifyOptions {
  /** Our pid, compared with WATCHDOG_PID; defaults to process.pid. */
  pid?: number;
  /** Called when a ping could not be sent; defaults to one line on stderr. */
  onError?: (error: Error) => void;
}

const HELPER_TIMEOUT_MS = 10_000;

/** Splits `READY=1\nSTATUS=...` into assignments, refusing anything that is not one. */
export function parseState(state: string): string[] {
  const lines = state.split('\n').filter((line) => line.length > 0);
  if (lines.length === 0) throw new Error('sd_notify: empty state');
  for (const line of lines) {
    if (!/^[A-Z_][A-Z0-9_]*=/.test(line)) {
      throw new Error(`sd_notify: "${line}" is not a VARIABLE=value assignment`);
    }
  }
  return lines;
}

/**
 * Sends one notification (one or more `VARIABLE=value` lines). Resolves at once when
 * NOTIFY_SOCKET is unset; rejects when the helper is missing or fails.
 */
export async function notify(state: string, options: NotifyOptions = {}): Promise<void> {
  const assignments = parseState(state);
  const env = options.env ?? process.env;
  if (!env.NOTIFY_SOCKET) return;
  const binary = options.binary ?? 'systemd-notify';
  await new Promise<void>((resolve, reject) => {
    execFile(
      binary,
      assignments,
      { env: { ...env }, timeout: HELPER_TIMEOUT_MS, windowsHide: true },
      (error, _stdout, stderr) => {
        if (!error) return resolve();
        const detail = String(stderr).trim() || error.message;
        reject(new Error(`sd_notify: ${binary} failed: ${detail}`));
      },
    );
  });
}

function warn(error: unknown): void {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
}

/** Tells systemd that start-up is complete (READY=1, with an optional status line). */
export async function ready(status?: string, options: NotifyOptions = {}): Promise<void> {
  const state = status ? `READY=1\nSTATUS=${oneLine(status)}` : 'READY=1';
  await notify(state, options).catch(warn);
}

/** Tells systemd that a clean shutdown has begun (STOPPING=1). */
export async function stopping(options: NotifyOptions = {}): Promise<void> {
  await notify('STOPPING=1', options).catch(warn);
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/**
 * How often to ping, in milliseconds: half of WATCHDOG_USEC, or undefined when the
 * watchdog is off, meant for another process (WATCHDOG_PID), or without NOTIFY_SOCKET.
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): number | undefined {
  if (!env.NOTIFY_SOCKET || !env.WATCHDOG_USEC) return undefined;
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2 / 1000));
}

/**
 * Sends WATCHDOG=1 now and then every WATCHDOG_USEC/2 while the event loop is alive.
 * Returns a function that stops the pings. Does nothing when the watchdog is off.
 */
export function startWatchdog(options: WatchdogOptions = {}): () => void {
  const interval = watchdogIntervalMs(options.env ?? process.env, options.pid ?? process.pid);
  if (interval === undefined) return () => {};
  const onError = options.onError ?? warn;
  let inFlight = false;
  const ping = (): void => {
    // A slow helper must not pile up processes on a small board.
    if (inFlight) return;
    inFlight = true;
    notify('WATCHDOG=1', options)
      .catch((error: unknown) => onError(error instanceof Error ? error : new Error(String(error))))
      .finally(() => {
        inFlight = false;
      });
  };
  ping();
  const timer = setInterval(ping, interval);
  // The watchdog alone must not keep the process alive.
  timer.unref();
  return () => clearInterval(timer);
}

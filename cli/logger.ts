// One JSON logger for the process: to stdout, which journald keeps under systemd.
import { pino, type Logger } from 'pino';

export function createLogger(name: string, level = process.env.PIKUBE_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}

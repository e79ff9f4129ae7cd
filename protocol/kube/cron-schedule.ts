// Standard five-field cron schedules (and the @hourly/@daily/... macros) in a time zone,
// as upstream's CronJob reads them (robfig/cron: day-of-month OR day-of-week).
import { Cron } from 'croner';

export interface Schedule {
  /** The first scheduled time strictly after `after`, or undefined when there is none. */
  next(after: Date): Date | undefined;
}

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
};

/** Empty when the zone is one the runtime knows (IANA names, "UTC", "Etc/..."). */
export function timeZoneError(zone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return undefined;
  } catch {
    return `unknown time zone ${zone}`;
  }
}

/** Parses a schedule; throws an Error whose message says what is wrong. */
export function parseSchedule(schedule: string, timeZone?: string): Schedule {
  const text = schedule.trim();
  if (/^(CRON_)?TZ=/.test(text)) throw new Error('cannot use TZ or CRON_TZ in schedule, use timeZone field instead');
  const pattern = MACROS[text.toLowerCase()] ?? text;
  if (pattern.startsWith('@')) throw new Error(`unrecognized descriptor: ${text}`);
  if (pattern.split(/\s+/).length !== 5) throw new Error(`expected exactly 5 fields, found ${pattern.split(/\s+/).length}: ${text}`);
  if (timeZone) {
    const err = timeZoneError(timeZone);
    if (err) throw new Error(err);
  }
  let cron: Cron;
  try {
    cron = new Cron(pattern, { paused: true, mode: '5-part', ...(timeZone ? { timezone: timeZone } : {}) });
  } catch (err) {
    throw new Error(err instanceof Error ? err.message.replace(/^CronPattern: /, '') : String(err));
  }
  return { next: (after) => cron.nextRun(after) ?? undefined };
}

/** Stop counting missed runs here: like upstream, only the most recent one runs anyway. */
const MAX_COUNTED = 100;

/**
 * The most recent scheduled time in (earliest, now], and how many there were (capped at
 * 101, meaning "more than 100"). Upstream's mostRecentScheduleTime.
 */
export function mostRecentScheduleTime(schedule: Schedule, earliest: Date, now: Date): { time?: Date; missed: number } {
  let time: Date | undefined;
  let missed = 0;
  for (let t = schedule.next(earliest); t && t <= now; t = schedule.next(t)) {
    time = t;
    if (++missed > MAX_COUNTED) {
      // Jump to the last one before now without counting every step.
      let last = t;
      const step = schedule.next(t);
      const period = step ? step.getTime() - t.getTime() : 0;
      if (period > 0) {
        const skip = new Date(now.getTime() - 2 * period);
        if (skip > last) last = skip;
      }
      for (let u = schedule.next(last); u && u <= now; u = schedule.next(u)) time = u;
      break;
    }
  }
  return { time, missed };
}

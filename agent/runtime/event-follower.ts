// Keeps a runtime's event stream running: a long-lived child whose lines become
// RuntimeEvents. When it ends (runtime restarted, binary missing) it is started again
// with a growing delay, and `restarted` tells the listener that events may have been
// missed while it was down.
import type { Logger } from 'pino';
import type { LineWatch } from './child-process.js';
import type { EventWatch, RuntimeEvent } from './container-runtime.js';

export interface FollowOptions {
  start(onLine: (line: string) => void): LineWatch;
  parse(line: string): RuntimeEvent | undefined;
  onEvent(e: RuntimeEvent): void;
  log?: Logger;
  /** First respawn delay (doubles up to maxDelayMs; back to the first after a long run). */
  minDelayMs?: number;
  maxDelayMs?: number;
}

export function followEvents(o: FollowOptions): EventWatch {
  const minDelay = o.minDelayMs ?? 1000;
  const maxDelay = o.maxDelayMs ?? 30_000;
  let delay = minDelay;
  let stopped = false;
  let current: LineWatch | undefined;
  let timer: NodeJS.Timeout | undefined;
  let runs = 0;

  const deliver = (e: RuntimeEvent) => {
    try { o.onEvent(e); } catch (err) { o.log?.error({ err }, 'runtime event handler failed'); }
  };
  const spawnOnce = () => {
    if (stopped) return;
    const startedAt = Date.now();
    const watch = o.start((line) => {
      const e = o.parse(line);
      if (e) deliver(e);
    });
    current = watch;
    if (runs++ > 0) deliver({ type: 'restarted' });
    void watch.done.then((code) => {
      if (stopped) return;
      if (Date.now() - startedAt > 60_000) delay = minDelay;
      o.log?.warn({ code, retryInMs: delay }, 'runtime event stream ended; restarting it');
      timer = setTimeout(spawnOnce, delay);
      timer.unref();
      delay = Math.min(maxDelay, delay * 2);
    });
  };
  spawnOnce();
  return {
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      current?.stop();
    },
  };
}

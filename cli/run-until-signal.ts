// Shared by every long-running command: tell systemd we are ready, keep its watchdog
// fed, and on SIGTERM/SIGINT stop cleanly once. Its own module so that the agent does
// not load the controller's code just to wait for a signal.
import { constants } from 'node:os';
import { ready, startWatchdog, stopping } from './sd-notify.js';

/** Runs until SIGTERM/SIGINT; finishes in-flight work and exits 0. A second signal ends it at once. */
export async function runUntilSignal(stop: () => Promise<void>, log: { info: (o: object, m: string) => void }): Promise<number> {
  await ready();
  const stopWatchdog = startWatchdog();
  return new Promise((resolve) => {
    let stoppingNow = false;
    const onSignal = (signal: 'SIGTERM' | 'SIGINT') => {
      if (stoppingNow) {
        log.info({ signal }, 'second signal: exiting now');
        process.exit(128 + constants.signals[signal]);
      }
      stoppingNow = true;
      log.info({ signal }, 'shutting down');
      stopWatchdog();
      void stopping().finally(() => stop().then(() => resolve(0), () => resolve(1)));
    };
    // Listeners that stay: signal-exit (under execa, while a child runs) re-sends the signal
    // to the process when it finds itself the only listener left, which `once` would leave it.
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    process.on('SIGINT', () => onSignal('SIGINT'));
  });
}

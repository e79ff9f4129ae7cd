// Shared by every long-running command: tell systemd we are ready, keep its watchdog
// fed, and on SIGTERM/SIGINT stop cleanly once. Its own module so that the agent does
// not load the controller's code just to wait for a signal.
import { ready, startWatchdog, stopping } from './sd-notify.js';

/** Runs until SIGTERM/SIGINT; finishes in-flight work and exits 0. */
export async function runUntilSignal(stop: () => Promise<void>, log: { info: (o: object, m: string) => void }): Promise<number> {
  await ready();
  const stopWatchdog = startWatchdog();
  return new Promise((resolve) => {
    let stoppingNow = false;
    const onSignal = (signal: string) => {
      if (stoppingNow) return;
      stoppingNow = true;
      log.info({ signal }, 'shutting down');
      stopWatchdog();
      void stopping().finally(() => stop().then(() => resolve(0), () => resolve(1)));
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
}

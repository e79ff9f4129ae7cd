// `pikube user revoke` (or a user's expiry) ends its MQTT access at once, not at its next
// login: the embedded broker drops its live connections and the gateway ends its watches,
// which would otherwise stream on. (On mosquitto, the reload after the user sync drops them.)
import type { ControlLoop } from '../client/control-loop.js';

export interface RevocationSweepOptions {
  /** Whether the name is still an MQTT API user. */
  isUser: (name: string) => boolean;
  /** The embedded broker, when the controller runs one. */
  broker?: { dropUsers(keep: (user: string) => boolean): string[] };
  gateway: { usersWithWatches(): string[]; cancelWatches(user: string): number };
  log: { info(o: object, m: string): void };
  intervalMs?: number;
}

export function revocationSweep(opts: RevocationSweepOptions): ControlLoop {
  const sweep = () => {
    const dropped = opts.broker?.dropUsers(opts.isUser) ?? [];
    if (dropped.length) opts.log.info({ users: [...new Set(dropped)], connections: dropped.length }, 'MQTT connections of revoked users dropped');
    for (const user of opts.gateway.usersWithWatches()) {
      if (opts.isUser(user)) continue;
      const n = opts.gateway.cancelWatches(user);
      opts.log.info({ user, watches: n }, 'watches of a revoked MQTT user ended');
    }
  };
  let timer: NodeJS.Timeout | undefined;
  return {
    name: 'mqtt-user-revocation',
    start() {
      timer ??= setInterval(sweep, opts.intervalMs ?? 500);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}

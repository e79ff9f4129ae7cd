// How often an agent must say it is alive, derived from the controller's node monitor
// grace period. Upstream's kubelet reports every 10 s against a 40–50 s grace period;
// the same ratio (four beats per grace period) lets three beats be lost, a Wi-Fi blink,
// before a healthy node is called NotReady.
import type { ClusterConfigPayload } from './payloads.js';

/** Beats per grace period. */
export const BEATS_PER_GRACE_PERIOD = 4;
/** No faster than this: a Pi Zero's CPU and the broker have other work to do. */
export const MIN_HEARTBEAT_SECONDS = 1;
/** No slower than this, however long the grace period. */
export const MAX_HEARTBEAT_SECONDS = 30;
/** The shortest grace period that still leaves room for lost beats at the fastest rate. */
export const MIN_GRACE_PERIOD_SECONDS = BEATS_PER_GRACE_PERIOD * MIN_HEARTBEAT_SECONDS;
/** A full status (usage, pods) at least this often even when nothing moved. */
export const STATUS_REFRESH_SECONDS = 60;

export function clusterConfigFor(gracePeriodSeconds: number): ClusterConfigPayload {
  if (!(gracePeriodSeconds >= MIN_GRACE_PERIOD_SECONDS)) {
    throw new Error(`a node monitor grace period of ${gracePeriodSeconds}s is shorter than the ${MIN_GRACE_PERIOD_SECONDS}s it needs: agents beat at most once a second and ${BEATS_PER_GRACE_PERIOD - 1} lost beats must not mark a node NotReady`);
  }
  const beat = Math.min(MAX_HEARTBEAT_SECONDS, Math.max(MIN_HEARTBEAT_SECONDS, gracePeriodSeconds / BEATS_PER_GRACE_PERIOD));
  return {
    heartbeatSeconds: Math.round(beat * 100) / 100,
    nodeMonitorGracePeriodSeconds: gracePeriodSeconds,
    statusRefreshSeconds: Math.max(STATUS_REFRESH_SECONDS, Math.ceil(beat)),
  };
}

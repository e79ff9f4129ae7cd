// Kubernetes timestamps (metav1.Time) are RFC 3339 in UTC with whole seconds
// (k8s.io/apimachinery/pkg/apis/meta/v1/time.go): creation, deletion and transition times,
// status times the agent reports. Every such time is written here.

/** RFC 3339 with second precision (`2026-01-02T03:04:05Z`) of a time in ms since the epoch or a Date; now by default. */
export function rfc3339Seconds(at: number | Date = Date.now()): string {
  const ms = typeof at === 'number' ? at : at.getTime();
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

// Small formatting helpers shared by the printers; each mirrors how kubectl users expect
// labels, selectors and container lists to read.

/** `a=b,c=d` sorted by key, or `<none>`. */
export function formatLabels(labels: unknown): string {
  if (!isRecord(labels)) return '<none>';
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${String(labels[k])}`).join(',');
}

/** A label selector in selector syntax (`app=web,tier in (a,b),!gone`); empty string when it selects everything. */
export function selectorString(selector: unknown): string {
  if (!isRecord(selector)) return '';
  const parts: { key: string; text: string }[] = [];
  const matchLabels = isRecord(selector.matchLabels) ? selector.matchLabels : {};
  for (const [key, value] of Object.entries(matchLabels)) parts.push({ key, text: `${key}=${String(value)}` });
  const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  for (const e of expressions) {
    if (!isRecord(e) || typeof e.key !== 'string') continue;
    const values = Array.isArray(e.values) ? [...e.values].map(String).sort() : [];
    switch (e.operator) {
      case 'In': parts.push({ key: e.key, text: `${e.key} in (${values.join(',')})` }); break;
      case 'NotIn': parts.push({ key: e.key, text: `${e.key} notin (${values.join(',')})` }); break;
      case 'Exists': parts.push({ key: e.key, text: e.key }); break;
      case 'DoesNotExist': parts.push({ key: e.key, text: `!${e.key}` }); break;
      default: break;
    }
  }
  // Requirements read in key order, as upstream sorts them.
  parts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return parts.map((p) => p.text).join(',');
}

/** Like selectorString but `<none>` for an empty selector. */
export function formatLabelSelector(selector: unknown): string {
  return selectorString(selector) || '<none>';
}

/** Container names and images, each comma-joined. */
export function containerCells(containers: unknown): [string, string] {
  const list = Array.isArray(containers) ? containers.filter(isRecord) : [];
  return [list.map((c) => String(c.name ?? '')).join(','), list.map((c) => String(c.image ?? '')).join(',')];
}

/** An integer cell: numbers pass, anything else is 0. */
export function int(value: unknown, fallback = 0): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : fallback;
}

export function str(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback;
}

export function count(value: unknown): number {
  if (Array.isArray(value)) return value.length;
  if (isRecord(value)) return Object.keys(value).length;
  return 0;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Host and port joined the way Go's net.JoinHostPort does (brackets around IPv6). */
export function joinHostPort(host: string, port: unknown): string {
  return host.includes(':') ? `[${host}]:${String(port)}` : `${host}:${String(port)}`;
}

/** First items of a list, then `+ N more...` like upstream's long-list cells; `<unset>` when empty. */
export function listWithMore(items: string[], max = 3): string {
  if (items.length === 0) return '<unset>';
  const shown = items.slice(0, max).join(',');
  return items.length > max ? `${shown} + ${items.length - max} more...` : shown;
}

/** The object entries of a list, or none when it is not a list. */
export function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

// Label selectors: the string form of `?labelSelector=` and `kubectl -l`, and the
// structured LabelSelector of workloads. Both compile to one matcher.
import type { LabelSelector } from './types.js';

export type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' };

export type LabelMatcher = (labels: Record<string, string> | undefined) => boolean;

export class SelectorError extends Error {}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`. */
export function parseLabelSelector(text: string): Requirement[] {
  const reqs: Requirement[] = [];
  let s = text.trim();
  while (s.length) {
    let m: RegExpMatchArray | null;
    if ((m = s.match(/^!\s*([^\s,=!()]+)\s*(,|$)/))) {
      reqs.push({ key: checkKey(m[1]!), op: '!exists' });
    } else if ((m = s.match(/^([^\s,=!()]+)\s+(in|notin)\s*\(([^)]*)\)\s*(,|$)/))) {
      const values = m[3]!.split(',').map((v) => v.trim()).filter((v) => v.length > 0);
      reqs.push({ key: checkKey(m[1]!), op: m[2] as 'in' | 'notin', values });
    } else if ((m = s.match(/^([^\s,=!()]+)\s*(==|=|!=)\s*([^\s,=!()]*)\s*(,|$)/))) {
      reqs.push({ key: checkKey(m[1]!), op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]!] });
    } else if ((m = s.match(/^([^\s,=!()]+)\s*(,|$)/))) {
      reqs.push({ key: checkKey(m[1]!), op: 'exists' });
    } else {
      throw new SelectorError(`unable to parse requirement: ${JSON.stringify(s)}`);
    }
    s = s.slice(m[0].length).trim();
  }
  return reqs;
}

function checkKey(key: string): string {
  if (!KEY.test(key)) throw new SelectorError(`invalid label key "${key}"`);
  return key;
}

export function matcherFor(reqs: Requirement[]): LabelMatcher {
  if (reqs.length === 0) return () => true;
  return (labels) => reqs.every((r) => {
    const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
    switch (r.op) {
      case 'exists': return has;
      case '!exists': return !has;
      case 'in': return has && r.values.includes(labels![r.key]!);
      case 'notin': return !has || !r.values.includes(labels![r.key]!);
    }
  });
}

/** metav1.LabelSelector matching: an absent selector matches nothing, an empty one everything. */
export function selectorMatches(selector: LabelSelector | undefined | null, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  const have = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (have[k] !== v) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const present = Object.prototype.hasOwnProperty.call(have, req.key);
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In': if (!present || !values.includes(have[req.key]!)) return false; break;
      case 'NotIn': if (present && values.includes(have[req.key]!)) return false; break;
      case 'Exists': if (!present) return false; break;
      case 'DoesNotExist': if (present) return false; break;
      default: return false;
    }
  }
  return true;
}

export function isEmptySelector(selector: LabelSelector | undefined | null): boolean {
  return !!selector && Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}

/** `a=b,c=d` form of matchLabels (what kubectl shows as Selector). */
export function formatSelector(sel: LabelSelector | undefined): string {
  const parts = Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel?.matchExpressions ?? []) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator.toLowerCase()} (${(e.values ?? []).join(',')})`);
  }
  return parts.join(',');
}

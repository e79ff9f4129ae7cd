// Field selectors (`?fieldSelector=spec.nodeName=pi-01,status.phase!=Failed`): equality
// on dotted paths, as upstream allows for the fields each kind indexes.
import type { KubeObject } from '../../protocol/kube/types.js';
import { badRequest } from './errors.js';

interface FieldRequirement { path: string[]; value: string; negate: boolean; zero: string }

/** Selectable fields whose name is not their path (upstream JobToSelectableFields). */
const ALIASES: Record<string, { path: string; zero: string }> = {
  'status.successful': { path: 'status.succeeded', zero: '0' },
};

export type FieldMatcher = (obj: KubeObject) => boolean;

export function parseFieldSelector(text: string | undefined | null): FieldMatcher {
  if (!text) return () => true;
  const reqs: FieldRequirement[] = [];
  for (const part of text.split(',')) {
    if (!part.trim()) continue;
    const m = part.match(/^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$/);
    if (!m) throw badRequest(`invalid field selector: ${JSON.stringify(part)}`);
    const alias = ALIASES[m[1]!];
    reqs.push({ path: (alias?.path ?? m[1]!).split('.'), value: m[3]!, negate: m[2] === '!=', zero: alias?.zero ?? '' });
  }
  return (obj) => reqs.every((r) => {
    let v: unknown = obj;
    for (const p of r.path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
    const actual = v === undefined || v === null ? r.zero : String(v);
    return r.negate ? actual !== r.value : actual === r.value;
  });
}

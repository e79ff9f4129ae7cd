/** Which rules apply to which kind beyond the schema: those its module under kinds/ declares. */
import { dns1123Subdomain } from './names.js';
import { kindNamed } from '../kinds/index.js';
import type { KindRules } from './spec-rules.js';

export type { KindRules } from './spec-rules.js';

const DEFAULT_RULES: KindRules = { name: dns1123Subdomain };

export function rulesFor(group: string, kind: string): KindRules {
  return kindNamed(group, kind)?.validation ?? DEFAULT_RULES;
}

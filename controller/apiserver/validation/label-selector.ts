/** metav1.LabelSelector: syntax checks and matching against a label set. */
import { FieldPath, forbidden, invalid, notSupported, required, type FieldCause } from './field-cause.js';
import { labelValue, qualifiedName } from './names.js';
import { validateLabels } from './object-meta.js';
import { asArray, asObj, asString } from './shape.js';

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

export function validateLabelSelector(selectorValue: unknown, path: FieldPath): FieldCause[] {
  const selector = asObj(selectorValue);
  if (!selector) return [];
  const causes = validateLabels(selector.matchLabels, path.child('matchLabels'));
  asArray(selector.matchExpressions).forEach((raw, i) => {
    const expr = asObj(raw);
    if (!expr) return;
    const p = path.child('matchExpressions').index(i);
    const key = asString(expr.key) ?? '';
    for (const e of qualifiedName(key)) causes.push(invalid(p.child('key').toString(), key, e));
    const values = asArray(expr.values);
    const op = expr.operator;
    if (op === 'In' || op === 'NotIn') {
      if (values.length === 0) causes.push(required(p.child('values').toString(), "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if (op === 'Exists' || op === 'DoesNotExist') {
      if (values.length > 0) causes.push(forbidden(p.child('values').toString(), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
    } else {
      causes.push(notSupported(p.child('operator').toString(), op, OPERATORS));
    }
    values.forEach((v, j) => {
      if (typeof v === 'string') for (const e of labelValue(v)) causes.push(invalid(p.child('values').index(j).toString(), v, e));
    });
  });
  return causes;
}

export function isEmptySelector(selectorValue: unknown): boolean {
  const s = asObj(selectorValue);
  return !s || (Object.keys(asObj(s.matchLabels) ?? {}).length === 0 && asArray(s.matchExpressions).length === 0);
}

/** True when the labels satisfy every requirement of the selector. */
export function selectorMatches(selectorValue: unknown, labelsValue: unknown): boolean {
  const selector = asObj(selectorValue) ?? {};
  const labels = asObj(labelsValue) ?? {};
  for (const [k, v] of Object.entries(asObj(selector.matchLabels) ?? {})) if (labels[k] !== v) return false;
  for (const raw of asArray(selector.matchExpressions)) {
    const expr = asObj(raw) ?? {};
    const key = String(expr.key);
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    const values = asArray(expr.values);
    switch (expr.operator) {
      case 'In': if (!has || !values.includes(labels[key])) return false; break;
      case 'NotIn': if (has && values.includes(labels[key])) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

// Selector parameters checked like upstream's: label keys and values are qualified names
// and label values (a 5,000-character key is a 400, not an empty list); custom resources
// take only metadata.name and metadata.namespace as field selectors.
import { parseLabelSelector, SelectorError } from '../../../protocol/kube/labels.js';
import { badRequest } from '../errors.js';
import type { ResourceInfo } from '../resources.js';
import { labelValue, qualifiedName } from '../validation/names.js';

function shown(v: string): string {
  return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}...` : v);
}

export function checkSelectorParams(q: URLSearchParams, info: ResourceInfo): void {
  const labels = q.get('labelSelector');
  if (labels) {
    let reqs;
    try {
      reqs = parseLabelSelector(labels);
    } catch (err) {
      if (err instanceof SelectorError) throw badRequest(`unable to parse requirement: ${err.message}`);
      throw err;
    }
    for (const r of reqs) {
      const keyProblems = qualifiedName(r.key);
      if (keyProblems.length) throw badRequest(`invalid value for query parameter "labelSelector": unable to parse requirement: key: Invalid value: ${shown(r.key)}: ${keyProblems.join('; ')}`);
      if ('values' in r) {
        for (const v of r.values) {
          const valueProblems = labelValue(v);
          if (valueProblems.length) throw badRequest(`invalid value for query parameter "labelSelector": unable to parse requirement: values[0][${r.key}]: Invalid value: ${shown(v)}: ${valueProblems.join('; ')}`);
        }
      }
    }
  }
  const fields = q.get('fieldSelector');
  if (fields && info.custom) {
    for (const part of fields.split(',')) {
      const key = part.split(/!=|==|=/)[0]!.trim();
      if (key && key !== 'metadata.name' && key !== 'metadata.namespace') {
        throw badRequest(`invalid value for query parameter "fieldSelector": "${key}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
      }
    }
  }
}

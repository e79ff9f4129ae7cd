// Query parameters read as upstream's parameter codec reads them: booleans as Go's
// strconv.ParseBool, integers range-checked, enumerations and resource versions checked,
// and every bad value a 400 that names its parameter.
import { badRequest } from '../errors.js';

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

function badParam(name: string, value: string, why: string) {
  return badRequest(`invalid value for query parameter "${name}": ${JSON.stringify(value)}: ${why}`);
}

/** Go's strconv.ParseBool; an empty value counts as unset (as upstream's codec treats it). */
export function boolParam(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw badParam(name, v, `strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
}

export function flag(q: URLSearchParams, name: string): boolean {
  return boolParam(q, name) ?? false;
}

/** A base-10 integer within [min, max]; undefined when absent. */
export function intParam(q: URLSearchParams, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw badParam(name, v, `strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw badParam(name, v, `strconv.ParseInt: parsing ${JSON.stringify(v)}: value out of range`);
  if (n < min) throw badParam(name, v, `must be greater than or equal to ${min}`);
  if (n > max) throw badParam(name, v, `must be less than or equal to ${max}`);
  return n;
}

export function enumParam<T extends string>(q: URLSearchParams, name: string, allowed: readonly T[]): T | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw badParam(name, v, `supported values: ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
  return v as T;
}

/** resourceVersion: empty or an unsigned integer (what this store hands out). */
export function resourceVersionParam(q: URLSearchParams): string | undefined {
  const v = q.get('resourceVersion');
  if (v === null || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw badRequest(`invalid value for query parameter "resourceVersion": ${JSON.stringify(v)}: invalid resource version`);
  return v;
}

const BOOLEANS = ['watch', 'allowWatchBookmarks', 'sendInitialEvents', 'pretty', 'force', 'orphanDependents', 'ignoreStoreReadErrorWithClusterBreakingPotential'];

/**
 * Checks every parameter the generic verbs take, before anything runs; subresources
 * with parameters of their own (pods/log, exec) check theirs separately.
 */
export function checkCommonParams(q: URLSearchParams): void {
  for (const name of BOOLEANS) boolParam(q, name);
  intParam(q, 'limit', 0);
  intParam(q, 'timeoutSeconds', 0);
  intParam(q, 'gracePeriodSeconds', 0);
  resourceVersionParam(q);
  enumParam(q, 'resourceVersionMatch', ['NotOlderThan', 'Exact']);
  enumParam(q, 'fieldValidation', ['Ignore', 'Warn', 'Strict']);
  enumParam(q, 'propagationPolicy', ['Orphan', 'Background', 'Foreground']);
  enumParam(q, 'includeObject', ['None', 'Metadata', 'Object']);
  for (const d of q.getAll('dryRun')) if (d !== 'All' && d !== '') throw badParam('dryRun', d, 'supported values: "All"');
  const fm = q.get('fieldManager');
  if (fm !== null && fm.length > 128) throw badParam('fieldManager', fm.slice(0, 20) + '...', 'must be at most 128 characters');
  if (q.get('resourceVersionMatch') && !q.get('resourceVersion')) {
    throw badRequest('invalid value for query parameter "resourceVersionMatch": resourceVersionMatch is forbidden unless resourceVersion is provided');
  }
}

/** pods/log parameters (upstream's PodLogOptions validation), checked before the request is relayed to a node. */
export function checkLogParams(q: URLSearchParams): void {
  for (const name of ['follow', 'previous', 'timestamps', 'insecureSkipTLSVerifyBackend', 'pretty']) boolParam(q, name);
  intParam(q, 'tailLines', 0);
  intParam(q, 'limitBytes', 1);
  intParam(q, 'sinceSeconds', 1);
  const sinceTime = q.get('sinceTime');
  if (sinceTime !== null && sinceTime !== '') {
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(sinceTime) || Number.isNaN(Date.parse(sinceTime))) {
      throw badParam('sinceTime', sinceTime, 'must be an RFC 3339 time');
    }
    if (q.get('sinceSeconds')) throw badRequest('invalid value for query parameter "sinceSeconds": at most one of sinceTime or sinceSeconds may be specified');
  }
  enumParam(q, 'stream', ['All', 'Stdout', 'Stderr']);
}

// Reads the HTTP-style code out of whatever the in-process client throws (an ApiError
// carrying a Kubernetes Status), so controllers can treat 404/409 as normal outcomes.

export function errorCode(err: unknown): number | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; statusCode?: unknown; status?: unknown };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.statusCode === 'number') return e.statusCode;
  if (typeof e.status === 'number') return e.status;
  if (e.status && typeof e.status === 'object' && typeof (e.status as { code?: unknown }).code === 'number') {
    return (e.status as { code: number }).code;
  }
  return undefined;
}

export function errorReason(err: unknown): string | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { reason?: unknown; status?: unknown };
  if (typeof e.reason === 'string') return e.reason;
  if (e.status && typeof e.status === 'object' && typeof (e.status as { reason?: unknown }).reason === 'string') {
    return (e.status as { reason: string }).reason;
  }
  return undefined;
}

export const isNotFound = (err: unknown): boolean => errorCode(err) === 404 || errorReason(err) === 'NotFound';
export const isConflict = (err: unknown): boolean => errorCode(err) === 409 && errorReason(err) !== 'AlreadyExists';
export const isAlreadyExists = (err: unknown): boolean => errorReason(err) === 'AlreadyExists';

/** Runs an API call where "already gone" is success. */
export async function ignoreNotFound<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

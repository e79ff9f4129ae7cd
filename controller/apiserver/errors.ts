// API errors as Kubernetes Status objects: what kubectl prints comes from here.
export interface StatusCause { reason?: string; message: string; field?: string }

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  code: number;
}

export class ApiError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string, readonly details?: StatusBody['details']) {
    super(message);
    this.name = 'ApiError';
  }

  status(): StatusBody {
    return {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: this.message, reason: this.reason, ...(this.details ? { details: this.details } : {}), code: this.code,
    };
  }
}

export const notFound = (resource: string, name: string, group = '') =>
  new ApiError(404, 'NotFound', `${resource}${group ? '.' + group : ''} "${name}" not found`, { name, ...(group ? { group } : {}), kind: resource });

export const alreadyExists = (resource: string, name: string, group = '') =>
  new ApiError(409, 'AlreadyExists', `${resource}${group ? '.' + group : ''} "${name}" already exists`, { name, ...(group ? { group } : {}), kind: resource });

export const conflict = (resource: string, name: string, group = '', why = 'the object has been modified; please apply your changes to the latest version and try again') =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${resource}${group ? '.' + group : ''} "${name}": ${why}`, { name, ...(group ? { group } : {}), kind: resource });

export const badRequest = (message: string) => new ApiError(400, 'BadRequest', message);

export const methodNotAllowed = (message = 'the server does not allow this method on the requested resource') =>
  new ApiError(405, 'MethodNotAllowed', message);

export const forbidden = (message: string, details?: StatusBody['details']) => new ApiError(403, 'Forbidden', message, details);

export const unauthorized = () => new ApiError(401, 'Unauthorized', 'Unauthorized');

export const expired = (message: string) => new ApiError(410, 'Expired', message);

export function invalid(kind: string, name: string, group: string, causes: StatusCause[]): ApiError {
  const parts = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const summary = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${kind} "${name}" is invalid: ${summary}`, { name, ...(group ? { group } : {}), kind, causes });
}

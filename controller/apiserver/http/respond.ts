// Writing responses: JSON objects, Status errors, and server-side Tables when asked.
import type { ServerResponse, IncomingMessage } from 'node:http';
import { ApiError } from '../errors.js';

export function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': data.length, 'Cache-Control': 'no-cache, private' });
  res.end(data);
}

export function sendError(res: ServerResponse, err: unknown): void {
  const api = err instanceof ApiError ? err : new ApiError(500, 'InternalError', `Internal error occurred: ${(err as Error)?.message ?? String(err)}`);
  if (res.headersSent) { res.destroy(); return; }
  sendJson(res, api.code, api.status());
}

export interface TableWanted { includeObject: 'None' | 'Metadata' | 'Object' }

/** kubectl asks for `application/json;as=Table;v=v1;g=meta.k8s.io` first. */
export function wantsTable(req: IncomingMessage, query: URLSearchParams): TableWanted | undefined {
  const accept = req.headers.accept ?? '';
  const first = accept.split(',').find((a) => a.includes('as=Table') && a.includes('g=meta.k8s.io'));
  if (!first) return undefined;
  const inc = query.get('includeObject');
  return { includeObject: inc === 'None' || inc === 'Object' ? inc : 'Metadata' };
}

export const TABLE_CONTENT_TYPE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

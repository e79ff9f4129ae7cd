// Watch responses: chunked, one JSON event per line, optional bookmarks, ending at
// timeoutSeconds, and 410 Expired as an ERROR event like upstream.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../../protocol/kube/types.js';
import type { ApiCore, ApiWatchEvent } from '../api-core.js';
import { ApiError } from '../errors.js';
import { apiVersion, type ResourceInfo } from '../resources.js';
import { toTable } from '../tables/index.js';
import { TABLE_CONTENT_TYPE, type TableWanted } from './respond.js';
import { flag, intParam } from './query-params.js';

export interface WatchRequest {
  info: ResourceInfo;
  namespace?: string;
  query: URLSearchParams;
  table?: TableWanted;
}

const BOOKMARK_EVERY_MS = 15_000;

export function serveWatch(core: ApiCore, req: IncomingMessage, res: ServerResponse, w: WatchRequest, onCount?: (delta: number) => void): void {
  const q = w.query;
  const bookmarks = flag(q, 'allowWatchBookmarks');
  const timeoutSeconds = intParam(q, 'timeoutSeconds', 0) ?? 0;
  res.writeHead(200, {
    'Content-Type': w.table ? TABLE_CONTENT_TYPE : 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  res.flushHeaders();
  let lastRv = q.get('resourceVersion') ?? '0';
  const write = (type: string, object: unknown) => {
    res.write(JSON.stringify({ type, object }) + '\n');
  };
  const render = (e: ApiWatchEvent): unknown => {
    if (!w.table) return e.object;
    return toTable(w.info.group, w.info.resource, [e.object as KubeObject], { resourceVersion: e.object.metadata.resourceVersion ?? lastRv, includeObject: w.table.includeObject });
  };
  let stop: (() => void) | undefined;
  try {
    stop = core.watch(w.info, w.namespace, {
      labelSelector: q.get('labelSelector') ?? undefined,
      fieldSelector: q.get('fieldSelector') ?? undefined,
      resourceVersion: q.get('resourceVersion') ?? undefined,
    }, (e) => {
      lastRv = e.object.metadata.resourceVersion ?? lastRv;
      write(e.type, render(e));
    });
  } catch (err) {
    if (err instanceof ApiError && err.code === 410) {
      write('ERROR', err.status());
      res.end();
      return;
    }
    throw err;
  }
  onCount?.(1);
  const timers: NodeJS.Timeout[] = [];
  if (bookmarks) {
    timers.push(setInterval(() => {
      write('BOOKMARK', { kind: w.info.kind, apiVersion: apiVersion(w.info), metadata: { resourceVersion: String(core.store.revision) } });
    }, BOOKMARK_EVERY_MS));
  }
  if (timeoutSeconds > 0) timers.push(setTimeout(() => res.end(), timeoutSeconds * 1000));
  const done = () => {
    if (!stop) return;
    stop();
    stop = undefined;
    for (const t of timers) clearTimeout(t);
    onCount?.(-1);
  };
  res.on('close', done);
  req.on('close', done);
}

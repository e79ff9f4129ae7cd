// Replays one resource's changes from etcd's own history, for a watch that resumes from a
// revision older than the in-memory window (after a controller restart or a failover the
// window starts empty, while etcd keeps every revision until it is compacted). Once the
// watch exists, a marker key inside the watched range is written: its event tells that
// etcd has sent everything before it (etcd 3.4 answers a progress request before an
// unsynced watcher has caught up, so that cannot tell), and the caller switches to the
// mirror's live events from there.
import type { Etcd3, IWatchResponse, IWatchRequest } from 'etcd3';
import { Range } from 'etcd3';
import { randomBytes } from 'node:crypto';

interface WatchStream {
  write(req: IWatchRequest): void;
  on(event: 'data', cb: (res: IWatchResponse) => void): WatchStream;
  on(event: 'error', cb: (err: Error) => void): WatchStream;
  on(event: 'end', cb: () => void): WatchStream;
  cancel(): void;
}
interface RawWatchClient { watch(): Promise<WatchStream> }

export interface HistoryHandlers {
  onResponse: (res: IWatchResponse) => void;
  /** etcd has delivered everything up to the marker's revision. */
  onCaughtUp: (revision: number) => void;
  /** The history is gone (compacted) or the stream broke before catching up. */
  onFailed: (err: Error) => void;
}

/**
 * Streams events of `prefix` from `fromRevision + 1` until the marker's own event. The
 * marker is the bare prefix (`<registry><gr>/`), which is no object's key.
 */
export function replayHistory(client: Etcd3, prefix: string, fromRevision: number, h: HistoryHandlers): () => void {
  // The client keeps its raw watch service to itself; a progress request needs the stream.
  const raw = (client as unknown as { watchClient: RawWatchClient }).watchClient;
  let stream: WatchStream | undefined;
  let done = false;
  const finish = () => {
    done = true;
    try { stream?.cancel(); } catch { /* already closed */ }
  };
  const range = Range.prefix(prefix);
  // Other resumptions write the same key: ours is the one with our token.
  const token = randomBytes(8).toString('hex');
  raw.watch().then((s) => {
    if (done) { s.cancel(); return; }
    stream = s;
    s.on('data', (res) => {
      if (done) return;
      if (res.canceled) {
        finish();
        h.onFailed(new Error(`history watch cancelled${Number(res.compact_revision) > 0 ? `: compacted at ${res.compact_revision}` : ''}: ${res.cancel_reason ?? ''}`));
        return;
      }
      if (res.created) {
        client.put(prefix).value(token).exec().catch((err: Error) => { if (!done) { finish(); h.onFailed(err); } });
        return;
      }
      const at = res.events.findIndex((e) => e.kv.key.toString('utf8') === prefix && e.kv.value.toString('utf8') === token);
      if (at < 0) { if (res.events.length > 0) h.onResponse(res); return; }
      h.onResponse({ ...res, events: res.events.slice(0, at) });
      finish();
      h.onCaughtUp(Number(res.events[at]!.kv.mod_revision));
    });
    s.on('error', (err) => { if (!done) { finish(); h.onFailed(err); } });
    s.on('end', () => { if (!done) { finish(); h.onFailed(new Error('history watch ended')); } });
    s.write({ create_request: { key: range.start, range_end: range.end, start_revision: String(fromRevision + 1), prev_kv: true } as never });
  }, (err: Error) => { if (!done) { done = true; h.onFailed(err); } });
  return finish;
}

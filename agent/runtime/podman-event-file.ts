// podman's `file` event logger (its default where it finds no systemd journal: Alpine,
// OpenRC boards, podman inside a container) appends one JSON record per line to an
// events.log, and `podman events` follows that file by polling it, a third of a percent
// of a core on a board where nothing happens. Where podman names that file, the agent
// reads it itself, woken by inotify, so nothing runs while nothing happens. The records
// are the ones `podman events --format json` prints (libpod/events/logfile.go writes
// them), so the same parser reads both.
import { watch, type FSWatcher } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { lineSplitter, type LineWatch } from './child-process.js';

/**
 * The events file podman names in its debug log (`podman --log-level=debug events`):
 * podman resolves containers.conf, rootless paths and its tmp dir itself. Undefined when
 * the logger is not `file` (journald, none) or the line is not there.
 */
export function eventFileFromDebugLog(stderr: string): string | undefined {
  if (!/Initializing event backend file\b/.test(stderr)) return undefined;
  return /Reading events from file \\?"([^"\\]+)\\?"/.exec(stderr)?.[1];
}

/**
 * Follows `path` from its current end, a line at a time, until stopped. A file that is
 * replaced or removed ends the watch (code 0), as does a read error (1) or a file that
 * cannot be opened (127): the caller starts a new stream and relists, as when a runtime's
 * event process ends. A file cut shorter than what was read is read again from its start.
 */
export function followFile(path: string, onLine: (line: string) => void): LineWatch {
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => { resolveDone = r; });
  let fh: FileHandle | undefined;
  let watcher: FSWatcher | undefined;
  let offset = 0;
  let decoder = new StringDecoder('utf8');
  const lines = lineSplitter(onLine);
  let reading: Promise<void> | undefined;
  let again = false;
  let ended = false;
  const buf = Buffer.alloc(64 * 1024);

  const end = (code: number) => {
    if (ended) return;
    ended = true;
    watcher?.close();
    void fh?.close().catch(() => undefined);
    resolveDone(code);
  };
  // One reader at a time; a wake-up during a read makes it look once more, and waits for it.
  const drain = (): Promise<void> => {
    if (reading) { again = true; return reading; }
    reading = readNew().finally(() => { reading = undefined; });
    return reading;
  };
  const readNew = async (): Promise<void> => {
    try {
      do {
        again = false;
        const { size } = await fh!.stat();
        if (size < offset) { offset = 0; lines.reset(); decoder = new StringDecoder('utf8'); }
        while (offset < size && !ended) {
          const { bytesRead } = await fh!.read(buf, 0, Math.min(buf.length, size - offset), offset);
          if (bytesRead === 0) break;
          offset += bytesRead;
          lines.push(decoder.write(buf.subarray(0, bytesRead)));
        }
      } while (again && !ended);
    } catch {
      end(1);
    }
  };

  void (async () => {
    try {
      fh = await open(path, 'r');
      offset = (await fh.stat()).size;
      if (ended) { void fh.close().catch(() => undefined); return; }
      watcher = watch(path, { persistent: false }, (type) => {
        if (type === 'rename') void drain().then(() => end(0));
        else void drain();
      });
      watcher.on('error', () => end(1));
      // Anything appended between the open and the watch.
      await drain();
    } catch {
      end(127);
    }
  })();
  return { done, stop: () => end(0) };
}

/** A LineWatch whose source is decided asynchronously (a stop before then is kept). */
export function deferredLineWatch(make: () => Promise<LineWatch>): LineWatch {
  let inner: LineWatch | undefined;
  let stopped = false;
  const done = make().then((w) => {
    inner = w;
    if (stopped) w.stop();
    return w.done;
  }, () => 127);
  return { done, stop: () => { stopped = true; inner?.stop(); } };
}

// Whole-file writes that are either complete or absent: a temp file beside the target,
// fsynced, renamed over it, then the directory fsynced so the rename itself survives
// a power cut. A failed write removes its temp file, so a full disk gets its space back.
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try { await fh.sync(); } finally { await fh.close(); }
}

export async function writeFileDurably(path: string, data: Buffer | string, mode = 0o600): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fh = await open(tmp, 'w', mode);
    try {
      const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let done = 0;
      while (done < buf.length) {
        const { bytesWritten } = await fh.write(buf, done, buf.length - done, done);
        if (bytesWritten <= 0) throw new Error(`short write: ${done} of ${buf.length} bytes reached ${tmp}`);
        done += bytesWritten;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await fsyncPath(dirname(path));
}

// A small real tmpfs for tests of full disks: mounted under a temp dir (root needed, as in
// CI), filled to ENOSPC with a filler file, emptied again, unmounted in teardown.
import { mkdtempSync, rmSync, statfsSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

export interface Tmpfs {
  dir: string;
  /** Fills the file system until only about `leaveBytes` are free. */
  fill(leaveBytes?: number): void;
  /** Frees what fill() took. */
  unfill(): void;
  freeBytes(): number;
  unmount(): Promise<void>;
}

export async function mountTmpfs(sizeBytes: number): Promise<Tmpfs> {
  const dir = mkdtempSync(join(tmpdir(), 'pikube-tmpfs-'));
  await execa('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir]);
  const filler = join(dir, 'filler');
  const freeBytes = () => { const s = statfsSync(dir); return s.bavail * s.bsize; };
  return {
    dir,
    freeBytes,
    fill(leaveBytes = 0) {
      writeFileSync(filler, '');
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(64 * 1024);
      try {
        for (let free = freeBytes(); free > leaveBytes;) {
          const n = Math.min(chunk.length, free - leaveBytes);
          if (n <= 0) break;
          writeSync(fd, chunk, 0, n);
          free = freeBytes();
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        closeSync(fd);
      }
    },
    unfill() { rmSync(filler, { force: true }); },
    async unmount() {
      await execa('umount', ['-l', dir], { reject: false });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// A podman store on a small tmpfs of its own, for tests that fill a disk for real: the
// agent is pointed at it with `--podman-root DIR`, and `podman()` reads the same store.
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class TmpfsPodmanStore {
  readonly dir: string;
  private mounted = false;

  constructor(prefix: string, private readonly size = '64m') {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
  }

  async mount(): Promise<void> {
    await execa('mount', ['-t', 'tmpfs', '-o', `size=${this.size}`, 'tmpfs', this.dir]);
    this.mounted = true;
  }

  /** podman on this store (the layout the agent uses under --podman-root); never throws on a non-zero exit. */
  podman(args: string[]) {
    return execa('podman', ['--root', join(this.dir, 'storage'), '--runroot', join(this.dir, 'run'), '--tmpdir', join(this.dir, 'tmp'), ...args], { reject: false });
  }

  /** Removes every pod, container and image of the store, then the tmpfs and its mount point. */
  async remove(): Promise<void> {
    await this.podman(['pod', 'rm', '-af', '-t', '0']);
    await this.podman(['rm', '-af', '-t', '0']);
    await this.podman(['system', 'reset', '-f']);
    if (this.mounted) await execa('umount', ['-l', this.dir], { reject: false });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

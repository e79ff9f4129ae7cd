// Builds `localhost/pikube-curl:latest`: busybox plus the host's curl and the shared
// libraries it links, for pods that must speak verified HTTPS. busybox's own wget cannot:
// its built-in TLS sends no signature_algorithms, so OpenSSL 3 servers (Node's) refuse it.
// Idempotent (an image label records the revision); no registry involved.
import { execa } from 'execa';
import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const CURL_IMAGE = 'localhost/pikube-curl:latest';
const IMAGE_LABEL = 'io.pikube.test-image';
const IMAGE_REVISION = '1';
const APPLETS = ['sh', 'sleep', 'cat', 'ls', 'echo', 'env', 'wget'];

let ready: Promise<void> | undefined;

export function ensureCurlImage(): Promise<void> {
  ready ??= build().catch((err: unknown) => { ready = undefined; throw err; });
  return ready;
}

/** Absolute paths of the shared objects `binary` loads, from ldd. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const out = (await execa('ldd', [binary])).stdout;
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]!);
  }
  return libs;
}

async function build(): Promise<void> {
  const label = await execa('podman', ['image', 'inspect', '--format', `{{index .Labels "${IMAGE_LABEL}"}}`, CURL_IMAGE], { reject: false });
  if (label.exitCode === 0 && label.stdout.trim() === IMAGE_REVISION) return;
  const curl = (await execa('sh', ['-c', 'command -v curl'])).stdout.trim();
  const busybox = (await execa('sh', ['-c', 'command -v busybox'])).stdout.trim();
  const dir = await mkdtemp(join(tmpdir(), 'pikube-curl-image-'));
  try {
    const root = join(dir, 'rootfs');
    await mkdir(join(root, 'bin'), { recursive: true });
    await mkdir(join(root, 'tmp'), { recursive: true });
    await copyFile(busybox, join(root, 'bin', 'busybox'));
    for (const applet of APPLETS) await symlink('busybox', join(root, 'bin', applet));
    await copyFile(curl, join(root, 'bin', 'curl'));
    // The libraries at the paths the dynamic loader looks for them.
    for (const lib of await sharedLibraries(curl)) {
      await mkdir(join(root, dirname(lib)), { recursive: true });
      await copyFile(lib, join(root, lib));
    }
    await execa('tar', ['-C', root, '-cf', join(dir, 'rootfs.tar'), '.']);
    await execa('podman', ['import', '--change', 'ENV=PATH=/bin', '--change', `LABEL=${IMAGE_LABEL}=${IMAGE_REVISION}`, join(dir, 'rootfs.tar'), CURL_IMAGE]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

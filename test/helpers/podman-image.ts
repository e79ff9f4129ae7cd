// Builds `localhost/busybox:latest` for podman from Debian's busybox-static, since there
// is no registry to pull from. Idempotent; installs what is missing with apt-get.
import { execa } from 'execa';
import { access, mkdir, mkdtemp, rm, copyFile, symlink, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BUSYBOX_IMAGE = 'localhost/busybox:latest';
const IMAGE_LABEL = 'io.pikube.test-image';
const IMAGE_REVISION = '2';
const APPLETS = ['sh', 'sleep', 'echo', 'cat', 'ls', 'httpd', 'nc', 'wget', 'env', 'hostname', 'true', 'false'];

async function exists(path: string): Promise<boolean> {
  try { await access(path, constants.X_OK); return true; } catch { return false; }
}

async function onPath(binary: string): Promise<boolean> {
  return (await execa('sh', ['-c', `command -v ${binary}`], { reject: false })).exitCode === 0;
}

async function aptInstall(packages: string[]): Promise<void> {
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  let r = await execa('apt-get', ['install', '-y', ...packages], { reject: false, env });
  if (r.exitCode !== 0) {
    await execa('apt-get', ['update'], { env });
    r = await execa('apt-get', ['install', '-y', ...packages], { env });
  }
}

async function findBusybox(): Promise<string | undefined> {
  for (const p of ['/usr/bin/busybox', '/bin/busybox']) if (await exists(p)) return p;
  return undefined;
}

let ready: Promise<void> | undefined;

export function ensureBusyboxImage(): Promise<void> {
  ready ??= build().catch((err: unknown) => { ready = undefined; throw err; });
  return ready;
}

async function build(): Promise<void> {
  const missing: string[] = [];
  if (!(await onPath('podman'))) missing.push('podman');
  if (!(await findBusybox())) missing.push('busybox-static');
  // crun refuses hosts with hybrid cgroups; the podman driver then falls back to runc.
  if (!(await onPath('runc')) && (await exists('/sys/fs/cgroup/unified'))) missing.push('runc');
  if (missing.length) await aptInstall(missing);

  // An image without our label was made elsewhere (without the index page): replace it.
  const label = await execa('podman', ['image', 'inspect', '--format', `{{index .Labels "${IMAGE_LABEL}"}}`, BUSYBOX_IMAGE], { reject: false });
  if (label.exitCode === 0 && label.stdout.trim() === IMAGE_REVISION) return;
  const busybox = await findBusybox();
  if (!busybox) throw new Error('busybox-static did not provide /usr/bin/busybox');
  const dir = await mkdtemp(join(tmpdir(), 'pikube-busybox-'));
  try {
    const bin = join(dir, 'rootfs', 'bin');
    await mkdir(bin, { recursive: true });
    await mkdir(join(dir, 'rootfs', 'tmp'), { recursive: true });
    await copyFile(busybox, join(bin, 'busybox'));
    for (const applet of APPLETS) await symlink('busybox', join(bin, applet));
    // httpd serves `/`: give it a page, so that a request for / is answered 200 like a real site.
    await writeFile(join(dir, 'rootfs', 'index.html'), '<html><body>pikube test image</body></html>\n');
    await execa('tar', ['-C', join(dir, 'rootfs'), '-cf', join(dir, 'rootfs.tar'), '.']);
    await execa('podman', ['import', '--change', 'ENV=PATH=/bin', '--change', `LABEL=${IMAGE_LABEL}=${IMAGE_REVISION}`, join(dir, 'rootfs.tar'), BUSYBOX_IMAGE]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// A real registry on loopback for image tests: Debian's docker-registry with TLS from a
// throwaway CA and htpasswd auth. Images are busybox-static root filesystems imported
// with podman and pushed with skopeo; the arm64 one comes from Debian's arm64 package,
// kept in a cache so later runs work offline. Nothing here touches podman's images
// beyond the local tags it makes itself, which it removes.
import { execa } from 'execa';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './processes.js';

export const REGISTRY_USER = 'lab';
export const REGISTRY_PASSWORD = 's3cret';
const CACHE = '/var/cache/pikube-test';

export interface TestRegistry {
  host: string;
  dir: string;
  caFile: string;
  /** The registry's access log (one line per request). */
  log(): Promise<string>;
  /** A registries.yaml that trusts the test CA and holds no credentials. */
  registriesYaml: string;
  /** Pushes a rootfs tar as repo:tag with the given platform; returns the reference. */
  push(repo: string, rootfsTar: string, platform?: { arch: string; variant?: string }): Promise<string>;
  /** Pushes an index of already pushed references. */
  pushIndex(repo: string, refs: string[]): Promise<string>;
  stop(): Promise<void>;
}

async function need(binary: string, pkg: string): Promise<void> {
  if ((await execa('sh', ['-c', `command -v ${binary}`], { reject: false })).exitCode === 0) return;
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  let r = await execa('apt-get', ['install', '-y', '-qq', pkg], { reject: false, env });
  if (r.exitCode !== 0) {
    await execa('apt-get', ['update', '-qq'], { env, reject: false });
    r = await execa('apt-get', ['install', '-y', '-qq', pkg], { env });
  }
}

export async function startTestRegistry(): Promise<TestRegistry> {
  for (const [b, p] of [['docker-registry', 'docker-registry'], ['skopeo', 'skopeo'], ['htpasswd', 'apache2-utils'], ['openssl', 'openssl']] as const) await need(b, p);
  const dir = await mkdtemp(join(tmpdir(), 'pikube-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const c = join(dir, 'certs');
  await mkdir(c);
  const ossl = (args: string[]) => execa('openssl', args, { cwd: c });
  await ossl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=pikube-test-ca', '-keyout', 'ca.key', '-out', 'ca.crt']);
  await ossl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'tls.key', '-out', 'tls.csr']);
  await writeFile(join(c, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  await ossl(['x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'ext.cnf', '-out', 'tls.crt']);
  const htpasswd = (await execa('htpasswd', ['-Bbn', REGISTRY_USER, REGISTRY_PASSWORD])).stdout;
  await writeFile(join(dir, 'htpasswd'), `${htpasswd.trim()}\n`);
  await writeFile(join(dir, 'config.yml'), [
    'version: 0.1',
    'log: {level: info, accesslog: {disabled: false}}',
    `storage: {filesystem: {rootdirectory: ${join(dir, 'data')}}, delete: {enabled: true}}`,
    `http: {addr: "${host}", tls: {certificate: ${join(c, 'tls.crt')}, key: ${join(c, 'tls.key')}}}`,
    `auth: {htpasswd: {realm: lab, path: ${join(dir, 'htpasswd')}}}`,
    '',
  ].join('\n'));
  const logFile = join(dir, 'registry.log');
  const { openSync } = await import('node:fs');
  const fd = openSync(logFile, 'a');
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', fd, fd] });
  const caFile = join(c, 'ca.crt');
  await waitFor('test registry', async () => (await execa('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', caFile, `https://${host}/v2/`], { reject: false })).stdout === '401', 20_000);
  // skopeo and podman read a cert dir: ca.crt inside
  const certDir = join(dir, 'certs.d');
  await mkdir(certDir);
  await copyFile(caFile, join(certDir, 'ca.crt'));
  const creds = `${REGISTRY_USER}:${REGISTRY_PASSWORD}`;
  const registriesYaml = join(dir, 'registries.yaml');
  await writeFile(registriesYaml, `configs:\n  "${host}":\n    tls:\n      ca_file: ${caFile}\n`);

  const push = async (repo: string, rootfsTar: string, platform?: { arch: string; variant?: string }): Promise<string> => {
    const local = `localhost/pikube-test-${randomBytes(5).toString('hex')}:1`;
    const args = ['import', '-q'];
    if (platform) args.push('--arch', platform.arch, ...(platform.variant ? ['--variant', platform.variant] : []));
    await execa('podman', [...args, rootfsTar, local]);
    const ref = `${host}/${repo}`;
    try {
      await execa('skopeo', ['copy', '-q', '--dest-creds', creds, '--dest-cert-dir', certDir, `containers-storage:${local}`, `docker://${ref}`]);
    } finally {
      await execa('podman', ['rmi', local], { reject: false });
    }
    return ref;
  };
  const pushIndex = async (repo: string, refs: string[]): Promise<string> => {
    const list = `localhost/pikube-test-list-${randomBytes(5).toString('hex')}:1`;
    const tls = ['--cert-dir', certDir, '--creds', creds];
    await execa('podman', ['manifest', 'create', list]);
    try {
      for (const r of refs) await execa('podman', ['manifest', 'add', ...tls, list, `docker://${r}`]);
      await execa('podman', ['manifest', 'push', '--all', ...tls, list, `docker://${host}/${repo}`]);
    } finally {
      await execa('podman', ['manifest', 'rm', list], { reject: false });
    }
    return `${host}/${repo}`;
  };
  return {
    host, dir, caFile, registriesYaml, push, pushIndex,
    log: async () => (await import('node:fs/promises')).readFile(logFile, 'utf8'),
    stop: async () => {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A root filesystem tar with a static busybox (and optional filler bytes), for podman import. */
export async function busyboxRootfs(busybox: string, opts: { fillerBytes?: number } = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pikube-rootfs-'));
  const root = join(dir, 'root');
  await mkdir(join(root, 'bin'), { recursive: true });
  await mkdir(join(root, 'tmp'));
  await copyFile(busybox, join(root, 'bin', 'busybox'));
  await chmod(join(root, 'bin', 'busybox'), 0o755);
  for (const a of ['sh', 'sleep', 'echo', 'cat', 'true']) await symlink('busybox', join(root, 'bin', a));
  // unique content: every call makes a different image (and layer)
  await writeFile(join(root, 'id'), randomBytes(16).toString('hex'));
  if (opts.fillerBytes) await writeFile(join(root, 'filler'), randomBytes(opts.fillerBytes));
  const tar = join(dir, 'rootfs.tar');
  await execa('tar', ['-C', root, '-cf', tar, '.']);
  return tar;
}

/** Debian's arm64 busybox binary, fetched once with apt-get download and kept in a cache. */
export async function arm64Busybox(): Promise<string> {
  const cached = join(CACHE, 'busybox-arm64');
  if (existsSync(cached)) return cached;
  await mkdir(CACHE, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), 'pikube-arm64-'));
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  const added = !(await execa('dpkg', ['--print-foreign-architectures'])).stdout.split('\n').includes('arm64');
  try {
    if (added) await execa('dpkg', ['--add-architecture', 'arm64']);
    await execa('apt-get', ['update', '-qq'], { env, reject: false });
    await execa('apt-get', ['download', '-qq', 'busybox-static:arm64'], { cwd: work, env });
  } finally {
    if (added) await execa('dpkg', ['--remove-architecture', 'arm64'], { reject: false });
  }
  const deb = (await readdir(work)).find((f) => f.endsWith('_arm64.deb'));
  if (!deb) throw new Error('apt-get download busybox-static:arm64 gave no package');
  await execa('dpkg-deb', ['-x', join(work, deb), join(work, 'x')]);
  await copyFile(join(work, 'x', 'bin', 'busybox'), cached);
  await rm(work, { recursive: true, force: true });
  return cached;
}

// podman 4.3+ (rootful). A pod's sandbox is a podman pod: its infra container holds the
// network, IPC and UTS namespaces, publishes the pod's ports and carries its hostname;
// members join with `--pod`. Two host quirks are detected and worked around once, then
// remembered: hard rlimits below podman's defaults, and crun refusing hybrid cgroups.
import { access, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { CliRuntime, ipOf, sandboxNetworkArgs, stateOf, type CliRuntimeOptions } from './container-cli-runtime.js';
import { runtimeError } from './container-cli-errors.js';
import type { CliResult } from './container-cli-exec.js';
import { hasLabels, labelFilterArgs, labelsOf, parseJsonRecords, rec, str } from './container-cli-output.js';
import { readHostLimits, type HostLimits } from './host-limits.js';
import type { AuthDir } from './container-cli-images.js';
import { parseImageRef } from '../../protocol/images/image-ref.js';
import { RuntimeError, type ContainerSpec, type SandboxInfo, type SandboxSpec } from './container-runtime.js';

export interface PodmanOptions extends CliRuntimeOptions {
  /** OCI runtime for `--runtime` (crun, runc); undefined = podman's configured default. */
  ociRuntime?: string;
  /** `--ulimit` values to pass from the start, e.g. ["nofile=1024:1024"]; undefined = detect when needed. */
  ulimits?: string[];
  /** Infra image for pods; undefined = podman's own pause image, built locally from catatonit. */
  infraImage?: string;
  /** Where to write the containers.conf that gives pods' infra containers the ulimits. */
  confDir?: string;
  /** A storage root of the agent's own (--root; run state beside it), instead of podman's default store. */
  storageRoot?: string;
}

/**
 * podman (containers/common) lowers its own RLIMIT_NPROC to 32768 when it starts, so no
 * container it launches can be given more, whatever the agent's own limit is.
 */
export const PODMAN_NPROC_CEILING = 32768;

const RLIMIT_ERROR = /error setting rlimit|setrlimit `?RLIMIT_/i;
const HYBRID_CGROUP_ERROR = /cgroups in hybrid mode not supported/i;

/** `--ulimit` values that stay within the given limits. */
export function ulimitsFor(limits: HostLimits): string[] {
  const out: string[] = [];
  if (limits.nofile) out.push(`nofile=${limits.nofile.soft}:${limits.nofile.hard}`);
  if (limits.nproc) {
    const hard = Math.min(limits.nproc.hard, PODMAN_NPROC_CEILING);
    out.push(`nproc=${Math.min(limits.nproc.soft, hard)}:${hard}`);
  }
  return out;
}

export async function findOnPath(binary: string, path = process.env['PATH'] ?? ''): Promise<string | undefined> {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, binary);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch { /* not here */ }
  }
  return undefined;
}

export class PodmanRuntime extends CliRuntime {
  readonly name = 'podman' as const;
  private ociRuntime: string | undefined;
  private ulimits: string[] | undefined;
  private readonly infraImage: string | undefined;
  private readonly confDir: string;
  private infraConfPath: string | undefined;
  private readonly storageRoot: string | undefined;

  constructor(opts: PodmanOptions = {}) {
    super('podman', opts);
    this.ociRuntime = opts.ociRuntime;
    this.ulimits = opts.ulimits;
    this.infraImage = opts.infraImage;
    this.confDir = opts.confDir ?? tmpdir();
    this.storageRoot = opts.storageRoot;
  }

  /** The adaptations in force, for logs and tests. */
  get adaptations(): { ociRuntime?: string; ulimits?: string[] } {
    return { ociRuntime: this.ociRuntime, ulimits: this.ulimits };
  }

  protected override globalArgs(): string[] {
    const args = this.ociRuntime ? ['--runtime', this.ociRuntime] : [];
    if (this.storageRoot) {
      const r = this.storageRoot;
      args.push('--root', join(r, 'storage'), '--runroot', join(r, 'run'), '--tmpdir', join(r, 'tmp'));
    }
    return args;
  }

  /** --authfile for the pod's credential; registries.conf and the host's cert dir from the agent's registries config. */
  protected override pullInvocation(ref: string, auth: AuthDir | undefined): { args: string[]; env?: Record<string, string> } {
    const args = auth ? ['--authfile', auth.file] : [];
    const reg = this.registries;
    if (!reg) return { args };
    const host = parseImageRef(ref).registry;
    const certDir = reg.certDir(host);
    if (certDir) args.push('--cert-dir', certDir);
    if (reg.insecure(host)) args.push('--tls-verify=false');
    return { args, ...(reg.podmanRegistriesConf ? { env: { CONTAINERS_REGISTRIES_CONF: reg.podmanRegistriesConf } } : {}) };
  }

  async imageStorePath(): Promise<string | undefined> {
    const r = await this.cli.run(['info', '--format', '{{.Store.GraphRoot}}']);
    return r.exitCode === 0 ? r.stdout.trim() || undefined : undefined;
  }

  protected override networkArgs(spec: ContainerSpec): string[] {
    return spec.sandboxId ? ['--pod', spec.sandboxId] : ['--network', 'host'];
  }

  protected override extraRunArgs(): string[] {
    return (this.ulimits ?? []).flatMap((u) => ['--ulimit', u]);
  }

  /** podman's `rm -f` would first wait the stop timeout (10 s): force means now. */
  protected override forceRemoveArgv(nameOrId: string): string[] {
    return ['rm', '-f', '-t', '0', nameOrId];
  }

  protected override isCliFailure(result: CliResult): boolean {
    // 126/127 are the command's own "cannot run"/"not found"; 125 is podman's failure.
    return result.exitCode === 125 && /^Error: /m.test(result.stderr);
  }

  protected override async adaptToFailure(err: RuntimeError): Promise<boolean> {
    const text = `${err.message}\n${err.stderr}`;
    if (RLIMIT_ERROR.test(text) && this.ulimits === undefined) {
      this.ulimits = ulimitsFor(await readHostLimits());
      this.log?.warn({ ulimits: this.ulimits }, 'podman: host rlimits too low for defaults, passing --ulimit');
      return this.ulimits.length > 0;
    }
    if (HYBRID_CGROUP_ERROR.test(text) && this.ociRuntime !== 'runc' && (await findOnPath('runc'))) {
      this.ociRuntime = 'runc';
      this.log?.warn('podman: crun refuses hybrid cgroups here, using runc');
      return true;
    }
    return false;
  }

  protected parseVersion(json: Record<string, unknown>): { name: string; version: string } {
    const version = str(rec(json['Client'])['Version']) ?? str(rec(json['Server'])['Version']);
    if (!version) throw new Error('podman version: no Client.Version');
    return { name: 'podman', version };
  }

  protected imageRefOf(raw: Record<string, unknown>): string {
    return str(raw['ImageName']) ?? str(raw['Image']) ?? '';
  }

  protected imageIdOf(raw: Record<string, unknown>): string | undefined {
    return str(raw['Image']);
  }

  /** Infra containers belong to sandboxes, not to the workload list. */
  protected override idsFromPs(records: Record<string, unknown>[]): string[] {
    return records.filter((r) => r['IsInfra'] !== true).map((r) => str(r['Id']) ?? str(r['ID']) ?? '').filter(Boolean);
  }

  // ---- sandboxes are pods -------------------------------------------------------------

  override async createSandbox(spec: SandboxSpec): Promise<SandboxInfo> {
    let conflictRetried = false;
    for (let attempt = 0; ; attempt++) {
      // a known infra name: the pod's address and state then come from one inspect
      const infraName = `${spec.name}-infra`;
      const argv = ['pod', 'create', '--name', spec.name, '--infra-name', infraName];
      for (const [k, v] of Object.entries(spec.labels)) argv.push('--label', `${k}=${v}`);
      if (this.infraImage) argv.push('--infra-image', this.infraImage);
      argv.push(...sandboxNetworkArgs(spec, this.network));
      const created = await this.cli.run(argv, { env: await this.infraEnv() });
      if (created.exitCode !== 0) {
        const err = runtimeError(`pod create ${spec.name}`, created);
        if (err.kind === 'NameConflict' && !conflictRetried) {
          conflictRetried = true;
          await this.cli.run(['pod', 'rm', '-f', '-t', '0', spec.name]);
          continue;
        }
        throw err;
      }
      const id = created.stdout.trim().split('\n').pop()!.trim();
      const started = await this.cli.run(['pod', 'start', id]);
      if (started.exitCode === 0) {
        const infra = (await this.inspectRaw([infraName]))[0];
        if (!infra) throw new RuntimeError('CreateFailed', `pod ${spec.name} vanished right after creation`);
        return this.sandboxInfo({ id, name: spec.name, labels: { ...spec.labels } }, infra);
      }
      const err = runtimeError(`pod start ${spec.name}`, started);
      // The infra container's limits are fixed at creation: start over with a new pod.
      await this.cli.run(['pod', 'rm', '-f', '-t', '0', id]);
      if (attempt < 4 && (await this.adaptToFailure(err))) continue;
      throw err.kind === 'Unknown' ? new RuntimeError('CreateFailed', err.message, err.stderr) : err;
    }
  }

  /**
   * `pod create` takes no --ulimit, so the infra container gets them from a containers.conf
   * of our own. podman then reads only that file, which is why it is used for `pod create`
   * alone, and never when the operator already points CONTAINERS_CONF somewhere.
   */
  private async infraEnv(): Promise<Record<string, string> | undefined> {
    if (!this.ulimits?.length || process.env['CONTAINERS_CONF']) return undefined;
    if (!this.infraConfPath) {
      const body = `# pikube: the default container rlimits exceed this host's hard limits.\n[containers]\n` +
        `default_ulimits = [${this.ulimits.map((u) => JSON.stringify(u)).join(', ')}]\n`;
      const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
      const path = join(this.confDir, `pikube-podman-${hash}.conf`);
      await writeFile(path, body);
      this.infraConfPath = path;
    }
    return { CONTAINERS_CONF: this.infraConfPath };
  }

  /** `pod ps` for the pods, then one inspect of all their infra containers: two calls, however many pods. */
  override async listSandboxes(labels: Record<string, string>): Promise<SandboxInfo[]> {
    const r = await this.cli.run(['pod', 'ps', '--format', 'json', ...labelFilterArgs(labels)]);
    if (r.exitCode !== 0) throw runtimeError('pod ps', r);
    const pods = parseJsonRecords(r.stdout).filter((p) => hasLabels(labelsOf(p['Labels']), labels) && str(p['Id']));
    const infraIds = pods.map((p) => str(p['InfraId']) ?? '').filter(Boolean);
    const infras = new Map<string, Record<string, unknown>>();
    for (const raw of await this.inspectRaw(infraIds)) infras.set(str(raw['Id']) ?? '', raw);
    return pods.map((p) => this.sandboxInfo(
      { id: str(p['Id'])!, name: str(p['Name']) ?? '', labels: labelsOf(p['Labels']) },
      infras.get(str(p['InfraId']) ?? ''),
    ));
  }

  private sandboxInfo(pod: { id: string; name: string; labels: Record<string, string> }, infra: Record<string, unknown> | undefined): SandboxInfo {
    const info: SandboxInfo = { ...pod, running: infra ? stateOf(rec(infra['State'])) === 'running' : false };
    const ip = infra ? ipOf(infra) : undefined;
    if (ip) info.ip = ip;
    return info;
  }

  override async removeSandbox(id: string): Promise<void> {
    const r = await this.cli.run(['pod', 'rm', '-f', '-t', '0', id]);
    if (r.exitCode === 0) return;
    const err = runtimeError(`pod rm ${id}`, r);
    if (err.kind !== 'NotFound') throw err;
  }
}

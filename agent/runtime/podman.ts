// podman 4.3+ (rootful). A pod's sandbox is a podman pod: its infra container holds the
// network, IPC and UTS namespaces, publishes the pod's ports and carries its hostname;
// members join with `--pod`. Two host quirks are detected and worked around once, then
// remembered: hard rlimits below podman's defaults, and crun refusing hybrid cgroups.
import { access, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { CliRuntime, ipOf, sandboxNetworkArgs, stateOf, type CliRuntimeOptions } from './container-cli-runtime.js';
import { runtimeError } from './container-cli-errors.js';
import type { CliResult } from './container-cli-exec.js';
import { hasLabels, labelFilterArgs, labelsOf, parseJsonRecords, rec, str } from './container-cli-output.js';
import { readHostLimits, type HostLimits } from './host-limits.js';
import type { AuthDir } from './container-cli-images.js';
import { parseImageRef } from '../../protocol/images/image-ref.js';
import { RuntimeError, type ContainerSpec, type EventWatch, type RuntimeEvent, type SandboxInfo, type SandboxSpec } from './container-runtime.js';
import { SandboxPool, type SpareSandbox } from './sandbox-pool.js';
import { ClaimedSandboxes } from './claimed-sandboxes.js';
import type { LineWatch } from './child-process.js';
import { deferredLineWatch, eventFileFromDebugLog, followFile } from './podman-event-file.js';

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
  /**
   * Spare pods kept ready for new pods: `size` of them (0: none, but spares given to pods by
   * an earlier run keep serving them), marked as `owner`'s (the node: agents sharing a host
   * keep apart), their claims kept under `dir`; `labels` go on every spare (its infra
   * container's events carry them). Undefined = no spares and no claims.
   */
  sandboxPool?: { size: number; owner: string; dir: string; labels?: Record<string, string> };
}

/** Marks a spare pod, with the node that keeps it as value. */
export const SPARE_OWNER_LABEL = 'pikube.io/spare-of';
/** The pod network a spare was made on. */
export const SPARE_NETWORK_LABEL = 'pikube.io/spare-network';

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
  private readonly spares: { pool: SandboxPool; owner: string; claims: ClaimedSandboxes; labels: Record<string, string> } | undefined;

  constructor(opts: PodmanOptions = {}) {
    super('podman', opts);
    this.ociRuntime = opts.ociRuntime;
    this.ulimits = opts.ulimits;
    this.infraImage = opts.infraImage;
    this.confDir = opts.confDir ?? tmpdir();
    this.storageRoot = opts.storageRoot;
    const p = opts.sandboxPool;
    // a pool of 0 still honours the claims of an earlier run's spares and removes free ones
    if (p) {
      const pool = new SandboxPool({ size: p.size, make: (net) => this.makeSpare(net, p.owner), discard: (id) => this.removePod(id), ...(opts.log ? { log: opts.log } : {}) });
      this.spares = { pool, owner: p.owner, claims: new ClaimedSandboxes(p.dir), labels: { ...p.labels } };
    }
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

  protected override adaptationState(): string {
    return JSON.stringify([this.ociRuntime, this.ulimits]);
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
    const spare = await this.takeSpare(spec);
    if (spare) return spare;
    const { id, infra } = await this.createPod(spec.name, spec.labels, sandboxNetworkArgs(spec, this.network));
    return this.sandboxInfo({ id, name: spec.name, labels: { ...spec.labels } }, infra);
  }

  /** Creates and starts a pod; resolves with its id and its infra container's inspect record. */
  private async createPod(name: string, labels: Record<string, string>, extra: string[]): Promise<{ id: string; infra: Record<string, unknown> }> {
    let conflictRetried = false;
    for (let attempt = 0; ; attempt++) {
      // a known infra name: the pod's address and state then come from one inspect
      const infraName = `${name}-infra`;
      const adapted = this.adaptationState();
      const argv = ['pod', 'create', '--name', name, '--infra-name', infraName];
      for (const [k, v] of Object.entries(labels)) argv.push('--label', `${k}=${v}`);
      if (this.infraImage) argv.push('--infra-image', this.infraImage);
      argv.push(...extra);
      const created = await this.cli.run(argv, { env: await this.infraEnv() });
      if (created.exitCode !== 0) {
        const err = runtimeError(`pod create ${name}`, created);
        if (err.kind === 'NameConflict' && !conflictRetried) {
          conflictRetried = true;
          await this.cli.run(['pod', 'rm', '-f', '-t', '0', name]);
          continue;
        }
        throw err;
      }
      const id = created.stdout.trim().split('\n').pop()!.trim();
      const started = await this.cli.run(['pod', 'start', id]);
      if (started.exitCode === 0) {
        const infra = (await this.inspectRaw([infraName]))[0];
        if (!infra) throw new RuntimeError('CreateFailed', `pod ${name} vanished right after creation`);
        return { id, infra };
      }
      const err = runtimeError(`pod start ${name}`, started);
      // The infra container's limits are fixed at creation: start over with a new pod.
      await this.cli.run(['pod', 'rm', '-f', '-t', '0', id]);
      if (attempt < 4 && (this.adaptationState() !== adapted || (await this.adaptToFailure(err)))) continue;
      throw err.kind === 'Unknown' ? new RuntimeError('CreateFailed', err.message, err.stderr) : err;
    }
  }

  // ---- spare pods (sandbox-pool.ts) ---------------------------------------------------

  /**
   * A spare pod without a UTS namespace of its own to share: each container of the pod
   * that takes it gets the pod's hostname itself (claimed-sandboxes.ts).
   */
  private async makeSpare(network: string, owner: string): Promise<SpareSandbox> {
    const name = `pikube-spare-${randomBytes(4).toString('hex')}`;
    const labels = { ...this.spares?.labels, [SPARE_OWNER_LABEL]: owner, [SPARE_NETWORK_LABEL]: network };
    const { id, infra } = await this.createPod(name, labels, ['--share', 'ipc,net', ...(network ? ['--network', network] : [])]);
    const ip = ipOf(infra);
    const infraId = str(infra['Id']);
    return { id, name, ...(ip ? { ip } : {}), ...(infraId ? { infraId } : {}) };
  }

  /** A spare for a pod that asks nothing a spare lacks: the pool's network, no host ports. */
  private async takeSpare(spec: SandboxSpec): Promise<SandboxInfo | undefined> {
    if (!this.spares || spec.hostNetwork || spec.ports.length > 0) return undefined;
    const spare = await this.spares.pool.take(spec.network ?? this.network ?? '');
    if (!spare) return undefined;
    try {
      await this.spares.claims.claim(spare.id, spec, spare.ip);
    } catch (err) {
      await this.removePod(spare.id).catch(() => undefined);
      throw new RuntimeError('CreateFailed', `cannot give spare pod ${spare.name} to ${spec.name}: ${(err as Error).message}`);
    }
    this.log?.debug({ sandbox: spec.name, spare: spare.name }, 'pod sandbox from the spares');
    return { id: spare.id, name: spec.name, labels: { ...spec.labels }, running: true, ...(spare.ip ? { ip: spare.ip } : {}) };
  }

  async keepSandboxesReady(network: string | undefined): Promise<void> {
    if (!this.spares) return;
    const { pool, owner, claims } = this.spares;
    const net = network ?? this.network ?? '';
    const r = await this.cli.run(['pod', 'ps', '--format', 'json', '--filter', `label=${SPARE_OWNER_LABEL}=${owner}`]);
    if (r.exitCode !== 0) throw runtimeError('pod ps', r);
    const pods = parseJsonRecords(r.stdout).filter((p) => labelsOf(p['Labels'])[SPARE_OWNER_LABEL] === owner && str(p['Id']));
    const free: Record<string, unknown>[] = [];
    for (const p of pods) {
      const id = str(p['Id'])!;
      if (await claims.get(id)) continue; // a pod's sandbox
      const members = (Array.isArray(p['Containers']) ? p['Containers'] : []).filter((c) => str(rec(c)['Id']) !== str(p['InfraId']));
      const status = str(p['Status'])?.toLowerCase();
      const usable = members.length === 0 && status === 'running' && labelsOf(p['Labels'])[SPARE_NETWORK_LABEL] === net;
      if (usable) { free.push(p); continue; }
      if (members.length === 0 && status === 'created' && pool.busy) continue; // the one being made
      // containers in a spare without a claim: their pod's claim was lost, so is the pod's sandbox
      if (members.length) this.log?.warn({ spare: str(p['Name']) }, 'spare pod has containers but no claim; removing it');
      await this.removePod(id).catch(() => undefined);
    }
    const present = new Set(pods.map((p) => str(p['Id'])));
    for (const id of await claims.ids()) if (!present.has(id) && !(await this.podExists(id))) await claims.release(id);
    const infras = new Map((await this.inspectRaw(free.map((p) => str(p['InfraId']) ?? '').filter(Boolean))).map((raw) => [str(raw['Id']) ?? '', raw]));
    const found: SpareSandbox[] = free.map((p) => {
      const infraId = str(p['InfraId']);
      const ip = ipOf(infras.get(infraId ?? '') ?? {});
      return { id: str(p['Id'])!, name: str(p['Name']) ?? '', ...(ip ? { ip } : {}), ...(infraId ? { infraId } : {}) };
    });
    await pool.keep(net, found);
  }

  /**
   * With podman's `file` event logger, its events file read directly (podman-event-file.ts)
   * instead of a `podman events` that polls it; any other logger, or a file podman does
   * not name, keeps the CLI. Decided again at each (re)start of the stream.
   */
  protected override eventStream(onLine: (line: string) => void): LineWatch {
    return deferredLineWatch(async () => {
      const probe = await this.cli.run(['--log-level=debug', 'events', '--stream=false', '--since', '1s', '--filter', 'type=container']);
      const file = probe.exitCode === 0 ? eventFileFromDebugLog(probe.stderr) : undefined;
      if (!file) return super.eventStream(onLine);
      this.log?.debug({ file }, 'following podman events in its event file');
      return followFile(file, onLine);
    });
  }

  /** The event stream also tells the pool when a ready spare's infra container died. */
  override watchEvents(onEvent: (e: RuntimeEvent) => void): EventWatch {
    return super.watchEvents((e) => {
      if (this.spares && e.type === 'container' && e.action !== 'oom') this.spares.pool.lost(e.id);
      onEvent(e);
    });
  }

  async releaseSpareSandboxes(): Promise<void> {
    await this.spares?.pool.stop();
  }

  private async podExists(id: string): Promise<boolean> {
    return (await this.cli.run(['pod', 'exists', id])).exitCode === 0;
  }

  override async run(spec: ContainerSpec): Promise<string> {
    const claim = this.spares && spec.sandboxId ? await this.spares.claims.get(spec.sandboxId) : undefined;
    const sandboxArgs = claim ? this.spares!.claims.runArgs(spec.sandboxId!, claim) : [];
    return this.runDetached(spec.name, () => this.runArgv(spec, sandboxArgs));
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

  /**
   * `pod ps` for the pods, then one inspect of all their infra containers: two calls, however
   * many pods. A spare given to a pod carries the pod's labels in its claim, not on itself.
   */
  override async listSandboxes(labels: Record<string, string>): Promise<SandboxInfo[]> {
    const filters = this.spares ? [] : labelFilterArgs(labels);
    const r = await this.cli.run(['pod', 'ps', '--format', 'json', ...filters]);
    if (r.exitCode !== 0) throw runtimeError('pod ps', r);
    const pods: { p: Record<string, unknown>; name: string; labels: Record<string, string> }[] = [];
    for (const p of parseJsonRecords(r.stdout)) {
      const id = str(p['Id']);
      if (!id) continue;
      let own = labelsOf(p['Labels']);
      let name = str(p['Name']) ?? '';
      if (this.spares && own[SPARE_OWNER_LABEL] === this.spares.owner) {
        const claim = await this.spares.claims.get(id);
        if (!claim) continue; // still a spare
        own = claim.labels;
        name = claim.name;
      }
      if (hasLabels(own, labels)) pods.push({ p, name, labels: own });
    }
    const infraIds = pods.map(({ p }) => str(p['InfraId']) ?? '').filter(Boolean);
    const infras = new Map<string, Record<string, unknown>>();
    for (const raw of await this.inspectRaw(infraIds)) infras.set(str(raw['Id']) ?? '', raw);
    return pods.map(({ p, name, labels: own }) => this.sandboxInfo(
      { id: str(p['Id'])!, name, labels: { ...own } },
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
    await this.removePod(id);
    if (this.spares && (await this.spares.claims.get(id))) await this.spares.claims.release(id);
  }

  private async removePod(id: string): Promise<void> {
    const r = await this.cli.run(['pod', 'rm', '-f', '-t', '0', id]);
    if (r.exitCode === 0) return;
    const err = runtimeError(`pod rm ${id}`, r);
    if (err.kind !== 'NotFound') throw err;
  }
}

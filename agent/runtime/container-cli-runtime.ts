// What nerdctl, docker and podman share: the docker CLI grammar. One base class builds
// the argv for `run`, reads `container inspect`, and handles logs/exec/stats/stop/rm; the
// per-CLI modules override only where their output or behaviour differs.
import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { CliExec, type CliResult } from './container-cli-exec.js';
import type { LineWatch } from './child-process.js';
import { runtimeError } from './container-cli-errors.js';
import { CgroupUsage } from './cgroup-usage.js';
import { parseRuntimeEvent } from './container-cli-events.js';
import { followEvents } from './event-follower.js';
import {
  hasLabels, isRecord, labelFilterArgs, labelsOf, num, parseJsonRecords, parsePercent, parseUsage, rec, str,
  timeOrUndefined,
} from './container-cli-output.js';
import type { RegistrySettings } from '../images/registries-config.js';
import { PULL_TIMEOUT_MS, inspectImages, listImages, pullError, removeImage, withAuthDir, type AuthDir } from './container-cli-images.js';
import {
  RuntimeError,
  type PullOptions, type RuntimeImage,
  type ContainerDisk, type ContainerRuntime, type ContainerSpec, type ContainerState, type ContainerStats, type ExecOptions,
  type EventWatch, type LogOptions, type OutputSink, type PullPolicy, type RuntimeContainer, type RuntimeEvent,
  type SandboxInfo, type SandboxSpec,
} from './container-runtime.js';

/** Marks the pause containers that hold a pod's network namespace. */
export const SANDBOX_LABEL = 'pikube.io/sandbox';

export const DEFAULT_PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';

export interface CliRuntimeOptions {
  /** Path or name of the CLI binary; defaults to the runtime's name. */
  binary?: string;
  /** Network for sandboxes when the SandboxSpec names none; undefined = the runtime's default bridge. */
  network?: string;
  /** Image of the pause container that holds a pod's namespaces (nerdctl, docker). */
  pauseImage?: string;
  /** Mirrors, per-host TLS and insecure registries for pulls. */
  registries?: RegistrySettings;
  /** Where pulls keep their one-off credential directories; default the system temp dir. */
  authDirParent?: string;
  log?: Logger;
}

const PULL_FLAG: Record<PullPolicy, string> = { Always: 'always', IfNotPresent: 'missing', Never: 'never' };

/** Kinds after which a failed `run` left nothing behind worth removing. */
const NOTHING_CREATED = new Set(['ImageNotFound', 'ImageNeverPull', 'Transient']);

export abstract class CliRuntime implements ContainerRuntime {
  abstract readonly name: 'nerdctl' | 'podman' | 'docker';
  protected readonly cli: CliExec;
  protected readonly network: string | undefined;
  protected readonly pauseImage: string;
  protected readonly log: Logger | undefined;
  protected readonly registries: RegistrySettings | undefined;
  private readonly authDirParent: string | undefined;
  /** Main processes of the running containers seen by inspect, for cgroup reads. */
  protected readonly usage = new CgroupUsage();

  constructor(defaultBinary: string, opts: CliRuntimeOptions) {
    this.cli = new CliExec(opts.binary ?? defaultBinary, () => this.globalArgs(), opts.log);
    this.network = opts.network;
    this.pauseImage = opts.pauseImage ?? DEFAULT_PAUSE_IMAGE;
    this.log = opts.log;
    this.registries = opts.registries;
    this.authDirParent = opts.authDirParent;
  }

  /** Flags placed before every subcommand. */
  protected globalArgs(): string[] {
    return [];
  }

  // ---- hooks for the per-CLI differences --------------------------------------------

  protected abstract parseVersion(json: Record<string, unknown>): { name: string; version: string };
  /** The image reference a container was created from, out of `container inspect`. */
  protected abstract imageRefOf(raw: Record<string, unknown>): string;
  protected abstract imageIdOf(raw: Record<string, unknown>): string | undefined;

  /** Container IDs out of `ps -a --format json`, skipping whatever is not a workload. */
  protected idsFromPs(records: Record<string, unknown>[]): string[] {
    return records.map((r) => str(r['ID']) ?? str(r['Id']) ?? '').filter(Boolean);
  }

  /** How a pod member joins its sandbox (or the host network when there is none). */
  protected networkArgs(spec: ContainerSpec): string[] {
    return spec.sandboxId ? ['--network', `container:${spec.sandboxId}`] : ['--network', 'host'];
  }

  /** Extra `run` flags a host needs (podman's ulimits). */
  protected extraRunArgs(): string[] {
    return [];
  }

  /**
   * Called after a failed `run`; returns true when the driver changed something that
   * makes a retry worthwhile (the stale container is removed before it).
   */
  protected async adaptToFailure(_err: RuntimeError): Promise<boolean> {
    return false;
  }

  /**
   * The adaptations in force, as one comparable value: a failure of an attempt made before
   * another call adapted the driver is worth a retry without adapting again.
   */
  protected adaptationState(): string {
    return '';
  }

  /** The `events` subcommand that prints one JSON record per line. */
  protected eventsArgv(): string[] {
    return ['events', '--format', 'json', '--filter', 'type=container'];
  }

  /** Where event lines come from: the CLI's `events` process, read line by line. */
  protected eventStream(onLine: (line: string) => void): LineWatch {
    return this.cli.watch(this.eventsArgv(), onLine);
  }

  /** Events of other containerd namespaces are dropped (nerdctl prints them all). */
  protected eventNamespace(): string | undefined {
    return undefined;
  }

  /** True when a non-zero exit of `exec` is the CLI's own failure, not the command's. */
  protected isCliFailure(result: CliResult): boolean {
    return result.exitCode !== 0 && /level=(fatal|error) msg=|Error response from daemon|^Error: /m.test(result.stderr);
  }

  // ---- version and images ------------------------------------------------------------

  async version(): Promise<{ name: string; version: string }> {
    const r = await this.cli.run(['version', '--format', 'json'], { timeoutMs: 15_000 });
    if (r.exitCode !== 0) throw runtimeError('version', r);
    const json: unknown = JSON.parse(r.stdout);
    if (!isRecord(json)) throw new RuntimeError('Unknown', 'version: unexpected output', r.stdout);
    return this.parseVersion(json);
  }

  async imageExists(ref: string): Promise<boolean> {
    const r = await this.cli.run(['image', 'inspect', ref]);
    return r.exitCode === 0;
  }

  async imageId(ref: string): Promise<string | undefined> {
    const r = await this.cli.run(['image', 'inspect', ref]);
    if (r.exitCode !== 0) return undefined;
    const first = parseJsonRecords(r.stdout)[0];
    return first ? str(first['Id']) : undefined;
  }

  async pull(ref: string, opts: PullOptions = {}): Promise<void> {
    const r = await withAuthDir(opts.credential, this.authDirParent, (auth) => {
      const { args, env } = this.pullInvocation(ref, auth);
      return this.cli.run(['pull', '-q', ...args, ref], { timeoutMs: PULL_TIMEOUT_MS, ...(env ? { env } : {}) });
    });
    if (r.exitCode !== 0) throw pullError(ref, r);
  }

  /**
   * Flags and environment of one pull. docker and nerdctl read credentials from
   * $DOCKER_CONFIG/config.json; podman overrides this (--authfile).
   */
  protected pullInvocation(_ref: string, auth: AuthDir | undefined): { args: string[]; env?: Record<string, string> } {
    return { args: [], ...(auth ? { env: { DOCKER_CONFIG: auth.dir } } : {}) };
  }

  async inspectImage(ref: string): Promise<RuntimeImage | undefined> {
    return (await inspectImages(this.cli, [ref]))[0];
  }

  listImages(): Promise<RuntimeImage[]> {
    return listImages(this.cli);
  }

  removeImage(image: RuntimeImage): Promise<void> {
    return removeImage(this.cli, image);
  }

  // ---- sandboxes: a pause container whose network namespace the pod's members join ---

  async createSandbox(spec: SandboxSpec): Promise<SandboxInfo> {
    const argv = ['run', '-d', '--name', spec.name, '--pull', 'missing'];
    for (const [k, v] of Object.entries({ ...spec.labels, [SANDBOX_LABEL]: 'true' })) argv.push('--label', `${k}=${v}`);
    argv.push(...sandboxNetworkArgs(spec, this.network));
    const id = await this.runDetached(spec.name, () => [...argv, ...this.extraRunArgs(), this.pauseImage]);
    const raw = (await this.inspectRaw([id]))[0];
    if (!raw) throw new RuntimeError('CreateFailed', `sandbox ${spec.name} vanished right after creation`);
    return this.toSandbox(raw);
  }

  async listSandboxes(labels: Record<string, string>): Promise<SandboxInfo[]> {
    const raws = await this.listRaw({ ...labels, [SANDBOX_LABEL]: 'true' });
    return raws.map((raw) => this.toSandbox(raw));
  }

  async removeSandbox(id: string): Promise<void> {
    await this.remove(id);
  }

  protected toSandbox(raw: Record<string, unknown>): SandboxInfo {
    const c = this.toContainer(raw);
    return { id: c.id, name: c.name, labels: c.labels, running: c.state === 'running', ip: ipOf(raw) };
  }

  // ---- containers --------------------------------------------------------------------

  async run(spec: ContainerSpec): Promise<string> {
    return this.runDetached(spec.name, () => this.runArgv(spec));
  }

  /** `sandboxArgs`: what the container needs of its sandbox beyond joining it (a claimed spare's hostname and files). */
  runArgv(spec: ContainerSpec, sandboxArgs: string[] = []): string[] {
    // Never --restart (the agent owns restarts) and never --rm (nerdctl rejects it with -d).
    const argv = ['run', '-d', '--name', spec.name, '--pull', PULL_FLAG[spec.pullPolicy ?? 'IfNotPresent']];
    argv.push(...this.networkArgs(spec), ...sandboxArgs);
    for (const [k, v] of Object.entries(spec.labels)) argv.push('--label', `${k}=${v}`);
    for (const [k, v] of Object.entries(spec.env)) argv.push('--env', `${k}=${v}`);
    if (spec.cpus !== undefined) argv.push('--cpus', String(spec.cpus));
    if (spec.memoryBytes !== undefined) argv.push('--memory', `${Math.floor(spec.memoryBytes)}b`);
    for (const m of spec.mounts) argv.push('--volume', `${m.source}:${m.target}${m.readOnly ? ':ro' : ''}`);
    if (spec.workingDir) argv.push('--workdir', spec.workingDir);
    if (spec.user) argv.push('--user', spec.user);
    if (spec.privileged) argv.push('--privileged');
    if (spec.tty) argv.push('--tty');
    if (spec.stdin) argv.push('--interactive');
    argv.push(...this.extraRunArgs());
    // Kubernetes `command` replaces the entrypoint, `args` the image's cmd.
    const [entrypoint, ...commandRest] = spec.command ?? [];
    if (entrypoint !== undefined) argv.push('--entrypoint', entrypoint);
    argv.push(spec.image, ...commandRest, ...(spec.args ?? []));
    return argv;
  }

  /** `run -d` with the retries a real host needs; resolves with the container ID. */
  protected async runDetached(name: string, buildArgv: () => string[]): Promise<string> {
    let conflictRetried = false;
    for (let attempt = 0; ; attempt++) {
      // Rebuilt on every attempt: an adaptation (podman's ulimits) changes the flags.
      const adapted = this.adaptationState();
      const r = await this.cli.run(buildArgv());
      if (r.exitCode === 0) {
        const id = r.stdout.trim().split('\n').pop()?.trim();
        if (id) return id;
        throw new RuntimeError('Unknown', `run ${name}: no container ID printed`, r.stderr);
      }
      const err = runtimeError(`run ${name}`, r);
      if (err.kind === 'NameConflict' && !conflictRetried) {
        conflictRetried = true;
        await this.forceRemove(name);
        continue;
      }
      // A run can fail after the container was created: the name stays taken until rm.
      if (!NOTHING_CREATED.has(err.kind)) await this.forceRemove(name);
      if (attempt < 4 && (this.adaptationState() !== adapted || (await this.adaptToFailure(err)))) continue;
      throw err;
    }
  }

  protected async forceRemove(nameOrId: string): Promise<void> {
    await this.cli.run(this.forceRemoveArgv(nameOrId));
  }

  /** `rm -f` kills at once in nerdctl and docker. */
  protected forceRemoveArgv(nameOrId: string): string[] {
    return ['rm', '-f', nameOrId];
  }

  async list(labels: Record<string, string>): Promise<RuntimeContainer[]> {
    const raws = await this.listRaw(labels);
    return raws
      .map((raw) => this.toContainer(raw))
      .filter((c) => c.labels[SANDBOX_LABEL] === undefined);
  }

  /** `ps` for the IDs, then one `container inspect` for the details (labels come from there). */
  protected async listRaw(labels: Record<string, string>): Promise<Record<string, unknown>[]> {
    const r = await this.cli.run(['ps', '-a', '--no-trunc', '--format', 'json', ...labelFilterArgs(labels)]);
    if (r.exitCode !== 0) throw runtimeError('ps', r);
    const ids = this.idsFromPs(parseJsonRecords(r.stdout));
    const raws = await this.inspectRaw(ids);
    return raws.filter((raw) => hasLabels(labelsOf(rec(raw['Config'])['Labels']), labels));
  }

  /** Inspects many containers; one that vanished meanwhile is skipped, not an error. */
  protected async inspectRaw(ids: string[]): Promise<Record<string, unknown>[]> {
    if (ids.length === 0) return [];
    const r = await this.cli.run(['container', 'inspect', ...ids]);
    if (r.exitCode === 0) return parseJsonRecords(r.stdout);
    const err = runtimeError('inspect', r);
    if (err.kind !== 'NotFound') throw err;
    if (ids.length === 1) return [];
    const one = await Promise.all(ids.map((id) => this.inspectRaw([id])));
    return one.flat();
  }

  async inspect(id: string): Promise<RuntimeContainer | undefined> {
    const raw = (await this.inspectRaw([id]))[0];
    return raw ? this.toContainer(raw) : undefined;
  }

  protected toContainer(raw: Record<string, unknown>): RuntimeContainer {
    const state = rec(raw['State']);
    const status = stateOf(state);
    const error = str(state['Error']);
    const c: RuntimeContainer = {
      id: str(raw['Id']) ?? str(raw['ID']) ?? '',
      name: (str(raw['Name']) ?? '').replace(/^\//, ''),
      image: this.imageRefOf(raw),
      labels: labelsOf(rec(raw['Config'])['Labels']),
      state: status,
    };
    const imageId = this.imageIdOf(raw);
    if (imageId) c.imageId = imageId;
    if (status === 'exited') c.exitCode = num(state['ExitCode']) ?? 0;
    const startedAt = timeOrUndefined(state['StartedAt']);
    if (startedAt) c.startedAt = startedAt;
    const finishedAt = timeOrUndefined(state['FinishedAt']);
    if (finishedAt && status !== 'running') c.finishedAt = finishedAt;
    if (state['OOMKilled'] === true) c.oomKilled = true;
    if (error) c.error = error;
    if (c.id) this.usage.note(c.id, status === 'running' ? num(state['Pid']) : undefined, startedAt);
    return c;
  }

  async stop(id: string, timeoutSeconds: number): Promise<void> {
    const r = await this.cli.run(['stop', '-t', String(Math.max(0, Math.floor(timeoutSeconds))), id]);
    if (r.exitCode === 0) return;
    const err = runtimeError(`stop ${id}`, r);
    if (err.kind !== 'NotFound') throw err;
  }

  async remove(id: string): Promise<void> {
    const r = await this.cli.run(this.forceRemoveArgv(id));
    if (r.exitCode === 0) return;
    const err = runtimeError(`rm ${id}`, r);
    if (err.kind !== 'NotFound') throw err;
  }

  async logs(id: string, opts: LogOptions, sink: OutputSink): Promise<void> {
    const argv = ['logs'];
    if (opts.timestamps) argv.push('--timestamps');
    if (opts.tailLines !== undefined) argv.push('--tail', String(Math.max(0, Math.floor(opts.tailLines))));
    if (opts.sinceSeconds !== undefined) argv.push('--since', `${Math.max(0, Math.floor(opts.sinceSeconds))}s`);
    if (opts.follow) argv.push('--follow');
    argv.push(id);
    const r = await this.cli.stream(argv, sink, { signal: opts.signal });
    if (r.exitCode !== 0 && r.exitCode !== -1) throw runtimeError(`logs ${id}`, r);
  }

  async exec(id: string, command: string[], opts: ExecOptions, sink: OutputSink): Promise<number> {
    if (command.length === 0) throw new RuntimeError('Unknown', 'exec: empty command');
    const argv = ['exec'];
    if (opts.stdin) argv.push('--interactive');
    if (opts.tty) argv.push('--tty');
    argv.push(id, ...command);
    const r = await this.cli.stream(argv, sink, { signal: opts.signal, stdin: opts.stdin });
    // Cancelled by the caller: report it the way a shell reports a SIGTERM death.
    if (r.exitCode === -1) return 143;
    if (this.isCliFailure(r)) throw runtimeError(`exec ${id}`, r);
    return r.exitCode;
  }

  /** From the containers' cgroups; the runtime's `stats` only for those it cannot read. */
  /** One `container inspect --size`: SizeRw is the writable layer; the log file is measured where it lies. */
  async diskUsage(ids: string[]): Promise<Map<string, ContainerDisk>> {
    const out = new Map<string, ContainerDisk>();
    if (ids.length === 0) return out;
    const r = await this.cli.run(['container', 'inspect', '--size', ...ids]);
    if (r.exitCode !== 0) throw runtimeError('inspect --size', r);
    await Promise.all(parseJsonRecords(r.stdout).map(async (raw) => {
      const id = str(raw['Id']) ?? str(raw['ID']);
      if (!id) return;
      const logPath = str(raw['LogPath']);
      const logsBytes = logPath ? await stat(logPath).then((s) => s.blocks * 512, () => 0) : 0;
      out.set(id, { rootfsBytes: Math.max(0, num(raw['SizeRw']) ?? 0), logsBytes });
    }));
    return out;
  }

  async stats(ids: string[]): Promise<Map<string, ContainerStats>> {
    const { stats, missing } = await this.usage.read(ids);
    if (missing.length === 0) return stats;
    for (const [k, v] of await this.cliStats(missing)) stats.set(k, v);
    return stats;
  }

  watchEvents(onEvent: (e: RuntimeEvent) => void): EventWatch {
    const namespace = this.eventNamespace();
    return followEvents({
      start: (onLine) => this.eventStream(onLine),
      parse: (line) => parseRuntimeEvent(line, namespace !== undefined ? { namespace } : {}),
      onEvent,
      ...(this.log ? { log: this.log } : {}),
    });
  }

  /** The CLI's own `stats` (about a second per call: it samples). */
  protected async cliStats(ids: string[]): Promise<Map<string, ContainerStats>> {
    const out = new Map<string, ContainerStats>();
    if (ids.length === 0) return out;
    const r = await this.cli.run(['stats', '--no-stream', '--no-trunc', '--format', 'json', ...ids]);
    if (r.exitCode !== 0) {
      const err = runtimeError('stats', r);
      if (err.kind !== 'NotFound' || ids.length === 1) {
        if (err.kind === 'NotFound') return out;
        throw err;
      }
      // One container vanished: ask for each on its own so the others still count.
      for (const id of ids) for (const [k, v] of await this.cliStats([id])) out.set(k, v);
      return out;
    }
    const records = parseJsonRecords(r.stdout);
    for (const id of ids) {
      const hit = records.find((rec) => statsMatches(rec, id));
      if (!hit) continue;
      const cpu = parsePercent(str(hit['CPUPerc']) ?? str(hit['cpu_percent']) ?? str(hit['CPU']));
      const mem = parseUsage(str(hit['MemUsage']) ?? str(hit['mem_usage']));
      out.set(id, { cpuCores: (cpu ?? 0) / 100, memoryBytes: mem ?? 0 });
    }
    return out;
  }
}

function statsMatches(record: Record<string, unknown>, id: string): boolean {
  const rid = str(record['ID']) ?? str(record['id']) ?? str(record['ContainerID']) ?? '';
  const name = str(record['Name']) ?? str(record['name']) ?? '';
  return name === id || (rid.length >= 12 && (id.startsWith(rid) || rid.startsWith(id)));
}

/** Flags for the namespace-holding container or pod: network, hostname, ports, DNS, hosts. */
export function sandboxNetworkArgs(spec: SandboxSpec, defaultNetwork: string | undefined): string[] {
  const argv: string[] = [];
  if (spec.hostNetwork) {
    argv.push('--network', 'host');
  } else {
    const network = spec.network ?? defaultNetwork;
    if (network) argv.push('--network', network);
    if (spec.hostname) argv.push('--hostname', spec.hostname);
    for (const p of spec.ports) {
      argv.push('--publish', `${p.hostIP ? `${p.hostIP}:` : ''}${p.hostPort}:${p.containerPort}/${p.protocol}`);
    }
  }
  for (const s of spec.dns?.servers ?? []) argv.push('--dns', s);
  for (const s of spec.dns?.searches ?? []) argv.push('--dns-search', s);
  for (const s of spec.dns?.options ?? []) argv.push('--dns-option', s);
  for (const [host, ip] of Object.entries(spec.addHosts ?? {})) argv.push('--add-host', `${host}:${ip}`);
  return argv;
}

/** Maps every CLI's state words onto the contract's five states. */
export function stateOf(state: Record<string, unknown>): ContainerState {
  const status = (str(state['Status']) ?? '').toLowerCase();
  switch (status) {
    case 'running': case 'stopping': return 'running';
    case 'paused': return 'paused';
    case 'exited': case 'stopped': case 'dead': case 'removing': case 'restarting': return 'exited';
    // nerdctl prints "" for a container that never had a task.
    case '': case 'created': case 'configured': case 'initialized': return state['Running'] === true ? 'running' : 'created';
    default: return 'unknown';
  }
}

/** The pod IP: the top-level address, or the first network's. */
export function ipOf(raw: Record<string, unknown>): string | undefined {
  const ns = rec(raw['NetworkSettings']);
  const top = str(ns['IPAddress']);
  if (top) return top;
  for (const net of Object.values(rec(ns['Networks']))) {
    const ip = str(rec(net)['IPAddress']);
    if (ip) return ip;
  }
  return undefined;
}

// An in-memory runtime for load tests and many-node tests on one machine. Nothing is
// spawned: containers are records and timers, so thousands fit in one process. Images
// all exist unless their reference contains "nonexistent"; `sh -c 'exit N'` exits with N.
import { createHash, randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import { IpPool } from './ip-pool.js';
import {
  RuntimeError,
  type ContainerRuntime, type ContainerSpec, type ContainerStats, type EventWatch, type ExecOptions, type LogOptions,
  type OutputSink, type RuntimeContainer, type RuntimeEvent, type RuntimeImage, type SandboxInfo, type SandboxSpec,
} from './container-runtime.js';

export interface SimulatedOptions {
  /** Sandbox IPs come from here; default 10.244.0.0/24. */
  podCidr?: string;
  /** How long a container whose command is `sh -c 'exit N'` runs before exiting. */
  exitDelayMs?: number;
  log?: Logger;
}

export const DEFAULT_SIMULATED_CIDR = '10.244.0.0/24';

interface SimContainer {
  c: RuntimeContainer;
  spec: ContainerSpec;
  timer?: NodeJS.Timeout;
  /** Resolved when the container stops running (for logs --follow). */
  onExit: (() => void)[];
}

interface SimSandbox { info: SandboxInfo }

const EXIT_COMMAND = /^\s*exit\s+(\d{1,3})\s*$/;

/** N when the whole command line is `sh -c 'exit N'`, else undefined. */
function scriptedExit(argv: string[]): number | undefined {
  if (argv.length !== 3 || !['sh', 'bash', 'ash'].includes(basename(argv[0]!)) || argv[1] !== '-c') return undefined;
  const m = EXIT_COMMAND.exec(argv[2]!);
  return m ? Number(m[1]) & 255 : undefined;
}

function newId(): string {
  return randomBytes(32).toString('hex');
}

export class SimulatedRuntime implements ContainerRuntime {
  readonly name = 'simulated' as const;
  private readonly containers = new Map<string, SimContainer>();
  private readonly containerByName = new Map<string, SimContainer>();
  private readonly sandboxes = new Map<string, SimSandbox>();
  private readonly sandboxByName = new Map<string, SimSandbox>();
  private readonly pool: IpPool;
  private readonly exitDelayMs: number;
  private readonly watchers = new Set<(e: RuntimeEvent) => void>();

  constructor(opts: SimulatedOptions = {}) {
    this.pool = new IpPool(opts.podCidr ?? DEFAULT_SIMULATED_CIDR);
    this.exitDelayMs = opts.exitDelayMs ?? 50;
  }

  async version(): Promise<{ name: string; version: string }> {
    return { name: 'simulated', version: '1.0.0' };
  }

  async imageExists(ref: string): Promise<boolean> {
    return !ref.includes('nonexistent');
  }

  async pull(ref: string): Promise<void> {
    if (ref.includes('nonexistent')) {
      throw new RuntimeError('ImageNotFound', `pull ${ref}: failed to resolve reference "${ref}": not found`);
    }
    this.images.set(ref, this.imageOf(ref));
  }

  /** Images pulled or run here; every reference exists, so the store only lists those. */
  private readonly images = new Map<string, RuntimeImage>();

  private imageOf(ref: string): RuntimeImage {
    const digest = createHash('sha256').update(ref).digest();
    // a few MB, stable per reference
    return { id: `sha256:${digest.toString('hex')}`, names: [ref], sizeBytes: 1_000_000 + digest.readUInt32BE(0) % 8_000_000 };
  }

  async inspectImage(ref: string): Promise<RuntimeImage | undefined> {
    return ref.includes('nonexistent') ? undefined : this.images.get(ref) ?? this.imageOf(ref);
  }

  async listImages(): Promise<RuntimeImage[]> {
    return [...this.images.values()];
  }

  async removeImage(image: RuntimeImage): Promise<void> {
    for (const sim of this.containers.values()) {
      if (image.names.includes(sim.c.image)) throw new RuntimeError('Unknown', `rmi ${image.id}: image is in use by a container`);
    }
    for (const n of image.names) this.images.delete(n);
  }

  async imageId(ref: string): Promise<string | undefined> {
    if (ref.includes('nonexistent')) return undefined;
    return `sha256:${createHash('sha256').update(ref).digest('hex')}`;
  }

  // ---- sandboxes ----------------------------------------------------------------------

  async createSandbox(spec: SandboxSpec): Promise<SandboxInfo> {
    const stale = this.findSandbox(spec.name);
    if (stale) await this.removeSandbox(stale.info.id);
    const info: SandboxInfo = { id: newId(), name: spec.name, labels: { ...spec.labels }, running: true };
    if (!spec.hostNetwork) {
      const ip = this.pool.allocate();
      if (!ip) throw new RuntimeError('CreateFailed', `sandbox ${spec.name}: no free address in the pod CIDR`);
      info.ip = ip;
    }
    const sb = { info };
    this.sandboxes.set(info.id, sb);
    this.sandboxByName.set(info.name, sb);
    return { ...info, labels: { ...info.labels } };
  }

  async listSandboxes(labels: Record<string, string>): Promise<SandboxInfo[]> {
    return [...this.sandboxes.values()]
      .filter((s) => matches(s.info.labels, labels))
      .map((s) => ({ ...s.info, labels: { ...s.info.labels } }));
  }

  async removeSandbox(id: string): Promise<void> {
    const s = this.findSandbox(id);
    if (!s) return;
    if (s.info.ip) this.pool.release(s.info.ip);
    this.sandboxes.delete(s.info.id);
    this.sandboxByName.delete(s.info.name);
  }

  private findSandbox(idOrName: string): SimSandbox | undefined {
    return this.sandboxes.get(idOrName) ?? this.sandboxByName.get(idOrName);
  }

  // ---- containers ---------------------------------------------------------------------

  async run(spec: ContainerSpec): Promise<string> {
    if (spec.image.includes('nonexistent')) {
      if (spec.pullPolicy === 'Never') {
        throw new RuntimeError('ImageNeverPull', `run ${spec.name}: image not available: "${spec.image}"`);
      }
      throw new RuntimeError('ImageNotFound', `run ${spec.name}: failed to resolve reference "${spec.image}": not found`);
    }
    if (spec.sandboxId && !this.findSandbox(spec.sandboxId)) {
      throw new RuntimeError('CreateFailed', `run ${spec.name}: sandbox ${spec.sandboxId} not found`);
    }
    const stale = this.find(spec.name);
    if (stale) await this.remove(stale.c.id);
    const id = newId();
    const sim: SimContainer = {
      c: {
        id, name: spec.name, image: spec.image, imageId: await this.imageId(spec.image), labels: { ...spec.labels },
        state: 'running', startedAt: new Date().toISOString(),
      },
      spec,
      onExit: [],
    };
    const code = scriptedExit([...(spec.command ?? []), ...(spec.args ?? [])]);
    if (code !== undefined) {
      sim.timer = setTimeout(() => this.exit(sim, code), this.exitDelayMs);
      sim.timer.unref();
    }
    this.containers.set(id, sim);
    this.containerByName.set(spec.name, sim);
    return id;
  }

  private exit(sim: SimContainer, code: number): void {
    if (sim.c.state !== 'running') return;
    if (sim.timer) clearTimeout(sim.timer);
    sim.timer = undefined;
    sim.c.state = 'exited';
    sim.c.exitCode = code;
    sim.c.finishedAt = new Date().toISOString();
    for (const wake of sim.onExit.splice(0)) wake();
    this.emit({ type: 'container', action: 'exited', id: sim.c.id, labels: { ...sim.c.labels } });
  }

  /** Exits and removals, as a CLI runtime's event stream reports them (delivered asynchronously). */
  watchEvents(onEvent: (e: RuntimeEvent) => void): EventWatch {
    this.watchers.add(onEvent);
    return { stop: () => { this.watchers.delete(onEvent); } };
  }

  private emit(e: RuntimeEvent): void {
    if (this.watchers.size === 0) return;
    queueMicrotask(() => { for (const w of this.watchers) w(e); });
  }

  private find(idOrName: string): SimContainer | undefined {
    const hit = this.containers.get(idOrName) ?? this.containerByName.get(idOrName);
    if (hit || idOrName.length < 12) return hit;
    // A short ID prefix, as CLIs print them.
    for (const sim of this.containers.values()) if (sim.c.id.startsWith(idOrName)) return sim;
    return undefined;
  }

  private mustFind(idOrName: string, what: string): SimContainer {
    const sim = this.find(idOrName);
    if (!sim) throw new RuntimeError('NotFound', `${what}: no such container: ${idOrName}`);
    return sim;
  }

  async list(labels: Record<string, string>): Promise<RuntimeContainer[]> {
    const out: RuntimeContainer[] = [];
    for (const sim of this.containers.values()) if (matches(sim.c.labels, labels)) out.push(copy(sim.c));
    return out;
  }

  async inspect(id: string): Promise<RuntimeContainer | undefined> {
    const sim = this.find(id);
    return sim ? copy(sim.c) : undefined;
  }

  async stop(id: string, timeoutSeconds: number): Promise<void> {
    const sim = this.find(id);
    // A process that honours SIGTERM dies with 143; with no grace it is SIGKILLed (137).
    if (sim) this.exit(sim, timeoutSeconds > 0 ? 143 : 137);
  }

  async remove(id: string): Promise<void> {
    const sim = this.find(id);
    if (!sim) return;
    this.exit(sim, 137);
    this.containers.delete(sim.c.id);
    if (this.containerByName.get(sim.c.name) === sim) this.containerByName.delete(sim.c.name);
    this.emit({ type: 'container', action: 'removed', id: sim.c.id, labels: { ...sim.c.labels } });
  }

  async logs(id: string, opts: LogOptions, sink: OutputSink): Promise<void> {
    const sim = this.mustFind(id, 'logs');
    const started = Date.parse(sim.c.startedAt ?? new Date().toISOString());
    let lines = [
      `starting ${sim.c.name}`,
      `image ${sim.c.image}`,
      `listening, pid 1`,
      ...(sim.c.state === 'exited' ? [`exiting with code ${sim.c.exitCode ?? 0}`] : []),
    ].map((text, i) => ({ at: new Date(started + i), text }));
    if (opts.sinceSeconds !== undefined) lines = lines.filter((l) => l.at.getTime() >= Date.now() - opts.sinceSeconds! * 1000);
    if (opts.tailLines !== undefined) lines = opts.tailLines > 0 ? lines.slice(-opts.tailLines) : [];
    for (const l of lines) sink('stdout', Buffer.from(`${opts.timestamps ? `${l.at.toISOString()} ` : ''}${l.text}\n`));
    if (!opts.follow || sim.c.state !== 'running') return;
    await new Promise<void>((resolve) => {
      const done = () => { opts.signal?.removeEventListener('abort', done); resolve(); };
      sim.onExit.push(done);
      opts.signal?.addEventListener('abort', done, { once: true });
    });
  }

  async exec(id: string, command: string[], _opts: ExecOptions, sink: OutputSink): Promise<number> {
    const sim = this.mustFind(id, 'exec');
    if (sim.c.state !== 'running') throw new RuntimeError('Unknown', `exec ${id}: container is not running`);
    if (command.length === 0) throw new RuntimeError('Unknown', 'exec: empty command');
    const program = basename(command[0]!);
    if (program === 'echo') {
      sink('stdout', Buffer.from(`${command.slice(1).join(' ')}\n`));
      return 0;
    }
    if (program === 'true') return 0;
    if (program === 'false') return 1;
    return scriptedExit(command) ?? 0;
  }

  async stats(ids: string[]): Promise<Map<string, ContainerStats>> {
    const out = new Map<string, ContainerStats>();
    for (const id of ids) {
      const sim = this.find(id);
      if (!sim || sim.c.state !== 'running') continue;
      // Stable per container, so sums over a node are reproducible.
      const seed = parseInt(sim.c.id.slice(0, 8), 16);
      out.set(id, { cpuCores: 0.001 + (seed % 10) / 1000, memoryBytes: (4 + (seed % 16)) * 1024 * 1024 });
    }
    return out;
  }
}

function matches(have: Record<string, string>, want: Record<string, string>): boolean {
  for (const k in want) if (have[k] !== want[k]) return false;
  return true;
}

function copy(c: RuntimeContainer): RuntimeContainer {
  return { ...c, labels: { ...c.labels } };
}

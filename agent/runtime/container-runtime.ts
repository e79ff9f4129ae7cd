// The contract every container runtime driver fulfils. Drivers own their CLI (one
// module per CLI, all through child-process.ts); the pod workers only ever see these types.

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export interface PortMapping { hostPort: number; containerPort: number; protocol: 'tcp' | 'udp'; hostIP?: string }
export interface Mount { source: string; target: string; readOnly: boolean }

/** The network namespace a pod's containers share ("pause" container or podman pod). */
export interface SandboxSpec {
  /** Runtime name, unique on the node, matching [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
  name: string;
  labels: Record<string, string>;
  hostname?: string;
  hostNetwork: boolean;
  /** Named runtime network (CNI bridge for nerdctl, podman network); undefined = the runtime's default bridge. */
  network?: string;
  ports: PortMapping[];
  dns?: { servers: string[]; searches: string[]; options: string[] };
  addHosts?: Record<string, string>;
}

export interface SandboxInfo { id: string; name: string; labels: Record<string, string>; running: boolean; ip?: string }

export interface ContainerSpec {
  /** Runtime name, unique on the node. */
  name: string;
  image: string;
  /** Maps to `--pull always|missing|never`; undefined = IfNotPresent. */
  pullPolicy?: PullPolicy;
  /** Replaces the image entrypoint (Kubernetes `command`). */
  command?: string[];
  /** Replaces the image cmd (Kubernetes `args`). */
  args?: string[];
  workingDir?: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  /** Join this sandbox's network namespace; undefined = host network. */
  sandboxId?: string;
  cpus?: number;
  memoryBytes?: number;
  mounts: Mount[];
  user?: string;
  privileged?: boolean;
  tty?: boolean;
  stdin?: boolean;
}

export type ContainerState = 'created' | 'running' | 'exited' | 'paused' | 'unknown';

export interface RuntimeContainer {
  id: string;
  name: string;
  image: string;
  imageId?: string;
  labels: Record<string, string>;
  state: ContainerState;
  exitCode?: number;
  /** ISO timestamps, undefined when unset. */
  startedAt?: string;
  finishedAt?: string;
  oomKilled?: boolean;
  /** Message the runtime recorded for a failed start. */
  error?: string;
}

export interface ContainerStats { cpuCores: number; memoryBytes: number }

/** A container's own bytes on disk: its writable layer and its log file. */
export interface ContainerDisk { rootfsBytes: number; logsBytes: number }

/** Registry credentials for one pull, never written where others can read them. */
export interface PullCredential { registry: string; username: string; password: string }
export interface PullOptions { credential?: PullCredential }

/** An image in the runtime's store. */
export interface RuntimeImage {
  id: string;
  /** Repository tags and digests (`registry/repo:tag`, `registry/repo@sha256:…`). */
  names: string[];
  sizeBytes: number;
  /** ISO time the image was built, when the runtime says. */
  created?: string;
}

/**
 * What the runtime's event stream says about a container, reduced to what makes an
 * agent look again: it exited, was OOM-killed, or was removed. `restarted` means the
 * stream itself was down for a while: events may have been missed.
 */
export type RuntimeEvent =
  | { type: 'container'; action: 'exited' | 'oom' | 'removed'; id: string; labels?: Record<string, string> }
  | { type: 'restarted' };

export interface EventWatch { stop(): void }

export type RuntimeErrorKind =
  | 'ImageNotFound'     // registry says it does not exist → ErrImagePull
  | 'Unauthorized'      // the registry refused the credentials (or their absence) → ErrImagePull
  | 'ImageNeverPull'    // pull policy Never and the image is absent → ErrImageNeverPull
  | 'NameConflict'      // a container with that name exists
  | 'NotFound'          // no such container
  | 'Transient'         // registry/network trouble: retry with back-off
  | 'CreateFailed'      // the runtime refused the container (bad entrypoint, cgroup...) → CreateContainerError / RunContainerError
  | 'Unknown';

export class RuntimeError extends Error {
  constructor(readonly kind: RuntimeErrorKind, message: string, readonly stderr = '') {
    super(message);
    this.name = 'RuntimeError';
  }
}

export interface LogOptions { follow: boolean; tailLines?: number; timestamps: boolean; sinceSeconds?: number; signal?: AbortSignal }
export interface ExecOptions { stdin?: NodeJS.ReadableStream; tty: boolean; signal?: AbortSignal }
export type OutputSink = (stream: 'stdout' | 'stderr', chunk: Buffer) => void;

export interface ContainerRuntime {
  readonly name: 'nerdctl' | 'podman' | 'docker' | 'simulated';
  /** e.g. {name:'podman', version:'4.3.1'}; containerRuntimeVersion is `${name}://${version}`. */
  version(): Promise<{ name: string; version: string }>;
  imageExists(ref: string): Promise<boolean>;
  /** Throws RuntimeError ImageNotFound / Transient / Unauthorized. */
  pull(ref: string, opts?: PullOptions): Promise<void>;
  imageId(ref: string): Promise<string | undefined>;
  /** The image a reference names, with its size; undefined when absent. */
  inspectImage(ref: string): Promise<RuntimeImage | undefined>;
  /** Every image in the store. */
  listImages(): Promise<RuntimeImage[]>;
  /** Removes an image (by its names, else its id); one still used by a container is refused (RuntimeError). */
  removeImage(image: RuntimeImage): Promise<void>;
  /** The directory holding the image store, for disk usage; undefined when unknown. */
  imageStorePath?(): Promise<string | undefined>;

  createSandbox(spec: SandboxSpec): Promise<SandboxInfo>;
  listSandboxes(labels: Record<string, string>): Promise<SandboxInfo[]>;
  removeSandbox(id: string): Promise<void>;

  /**
   * Keeps spare sandboxes ready on this pod network (undefined = the runtime's default),
   * when the driver was asked to; spares of an earlier run are taken back. Optional.
   */
  keepSandboxesReady?(network: string | undefined): Promise<void>;
  /** Removes the spare sandboxes nobody took (the agent is stopping). */
  releaseSpareSandboxes?(): Promise<void>;

  /** Creates and starts a container, detached. Removes a stale container of the same name first. */
  run(spec: ContainerSpec): Promise<string>;
  /** Every container (any state) carrying all these labels; sandboxes excluded. */
  list(labels: Record<string, string>): Promise<RuntimeContainer[]>;
  inspect(id: string): Promise<RuntimeContainer | undefined>;
  /** SIGTERM, then SIGKILL after timeoutSeconds. Missing container is not an error. */
  stop(id: string, timeoutSeconds: number): Promise<void>;
  /** Force-removes; missing container is not an error. */
  remove(id: string): Promise<void>;
  logs(id: string, opts: LogOptions, sink: OutputSink): Promise<void>;
  /** Runs a command in a running container; resolves with its exit code. */
  exec(id: string, command: string[], opts: ExecOptions, sink: OutputSink): Promise<number>;
  stats(ids: string[]): Promise<Map<string, ContainerStats>>;
  /** Writable layer and log size per container, for disk-pressure eviction; optional. */
  diskUsage?(ids: string[]): Promise<Map<string, ContainerDisk>>;
  /**
   * Follows the runtime's event stream (a long-lived child for CLI drivers, respawned
   * when it dies) so exits are noticed without polling. Optional: without it the agent
   * relists often.
   */
  watchEvents?(onEvent: (e: RuntimeEvent) => void): EventWatch;
}

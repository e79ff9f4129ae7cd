// docker CLI: nerdctl's grammar, with docker's own output. `Name` has a leading `/`,
// inspect `Image` is the image ID (the reference is in Config.Image).
import { CliRuntime, type CliRuntimeOptions } from './container-cli-runtime.js';
import { rec, str } from './container-cli-output.js';

export interface DockerOptions extends CliRuntimeOptions {
  /** Daemon socket (`-H`), when not the default. */
  host?: string;
}

export class DockerRuntime extends CliRuntime {
  readonly name = 'docker' as const;
  private readonly host: string | undefined;

  constructor(opts: DockerOptions = {}) {
    super('docker', opts);
    this.host = opts.host;
  }

  protected override globalArgs(): string[] {
    return this.host ? ['--host', this.host] : [];
  }

  /** The daemon's data root (images, containers). */
  async imageStorePath(): Promise<string | undefined> {
    const r = await this.cli.run(['info', '--format', '{{.DockerRootDir}}']);
    return r.exitCode === 0 ? r.stdout.trim() || undefined : undefined;
  }

  protected override eventsArgv(): string[] {
    return ['events', '--format', '{{json .}}', '--filter', 'type=container'];
  }

  protected parseVersion(json: Record<string, unknown>): { name: string; version: string } {
    const version = str(rec(json['Server'])['Version']) ?? str(rec(json['Client'])['Version']);
    if (!version) throw new Error('docker version: no Server.Version nor Client.Version');
    return { name: 'docker', version };
  }

  protected imageRefOf(raw: Record<string, unknown>): string {
    return str(rec(raw['Config'])['Image']) ?? str(raw['Image']) ?? '';
  }

  protected imageIdOf(raw: Record<string, unknown>): string | undefined {
    return str(raw['Image']);
  }
}

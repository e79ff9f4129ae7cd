// Benchmark roles in network namespaces: shell steps run inside a namespace, and a
// benchmark script's role run as a child process there, talking JSON lines over its
// stdin/stdout (the parent sends requests and waits for matching replies).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { execa } from 'execa';

/** Runs a command; a non-zero exit throws with its output. */
export async function sh(cmd: string, args: string[]): Promise<void> {
  const r = await execa(cmd, args, { reject: false });
  if (r.exitCode !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.stdout}`);
}
/** Runs a command inside network namespace `ns`. */
export const inNs = (ns: string, cmd: string, args: string[]) => sh('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args]);

/** A role of a benchmark script in a child process, inside a namespace; JSON lines both ways. */
export class NetnsWorker {
  readonly child: ChildProcess;
  private readonly messages: any[] = [];
  private readonly waiters: { match: (m: any) => boolean; resolve: (m: any) => void; reject: (e: Error) => void }[] = [];
  private stderr = '';
  private readonly exited: Promise<unknown>;

  /** Runs `node <script> <role> '<json args>'` in network namespace `ns`. */
  constructor(script: string, ns: string, role: string, args: object) {
    this.child = spawn('nsenter', [`--net=/run/netns/${ns}`, process.execPath, script, role, JSON.stringify(args)], { stdio: ['pipe', 'pipe', 'pipe'] });
    // 'close', not 'exit': the last stdout lines may still be on their way at exit
    this.exited = new Promise((r) => this.child.once('close', r));
    this.child.once('close', () => {
      for (const w of this.waiters.splice(0)) w.reject(new Error(`worker ${role} exited; stderr: ${this.stderr}`));
    });
    this.child.stderr!.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-4000); });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let m: any;
      try { m = JSON.parse(line); } catch { return; }
      const i = this.waiters.findIndex((w) => w.match(m));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
      else this.messages.push(m);
    });
  }

  send(m: object): void {
    this.child.stdin!.write(JSON.stringify(m) + '\n');
  }

  /** The next message that matches, within `timeoutMs`. */
  next(match: (m: any) => boolean, timeoutMs = 60_000, what = 'a reply'): Promise<any> {
    const i = this.messages.findIndex(match);
    if (i >= 0) return Promise.resolve(this.messages.splice(i, 1)[0]);
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.reject(new Error(`worker exited before ${what}; stderr: ${this.stderr}`));
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve: (m: any) => { clearTimeout(timer); resolve(m); }, reject: (e: Error) => { clearTimeout(timer); reject(e); } };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`${what} did not come within ${timeoutMs} ms; stderr: ${this.stderr}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Closes stdin (the worker cleans up and exits), then kills it if it lingers. */
  async end(graceMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin!.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

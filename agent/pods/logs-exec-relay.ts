// `kubectl logs` and `kubectl exec`, relayed to the agent as requests: each reply is a
// stream of ordered chunks (seq from 0) whose last one has done: true. Exec stdin comes
// as exec-input messages, which may arrive out of order or even before the exec itself.
import { PassThrough } from 'node:stream';
import type pino from 'pino';
import type { ExecInput, ExecRequest, LogsRequest, RequestPayload, ResponseChunk } from '../../protocol/mqtt/payloads.js';
import type { ContainerRuntime, RuntimeContainer } from '../runtime/container-runtime.js';
import type { PodWorker } from './pod-worker.js';

export type Reply = (chunk: ResponseChunk) => void;

export interface PodLookup {
  /** The pod by uid, or by namespace and name when uid is empty. */
  find(uid: string, namespace: string, name: string): PodWorker | undefined;
}

interface Transaction {
  abort: AbortController;
  stdin?: PassThrough;
  /** exec-input not yet written, by seq. */
  pending: Map<number, ExecInput>;
  nextInput: number;
  eof: boolean;
}

function isLive(c: RuntimeContainer | undefined): boolean {
  return c !== undefined && c.state === 'running';
}

export class RequestRelay {
  private readonly transactions = new Map<string, Transaction>();
  /** Recently finished transactions: late exec-input for them is dropped, not kept. */
  private readonly finished = new Set<string>();

  constructor(private readonly runtime: ContainerRuntime, private readonly pods: PodLookup, private readonly log: pino.Logger) {}

  handle(req: RequestPayload, reply: Reply): void {
    if (!req || typeof req !== 'object' || typeof (req as { transaction?: unknown }).transaction !== 'string') {
      this.log.warn({ req }, 'request without a transaction ignored');
      return;
    }
    switch (req.op) {
      case 'logs': void this.logs(req, this.sequenced(req.transaction, reply)); break;
      case 'exec': void this.exec(req, this.sequenced(req.transaction, reply)); break;
      case 'exec-input': this.input(req); break;
      case 'cancel': this.cancel(req.transaction); break;
      default: {
        const op = (req as { op?: unknown }).op;
        reply({ transaction: (req as { transaction: string }).transaction, seq: 0, done: true, error: `unsupported request op ${JSON.stringify(op)}` });
      }
    }
  }

  /** Aborts every open stream (agent shutting down). */
  cancelAll(): void {
    for (const id of [...this.transactions.keys()]) this.cancel(id);
  }

  get open(): number {
    return this.transactions.size;
  }

  private sequenced(transaction: string, reply: Reply): (c: Omit<ResponseChunk, 'transaction' | 'seq'>) => void {
    let seq = 0;
    let closed = false;
    return (c) => {
      if (closed) return;
      if (c.done) closed = true;
      reply({ transaction, seq: seq++, ...c });
    };
  }

  private finish(id: string): void {
    this.transactions.delete(id);
    this.finished.add(id);
    if (this.finished.size > 256) this.finished.delete(this.finished.values().next().value!);
  }

  private transaction(id: string): Transaction {
    let t = this.transactions.get(id);
    if (!t) {
      t = { abort: new AbortController(), pending: new Map(), nextInput: 0, eof: false };
      this.transactions.set(id, t);
    }
    return t;
  }

  private cancel(id: string): void {
    const t = this.transactions.get(id);
    if (!t) return;
    t.abort.abort();
    t.stdin?.end();
    this.finish(id);
  }

  /** Finds the pod and the container a request names, or says why not. */
  private async target(req: LogsRequest | ExecRequest): Promise<{ worker: PodWorker; container: string } | { error: string }> {
    const worker = this.pods.find(req.uid, req.namespace, req.pod);
    if (!worker || !worker.desired) return { error: `pods "${req.pod}" not found` };
    const spec = worker.desired.pod.spec;
    const names = [...(spec.initContainers ?? []), ...spec.containers].map((c) => c.name);
    let container = req.container;
    if (!container) {
      if (spec.containers.length !== 1) return { error: `a container name must be specified for pod ${req.pod}, choose one of: [${spec.containers.map((c) => c.name).join(' ')}]` };
      container = spec.containers[0]!.name;
    }
    if (!names.includes(container)) return { error: `container "${container}" in pod "${req.pod}" is not found` };
    return { worker, container };
  }

  private async logs(req: LogsRequest, send: (c: Omit<ResponseChunk, 'transaction' | 'seq'>) => void): Promise<void> {
    const t = this.transaction(req.transaction);
    try {
      const found = await this.target(req);
      if ('error' in found) { send({ done: true, error: found.error }); return; }
      const { worker, container } = found;
      const inst = await worker.instances(container);
      let target: RuntimeContainer | undefined;
      if (req.previous) {
        target = inst.current && !isLive(inst.current) && worker.willRestartContainer(container, inst.current) ? inst.current : inst.previous;
        if (!target) { send({ done: true, error: `previous terminated container "${container}" in pod "${req.pod}" not found` }); return; }
      } else {
        target = inst.current;
        if (!target) {
          const reason = worker.waitingReason(container) ?? 'ContainerCreating';
          send({ done: true, error: `container "${container}" in pod "${req.pod}" is waiting to start: ${reason}` });
          return;
        }
      }
      const opts: Parameters<ContainerRuntime['logs']>[1] = { follow: req.follow && !req.previous, timestamps: req.timestamps, signal: t.abort.signal };
      if (req.tailLines !== undefined) opts.tailLines = req.tailLines;
      if (req.sinceSeconds !== undefined) opts.sinceSeconds = req.sinceSeconds;
      await this.runtime.logs(target.id, opts, (stream, chunk) => send({ stream, data: chunk.toString('base64') }));
      send({ done: true });
    } catch (err) {
      send({ done: true, error: t.abort.signal.aborted ? 'cancelled' : (err as Error).message });
    } finally {
      this.finish(req.transaction);
    }
  }

  private async exec(req: ExecRequest, send: (c: Omit<ResponseChunk, 'transaction' | 'seq'>) => void): Promise<void> {
    const t = this.transaction(req.transaction);
    if (req.stdin) {
      t.stdin = new PassThrough();
      this.flushInput(t); // input that came before the exec itself
    }
    try {
      if (!Array.isArray(req.command) || req.command.length === 0) { send({ done: true, error: 'you must specify at least one command for the container' }); return; }
      const found = await this.target(req);
      if ('error' in found) { send({ done: true, error: found.error }); return; }
      const { worker, container } = found;
      const inst = await worker.instances(container);
      if (!isLive(inst.current)) { send({ done: true, error: `container "${container}" in pod "${req.pod}" is not running` }); return; }
      const opts: Parameters<ContainerRuntime['exec']>[2] = { tty: req.tty, signal: t.abort.signal };
      if (t.stdin) opts.stdin = t.stdin;
      const exitCode = await this.runtime.exec(inst.current!.id, req.command, opts, (stream, chunk) => send({ stream, data: chunk.toString('base64') }));
      send({ done: true, exitCode });
    } catch (err) {
      send({ done: true, error: t.abort.signal.aborted ? 'cancelled' : (err as Error).message });
    } finally {
      t.stdin?.end();
      this.finish(req.transaction);
    }
  }

  /** exec-input: data is base64; written in seq order, eof closes stdin. */
  private input(msg: ExecInput): void {
    if (typeof msg.seq !== 'number' || this.finished.has(msg.transaction)) return;
    const t = this.transaction(msg.transaction);
    if (msg.seq < t.nextInput) return; // duplicate
    t.pending.set(msg.seq, msg);
    this.flushInput(t);
  }

  private flushInput(t: Transaction): void {
    if (!t.stdin) return;
    for (let m = t.pending.get(t.nextInput); m; m = t.pending.get(t.nextInput)) {
      t.pending.delete(t.nextInput);
      t.nextInput++;
      if (t.eof) continue;
      if (m.data) t.stdin.write(Buffer.from(m.data, 'base64'));
      if (m.eof) { t.eof = true; t.stdin.end(); }
    }
  }
}

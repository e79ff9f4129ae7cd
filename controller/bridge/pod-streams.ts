// `kubectl logs` and `kubectl exec` relayed over the node's MQTT connection: requests go
// to `<base>/v1/nodes/<node>/request/<op>`, replies come back as ordered chunks on
// `.../response/<op>`. Nodes need no inbound port.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { KubeObject, Pod } from '../../protocol/kube/types.js';
import type { ExecInput, RequestPayload, ResponseChunk } from '../../protocol/mqtt/payloads.js';
import { ApiError, badRequest } from '../apiserver/errors.js';
import type { ApiCore } from '../apiserver/api-core.js';
import { findResource } from '../apiserver/resources.js';
import type { PodStreams } from '../apiserver/http/resource-routes.js';
import { sendError } from '../apiserver/http/respond.js';
import { flag, intParam } from '../apiserver/http/query-params.js';

export interface RequestSender {
  send(node: string, op: string, payload: RequestPayload): Promise<unknown>;
}

type ChunkHandler = (c: ResponseChunk) => void;

/** Delivers chunks of one transaction in seq order. */
class Reorder {
  private next = 0;
  private readonly held = new Map<number, ResponseChunk>();
  constructor(private readonly deliver: ChunkHandler) {}
  push(c: ResponseChunk): void {
    this.held.set(c.seq, c);
    while (this.held.has(this.next)) {
      const x = this.held.get(this.next)!;
      this.held.delete(this.next++);
      this.deliver(x);
    }
  }
}

const WS_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io'];

export class PodStreamRelay implements PodStreams {
  private readonly pending = new Map<string, Reorder>();
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => WS_PROTOCOLS.find((p) => protocols.has(p)) ?? false,
  });

  constructor(private readonly sender: RequestSender, private readonly core: ApiCore, private readonly isOnline: (node: string) => boolean) {}

  /** Asks a node's agent to delete a reclaimed local-path volume's directory. */
  async removeVolume(node: string, path: string, timeoutMs = 30_000): Promise<void> {
    if (!this.isOnline(node)) throw new Error(`node ${node} is not connected`);
    const transaction = randomUUID();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { this.pending.delete(transaction); reject(new Error('the node did not answer')); }, timeoutMs);
      this.pending.set(transaction, new Reorder((c) => {
        if (!c.done) return;
        clearTimeout(timer);
        this.pending.delete(transaction);
        if (c.error) reject(new Error(c.error)); else resolve();
      }));
      this.sender.send(node, 'remove-volume', { op: 'remove-volume', transaction, path }).catch((err) => {
        clearTimeout(timer);
        this.pending.delete(transaction);
        reject(err instanceof Error ? err : new Error(String(err)));
      });
    });
  }

  /** Called by the bridge for every response chunk from any node. */
  onResponse(chunk: ResponseChunk): void {
    this.pending.get(chunk.transaction)?.push(chunk);
  }

  private target(pod: KubeObject, container: string | null): { node: string; container: string } {
    const p = pod as Pod;
    const node = p.spec.nodeName;
    if (!node) throw badRequest(`pod ${p.metadata.name} does not have a host assigned`);
    const names = [...(p.spec.initContainers ?? []), ...p.spec.containers].map((c) => c.name);
    let name = container ?? undefined;
    if (!name) {
      if (p.spec.containers.length !== 1) {
        throw badRequest(`a container name must be specified for pod ${p.metadata.name}, choose one of: [${p.spec.containers.map((c) => c.name).join(' ')}]`);
      }
      name = p.spec.containers[0]!.name;
    }
    if (!names.includes(name)) throw badRequest(`container ${name} is not valid for pod ${p.metadata.name}`);
    if (!this.isOnline(node)) throw new ApiError(503, 'ServiceUnavailable', `node ${node} is not connected`);
    return { node, container: name };
  }

  async logs(req: IncomingMessage, res: ServerResponse, pod: KubeObject, q: URLSearchParams): Promise<void> {
    const { node, container } = this.target(pod, q.get('container'));
    const transaction = randomUUID();
    const follow = flag(q, 'follow');
    let started = false;
    await new Promise<void>((resolve) => {
      const finish = () => { this.pending.delete(transaction); resolve(); };
      this.pending.set(transaction, new Reorder((c) => {
        if (c.error && !started) {
          sendError(res, badRequest(c.error));
          return finish();
        }
        if (c.data) {
          if (!started) { res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' }); started = true; }
          res.write(Buffer.from(c.data, 'base64'));
        }
        if (c.done) {
          if (!started) res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.end();
          finish();
        }
      }));
      const cancel = () => {
        if (!this.pending.has(transaction)) return;
        void this.sender.send(node, 'cancel', { op: 'cancel', transaction }).catch(() => undefined);
        finish();
      };
      res.on('close', cancel);
      // Parameters were checked by the API server (checkLogParams) before reaching here.
      const tail = intParam(q, 'tailLines', 0);
      const sinceTime = q.get('sinceTime');
      const since = intParam(q, 'sinceSeconds', 1) ?? (sinceTime ? Math.max(1, Math.ceil((Date.now() - Date.parse(sinceTime)) / 1000)) : undefined);
      this.sender.send(node, 'logs', {
        op: 'logs', transaction, namespace: pod.metadata.namespace!, pod: pod.metadata.name!, uid: pod.metadata.uid!, container,
        follow, timestamps: flag(q, 'timestamps'), previous: flag(q, 'previous'),
        ...(tail !== undefined ? { tailLines: tail } : {}), ...(since !== undefined ? { sinceSeconds: since } : {}),
      }).catch((err) => {
        if (!started) sendError(res, new ApiError(503, 'ServiceUnavailable', `logs request not delivered: ${String(err)}`));
        finish();
      });
      // Without follow, an agent that never answers must not hold the request forever.
      if (!follow) setTimeout(() => { if (this.pending.has(transaction)) { if (!started) sendError(res, new ApiError(504, 'Timeout', 'the node did not answer')); else res.end(); finish(); } }, 30_000).unref();
    });
  }

  /** Plain HTTP exec requests: kubectl retries SPDY on anything but 101, so say no clearly. */
  async exec(_req: IncomingMessage, res: ServerResponse): Promise<void> {
    sendError(res, badRequest('exec needs a WebSocket upgrade (protocol v5.channel.k8s.io)'));
  }

  /** WebSocket exec (`GET .../pods/P/exec?command=...` with Upgrade: websocket). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    const m = url.pathname.match(/^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach)$/);
    const reject = (err: ApiError): void => { socket.end(`HTTP/1.1 ${err.code} ${err.reason}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify(err.status())}`); };
    if (!m || m[3] !== 'exec') return reject(new ApiError(404, 'NotFound', 'the server could not find the requested resource'));
    let pod: KubeObject;
    let target: { node: string; container: string };
    const q = url.searchParams;
    const command = q.getAll('command');
    try {
      pod = this.core.get(findResource('', 'pods')!, decodeURIComponent(m[1]!), decodeURIComponent(m[2]!));
      target = this.target(pod, q.get('container'));
      if (!command.length) throw badRequest('you must specify at least one command for the container');
    } catch (err) {
      return reject(err instanceof ApiError ? err : new ApiError(500, 'InternalError', String(err)));
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.runExec(ws, pod, target, command, q));
  }

  private runExec(ws: WebSocket, pod: KubeObject, target: { node: string; container: string }, command: string[], q: URLSearchParams): void {
    const transaction = randomUUID();
    const v5 = ws.protocol === 'v5.channel.k8s.io';
    const stdin = q.get('stdin') === 'true' || q.get('stdin') === '1';
    const tty = q.get('tty') === 'true' || q.get('tty') === '1';
    let inputSeq = 0;
    let closed = false;
    const frame = (channel: number, data: Buffer | string) => {
      if (ws.readyState !== ws.OPEN) return;
      const body = typeof data === 'string' ? Buffer.from(data) : data;
      ws.send(Buffer.concat([Buffer.from([channel]), body]));
    };
    const finish = (status: object) => {
      if (closed) return;
      closed = true;
      this.pending.delete(transaction);
      frame(3, JSON.stringify(status));
      ws.close(1000);
    };
    this.pending.set(transaction, new Reorder((c) => {
      if (c.data) frame(c.stream === 'stderr' ? 2 : 1, Buffer.from(c.data, 'base64'));
      if (c.error) return finish({ metadata: {}, status: 'Failure', message: c.error, reason: 'InternalError', code: 500 });
      if (c.done) {
        const code = c.exitCode ?? 0;
        finish(code === 0
          ? { metadata: {}, status: 'Success' }
          : { metadata: {}, status: 'Failure', message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`, reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: String(code) }] } });
      }
    }));
    const send = (p: RequestPayload) => this.sender.send(target.node, p.op, p);
    ws.on('message', (raw: Buffer, isBinary: boolean) => {
      const data = isBinary ? raw : Buffer.from(raw.toString(), 'utf8');
      if (!data.length) return;
      const channel = data[0]!;
      const body = data.subarray(1);
      if (channel === 0 && body.length) {
        void send({ op: 'exec-input', transaction, seq: inputSeq++, data: body.toString('base64') } satisfies ExecInput).catch(() => undefined);
      } else if (channel === 255 && v5 && body[0] === 0) {
        void send({ op: 'exec-input', transaction, seq: inputSeq++, eof: true }).catch(() => undefined);
      }
    });
    ws.on('close', () => {
      if (!closed) { closed = true; this.pending.delete(transaction); void send({ op: 'cancel', transaction }).catch(() => undefined); }
    });
    send({
      op: 'exec', transaction, namespace: pod.metadata.namespace!, pod: pod.metadata.name!, uid: pod.metadata.uid!,
      container: target.container, command, stdin, tty,
    }).catch((err) => finish({ metadata: {}, status: 'Failure', message: `exec request not delivered: ${String(err)}`, reason: 'InternalError', code: 500 }));
  }
}

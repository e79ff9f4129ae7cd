// A PodManager on a temporary data directory that records every status update and
// event, with helpers to build desired pods and to wait for a condition.
import { waitFor as waitForValue, type Probe } from '../helpers/wait.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { Pod, PodStatus } from '../../protocol/kube/types.js';
import type { DesiredPod, DesiredPodsPayload, NodeEvent, PodStatusUpdate, ResponseChunk, RequestPayload } from '../../protocol/mqtt/payloads.js';
import type { ContainerRuntime } from '../../agent/runtime/container-runtime.js';
import { PodManager, type PodManagerOptions } from '../../agent/pods/pod-manager.js';

export const silentLog = pino({ level: 'silent' });

export interface Harness {
  manager: PodManager;
  dataDir: string;
  updates: PodStatusUpdate[];
  events: NodeEvent[];
  /** Latest status of each pod by uid (undefined once gone). */
  latest: Map<string, PodStatusUpdate>;
  make(extra?: Partial<PodManagerOptions>): PodManager;
  cleanup(): void;
}

export function harness(runtime: ContainerRuntime, extra: Partial<PodManagerOptions> = {}, dataDir?: string): Harness {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'pikube-agent-'));
  const updates: PodStatusUpdate[] = [];
  const events: NodeEvent[] = [];
  const latest = new Map<string, PodStatusUpdate>();
  const make = (more: Partial<PodManagerOptions> = {}) => new PodManager({
    nodeName: 'pi-1',
    dataDir: dir,
    runtime,
    log: silentLog,
    onStatus: (list) => { for (const u of list) { updates.push(u); latest.set(u.uid, u); } },
    onEvent: (e) => events.push(e),
    hostIP: () => '192.168.1.20',
    relistMs: 50,
    resyncMs: 1000,
    statusBatchMs: 10,
    ...extra,
    ...more,
  });
  return {
    manager: make(), dataDir: dir, updates, events, latest, make,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

let podCounter = 0;

export function pod(spec: Partial<Pod['spec']> & { containers: Pod['spec']['containers'] }, meta: Partial<Pod['metadata']> = {}): Pod {
  podCounter++;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p${podCounter}`, namespace: 'default', uid: randomUUID(), generation: 1, ...meta },
    spec: { nodeName: 'pi-1', restartPolicy: 'Always', ...spec },
  };
}

export function desired(p: Pod, extra: Partial<DesiredPod> = {}): DesiredPod {
  return { pod: p, configMaps: {}, secrets: {}, ...extra };
}

export function set(generation: number, ...pods: DesiredPod[]): DesiredPodsPayload {
  return { generation, pods };
}

export const waitFor = <T>(what: string, fn: Probe<T>, timeoutMs = 10_000, everyMs = 20): Promise<T> => waitForValue(what, fn, timeoutMs, everyMs);

/** Waits until the pod's latest status satisfies the predicate. */
export function waitStatus(h: Harness, uid: string, what: string, pred: (s: PodStatus) => boolean, timeoutMs = 10_000): Promise<PodStatus> {
  return waitFor(what, () => {
    const s = h.latest.get(uid)?.status;
    return s && pred(s) ? s : undefined;
  }, timeoutMs);
}

/** Sends a request and gathers its reply chunks until done. */
export function request(m: PodManager, req: RequestPayload, timeoutMs = 10_000): Promise<ResponseChunk[]> {
  return new Promise((resolve, reject) => {
    const chunks: ResponseChunk[] = [];
    const timer = setTimeout(() => reject(new Error(`request ${req.op} timed out: ${JSON.stringify(chunks)}`)), timeoutMs);
    m.handleRequest(req, (c) => {
      chunks.push(c);
      if (c.done) { clearTimeout(timer); resolve(chunks); }
    });
  });
}

export function output(chunks: ResponseChunk[], stream?: 'stdout' | 'stderr'): string {
  return chunks.filter((c) => c.data && (!stream || c.stream === stream)).map((c) => Buffer.from(c.data!, 'base64').toString('utf8')).join('');
}

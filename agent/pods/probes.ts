// Liveness, readiness and startup probes of one running container, each on its own
// timer like the kubelet's probe workers. Results feed the container's `started` and
// `ready` flags; a failed liveness or startup probe asks the pod worker to kill it.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Container, Probe } from '../../protocol/kube/types.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import type { EventFn } from './image-puller.js';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

export interface ProbeTarget {
  containerId: string;
  container: Container;
  /** ms epoch the container started: initialDelaySeconds counts from it. */
  startedAt: number;
  podIP?: string;
  hostNetwork: boolean;
}

export interface ProbeResult { ok: boolean; output: string }

export interface ProbeListener {
  /** started or ready changed. */
  onChange(): void;
  /** failureThreshold reached for a liveness or startup probe. */
  onKill(kind: 'liveness' | 'startup', message: string): void;
  event: EventFn;
}

function resolvePort(c: Container, port: number | string): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named = c.ports?.find((p) => p.name === port);
  if (!named) throw new Error(`port "${port}" not found in container ports`);
  return named.containerPort;
}

function networkHost(probeHost: string | undefined, t: ProbeTarget): string {
  return probeHost || (t.hostNetwork ? '127.0.0.1' : (t.podIP ?? '127.0.0.1'));
}

function httpProbe(p: NonNullable<Probe['httpGet']>, t: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  const host = networkHost(p.host, t);
  const port = resolvePort(t.container, p.port);
  const scheme = (p.scheme ?? 'HTTP').toLowerCase();
  const pathPart = p.path ? (p.path.startsWith('/') ? p.path : `/${p.path}`) : '/';
  const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${pathPart}`;
  const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.31', Accept: '*/*' };
  for (const h of p.httpHeaders ?? []) headers[h.name] = h.value;
  const mod = scheme === 'https' ? https : http;
  return new Promise((resolve) => {
    const req = mod.get(url, { headers, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      res.on('end', () => resolve(code >= 200 && code < 400 ? { ok: true, output: '' } : { ok: false, output: `HTTP probe failed with statuscode: ${code}` }));
      res.on('error', (e) => resolve({ ok: false, output: e.message }));
    });
    req.on('timeout', () => { req.destroy(); resolve({ ok: false, output: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` }); });
    req.on('error', (e) => resolve({ ok: false, output: `Get "${url}": ${e.message}` }));
  });
}

function tcpProbe(p: NonNullable<Probe['tcpSocket']>, t: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  const host = networkHost(p.host, t);
  const port = resolvePort(t.container, p.port);
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (r: ProbeResult) => { sock.destroy(); resolve(r); };
    sock.setTimeout(timeoutMs, () => done({ ok: false, output: `dial tcp ${host}:${port}: i/o timeout` }));
    sock.once('connect', () => done({ ok: true, output: '' }));
    sock.once('error', (e) => done({ ok: false, output: `dial tcp ${host}:${port}: ${e.message}` }));
  });
}

async function execProbe(runtime: ContainerRuntime, p: NonNullable<Probe['exec']>, t: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  const chunks: Buffer[] = [];
  try {
    const code = await runtime.exec(t.containerId, p.command, { tty: false, signal: AbortSignal.timeout(timeoutMs) }, (_s, b) => chunks.push(b));
    const output = Buffer.concat(chunks).toString('utf8').trim();
    return code === 0 ? { ok: true, output } : { ok: false, output: output || `command ${JSON.stringify(p.command)} exited with ${code}` };
  } catch (err) {
    const aborted = (err as Error).name === 'AbortError' || (err as Error).name === 'TimeoutError';
    return { ok: false, output: aborted ? `command timed out after ${timeoutMs / 1000}s` : (err as Error).message };
  }
}

/** One probe attempt. With the simulated runtime network probes succeed: there is no network. */
export async function runProbe(runtime: ContainerRuntime, probe: Probe, t: ProbeTarget): Promise<ProbeResult> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.exec) return await execProbe(runtime, probe.exec, t, timeoutMs);
    if (runtime.name === 'simulated') return { ok: true, output: '' };
    if (probe.httpGet) return await httpProbe(probe.httpGet, t, timeoutMs);
    if (probe.tcpSocket) return await tcpProbe(probe.tcpSocket, t, timeoutMs);
  } catch (err) {
    return { ok: false, output: (err as Error).message };
  }
  return { ok: false, output: 'probe has no handler' };
}

const KIND_TITLE: Record<ProbeKind, string> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };

/** The probes of one container instance; discarded when the container stops. */
export class ContainerProbes {
  started: boolean;
  ready: boolean;
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly runtime: ContainerRuntime,
    readonly target: ProbeTarget,
    private readonly listener: ProbeListener,
    private readonly now: () => number,
  ) {
    const c = target.container;
    this.started = !c.startupProbe;
    this.ready = this.started && !c.readinessProbe;
    if (c.startupProbe) this.schedule('startup', c.startupProbe);
    else this.startAfterStartup();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private startAfterStartup(): void {
    const c = this.target.container;
    if (c.livenessProbe) this.schedule('liveness', c.livenessProbe);
    if (c.readinessProbe) this.schedule('readiness', c.readinessProbe);
  }

  private schedule(kind: ProbeKind, probe: Probe): void {
    const period = Math.max(1, probe.periodSeconds ?? 10) * 1000;
    const successThreshold = kind === 'readiness' ? Math.max(1, probe.successThreshold ?? 1) : 1;
    const failureThreshold = Math.max(1, probe.failureThreshold ?? 3);
    let successes = 0;
    let failures = 0;
    const firstDelay = Math.max(0, this.target.startedAt + (probe.initialDelaySeconds ?? 0) * 1000 - this.now());
    const tick = async () => {
      if (this.stopped) return;
      const r = await runProbe(this.runtime, probe, this.target);
      if (this.stopped) return;
      if (r.ok) { successes++; failures = 0; } else { failures++; successes = 0; }
      if (!r.ok) this.listener.event('Warning', 'Unhealthy', `${KIND_TITLE[kind]} probe failed: ${r.output}`);
      let keepGoing = true;
      if (kind === 'startup') {
        if (r.ok) { this.started = true; this.ready = !this.target.container.readinessProbe; keepGoing = false; this.startAfterStartup(); this.listener.onChange(); }
        else if (failures >= failureThreshold) { keepGoing = false; this.listener.onKill('startup', `Container ${this.target.container.name} failed startup probe, will be restarted`); }
      } else if (kind === 'liveness') {
        if (failures >= failureThreshold) { keepGoing = false; this.listener.onKill('liveness', `Container ${this.target.container.name} failed liveness probe, will be restarted`); }
      } else {
        const before = this.ready;
        if (r.ok && successes >= successThreshold) this.ready = true;
        if (!r.ok && failures >= failureThreshold) this.ready = false;
        if (before !== this.ready) this.listener.onChange();
      }
      if (keepGoing) this.arm(tick, period);
    };
    this.arm(tick, firstDelay);
  }

  private arm(fn: () => Promise<void>, ms: number): void {
    if (this.stopped) return;
    const t = setTimeout(() => { this.timers.delete(t); void fn(); }, ms);
    t.unref();
    this.timers.add(t);
  }
}

// Real pikube processes for end-to-end tests: a controller and agents started from the
// compiled CLI on free loopback ports, stock kubectl with its own HOME, and SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, mkdirSync, readFileSync, existsSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { waitFor } from './wait.js';

import { formatSecureJoinToken } from '../../protocol/join-token.js';

/** dist/cli/main.js, next to the compiled tests. */
export const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli', 'main.js');

/** Ports handed out by this process: the kernel may offer a just-closed one again. */
const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

export { waitFor };

export interface ProcessHandle {
  child: ChildProcess;
  logPath: string;
  /** SIGKILL, no clean-up: what a crash or power cut does. */
  kill(): Promise<void>;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  log(): string;
}

function launch(args: string[], logPath: string, env: NodeJS.ProcessEnv = {}, netns?: string): ProcessHandle {
  mkdirSync(dirname(logPath), { recursive: true });
  const fd = openSync(logPath, 'a');
  const cmd = netns ? 'nsenter' : process.execPath;
  const argv = netns ? [`--net=/run/netns/${netns}`, process.execPath, CLI, ...args] : [CLI, ...args];
  const child = spawn(cmd, argv, { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child, logPath,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    log: () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : ''),
  };
}

export interface ControllerHandle extends ProcessHandle {
  dir: string;
  apiPort: number;
  mqttPort: number;
  kubeconfig: string;
  token: string;
  joinToken: string;
  apiUrl: string;
  /** What agents use: plaintext on loopback; mqtts:// (with the K10 joinToken) for a controller on another address. */
  mqttUrl: string;
  mqttTlsPort: number;
  /** The broker's TLS listener, and the K10<CA hash>:: token that lets an agent join it with nothing else. */
  mqttsUrl: string;
  secureJoinToken: string;
  /** Starts the controller again on the same directory and ports (after kill/stop). */
  restart(): Promise<ControllerHandle>;
}

export async function startController(opts: { dir?: string; args?: string[]; apiPort?: number; mqttPort?: number; mqttTlsPort?: number; host?: string; netns?: string; readyTimeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ControllerHandle> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'pikube-ctrl-'));
  const host = opts.host ?? '127.0.0.1';
  const apiPort = opts.apiPort ?? (await freePort());
  const mqttPort = opts.mqttPort ?? (await freePort());
  const mqttTlsPort = opts.mqttTlsPort ?? (await freePort());
  // Plaintext MQTT stays on loopback, as the controller insists; other hosts get TLS.
  const loopback = host.startsWith('127.');
  const args = ['controller', '--data-dir', dir, '--api-listen', `${host}:${apiPort}`, '--mqtt-listen', `${loopback ? host : '127.0.0.1'}:${mqttPort}`, '--mqtt-tls-listen', `${host}:${mqttTlsPort}`, ...(opts.args ?? [])];
  const proc = launch(args, join(dir, 'controller.log'), opts.env ?? {}, opts.netns);
  const apiUrl = `https://${host}:${apiPort}`;
  await waitFor(`controller at ${apiUrl}`, async () => {
    if (proc.child.exitCode !== null) throw new Error(`controller exited: ${proc.log().slice(-2000)}`);
    if (!existsSync(join(dir, 'kubeconfig'))) return false;
    const r = await fetchInsecure(`${apiUrl}/readyz`).catch(() => undefined);
    return r === 200;
  }, opts.readyTimeoutMs ?? 30_000);
  const token = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
  const joinToken = readFileSync(join(dir, 'join-token'), 'utf8').trim();
  const secureJoinToken = formatSecureJoinToken(readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8'), joinToken);
  const mqttsUrl = `mqtts://${host}:${mqttTlsPort}`;
  const handle: ControllerHandle = {
    ...proc, dir, apiPort, mqttPort, mqttTlsPort, token, apiUrl,
    kubeconfig: join(dir, 'kubeconfig'),
    joinToken: loopback ? joinToken : secureJoinToken,
    mqttUrl: loopback ? `mqtt://${host}:${mqttPort}` : mqttsUrl,
    mqttsUrl, secureJoinToken,
    restart: () => startController({ ...opts, dir, apiPort, mqttPort, mqttTlsPort }),
  };
  return handle;
}

export interface AgentHandle extends ProcessHandle { dir: string; nodeName: string; restart(): AgentHandle }

export function startAgent(ctrl: { mqttUrl: string; joinToken: string }, opts: { nodeName: string; runtime?: string; dir?: string; args?: string[]; netns?: string; mqttUrl?: string; env?: NodeJS.ProcessEnv }): AgentHandle {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), `pikube-agent-${opts.nodeName}-`));
  // Tests share the host's ports 80/443: the ingress proxy runs only where a test asks for it.
  const ingress = (opts.args ?? []).some((a) => a.startsWith('--ingress')) ? [] : ['--ingress', 'off'];
  const args = ['agent', '--node-name', opts.nodeName, '--mqtt-url', opts.mqttUrl ?? ctrl.mqttUrl, '--join-token', ctrl.joinToken, '--data-dir', dir, '--runtime', opts.runtime ?? 'simulated', ...ingress, ...(opts.args ?? [])];
  const proc = launch(args, join(dir, 'agent.log'), opts.env ?? {}, opts.netns);
  return { ...proc, dir, nodeName: opts.nodeName, restart: () => startAgent(ctrl, { ...opts, dir }) };
}

/** curl-like GET that ignores the self-signed certificate; resolves with the status code. */
export async function fetchInsecure(url: string, token?: string): Promise<number> {
  const r = await execa('curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '3', ...(token ? ['-H', `Authorization: Bearer ${token}`] : []), url], { reject: false });
  return Number(r.stdout);
}

export interface Kubectl {
  (args: string[], opts?: { input?: string; reject?: boolean; timeoutMs?: number }): Promise<{ stdout: string; stderr: string; exitCode: number }>;
  home: string;
}

/** Stock kubectl with a fresh HOME (its discovery cache is per HOME). */
export function kubectl(kubeconfig: string): Kubectl {
  const home = mkdtempSync(join(tmpdir(), 'pikube-khome-'));
  const fn = (async (args: string[], opts: { input?: string; reject?: boolean; timeoutMs?: number } = {}) => {
    const r = await execa('kubectl', ['--kubeconfig', kubeconfig, '--request-timeout=20s', ...args], {
      env: { HOME: home }, input: opts.input, reject: false, timeout: opts.timeoutMs ?? 60_000,
    });
    if (opts.reject !== false && r.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.exitCode}: ${r.stderr || r.stdout}`);
    return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 };
  }) as Kubectl;
  fn.home = home;
  return fn;
}

/** Removes a test's directory, unless PIKUBE_KEEP_TEST_DIRS is set (to read its logs). */
export function removeDir(dir: string): void {
  if (process.env.PIKUBE_KEEP_TEST_DIRS) { process.stderr.write(`kept ${dir}\n`); return; }
  rmSync(dir, { recursive: true, force: true });
}

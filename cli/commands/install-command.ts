// `pikube install controller|agent`: puts the systemd unit, its environment file and
// the data directory in place (and the controller's system user), then says how to
// start it. --prefix installs into another root (an image being prepared, or a test);
// --dry-run prints every file with its content and changes nothing.
import { parseArgs } from 'node:util';
import { execFile } from 'node:child_process';
import { chown, mkdir, readFile, rename, writeFile, chmod } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  CONTROLLER_USER,
  DEFAULT_DATA_DIR,
  environmentFilePath,
  installedMainPath,
  readUnitFile,
  renderAgentEnvironment,
  renderControllerEnvironment,
  unitName,
  type Side,
} from '../flash/service-files.js';
import {
  assertAbsolutePath,
  assertDnsLabel,
  assertJoinToken,
  joinSecurityProblem,
  assertListenAddress,
  assertMqttUrl,
} from '../flash/value-checks.js';

const run_ = promisify(execFile);

export type InstallStep =
  | { kind: 'file'; path: string; content: string; mode: number }
  | { kind: 'directory'; path: string; mode: number; owner?: string; prefix: string }
  | { kind: 'user'; name: string; home: string; prefix: string };

export interface InstallOptions {
  side: Side;
  /** Root to install into; '/' for the running system. */
  prefix: string;
  dataDir: string;
  /** Entry point written to PIKUBE_MAIN. */
  main: string;
  nodeName?: string;
  mqttUrl?: string;
  joinToken?: string;
  apiListen?: string;
  mqttListen?: string;
  /** Controller flags for high availability, written to PIKUBE_CONTROLLER_ARGS. */
  controllerArgs?: string;
  /** Something the operator should fix before the agent can join (printed, not fatal). */
  warning?: string;
}

const USAGE =
  'usage: pikube install controller|agent [--dry-run] [--prefix DIR] [--data-dir DIR] ' +
  '[--node-name NAME --mqtt-url mqtts://HOST:8883[,URL...] --join-token K10…TOKEN (agent)] [--api-listen HOST:PORT --mqtt-listen HOST:PORT ' +
  '[--cluster-init | --join https://FIRST:6443 --token TOKEN | --datastore-endpoint URLS [--token TOKEN]] (controller)]';

class UsageError extends Error {}

/** Reads argv into validated options; throws UsageError with one readable line. */
export function parseInstallArgs(argv: string[]): InstallOptions & { dryRun: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'dry-run': { type: 'boolean', default: false },
        prefix: { type: 'string', default: '/' },
        'data-dir': { type: 'string' },
        'node-name': { type: 'string' },
        'mqtt-url': { type: 'string' },
        'join-token': { type: 'string' },
        'api-listen': { type: 'string' },
        'mqtt-listen': { type: 'string' },
        'cluster-init': { type: 'boolean' },
        join: { type: 'string' },
        token: { type: 'string' },
        'datastore-endpoint': { type: 'string' },
      },
    });
  } catch (error) {
    // Keep node's own message to its first sentence: one readable line.
    throw new UsageError((error as Error).message.split('. ')[0]!);
  }
  const { values, positionals } = parsed;
  const side = positionals[0];
  if (positionals.length !== 1 || (side !== 'controller' && side !== 'agent')) {
    throw new UsageError(`say what to install: controller or agent (${USAGE})`);
  }
  const only = side === 'agent' ? ['api-listen', 'mqtt-listen', 'cluster-init', 'join', 'token', 'datastore-endpoint'] : ['node-name', 'mqtt-url', 'join-token'];
  for (const flag of only) {
    if (values[flag as keyof typeof values] !== undefined) throw new UsageError(`--${flag} does not apply to the ${side}`);
  }
  try {
    const prefix = resolve(values.prefix);
    const dataDir = assertAbsolutePath(values['data-dir'] ?? DEFAULT_DATA_DIR[side], '--data-dir');
    const common = { side, prefix, dataDir, main: installedMainPath(), dryRun: values['dry-run'] } as const;
    if (side === 'controller') {
      return {
        ...common,
        apiListen: assertListenAddress(values['api-listen'] ?? '0.0.0.0:6443', '--api-listen'),
        mqttListen: assertLoopbackListen(assertListenAddress(values['mqtt-listen'] ?? '127.0.0.1:1883', '--mqtt-listen')),
        ...haControllerArgs(values),
      };
    }
    if (values['mqtt-url'] === undefined) throw new Error('the agent needs --mqtt-url (e.g. mqtts://192.168.1.10:8883)');
    if (values['join-token'] === undefined) throw new Error('the agent needs --join-token (the K10… token from `pikube token create` on the controller)');
    const nodeName = values['node-name'] ?? hostname().toLowerCase();
    return {
      ...common,
      nodeName: assertDnsLabel(nodeName, values['node-name'] === undefined ? 'node name (from the host name; give --node-name)' : '--node-name'),
      mqttUrl: values['mqtt-url'].split(',').map((u) => assertMqttUrl(u.trim())).join(','),
      joinToken: assertJoinToken(values['join-token']),
      ...agentJoinWarning(values['mqtt-url'], values['join-token']),
    };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Plaintext MQTT off loopback is refused by the controller: say so at install time. */
function assertLoopbackListen(value: string): string {
  const host = value.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host === '::1' || /^127\./.test(host)) return value;
  throw new Error(`--mqtt-listen ${value} is not loopback: the plaintext listener stays on this host (agents use the TLS listener, 0.0.0.0:8883); for plaintext elsewhere add --mqtt-insecure-listen ${value} to PIKUBE_CONTROLLER_ARGS`);
}

/** A plaintext URL to another host cannot join at all; a token without the CA hash only with --mqtt-ca. */
function agentJoinWarning(mqttUrl: string, token: string): { warning?: string } {
  const problem = joinSecurityProblem(mqttUrl, token);
  if (problem && !problem.startsWith('the join token')) throw new Error(problem);
  return problem ? { warning: problem } : {};
}

/** --cluster-init, or --join URL --token T, or --datastore-endpoint URLS [--token T]: the controller's HA flags. */
function haControllerArgs(v: { 'cluster-init'?: boolean; join?: string; token?: string; 'datastore-endpoint'?: string }): { controllerArgs?: string } {
  const modes = [v['cluster-init'], v.join, v['datastore-endpoint']].filter(Boolean).length;
  if (modes > 1) throw new Error('choose one of --cluster-init, --join URL and --datastore-endpoint URLS');
  if (v.join && !v.token) throw new Error('--join needs --token (the first controller\'s /var/lib/pikube/join-token)');
  if (v.token !== undefined) assertJoinToken(v.token);
  if (v.join && !/^https:\/\/[^/\s]+$/.test(v.join)) throw new Error('--join must be https://HOST:6443');
  if (v['datastore-endpoint'] && !v['datastore-endpoint'].split(',').every((u) => /^https?:\/\/[^/\s]+:\d+$/.test(u))) throw new Error('--datastore-endpoint must be http(s)://HOST:PORT URLs, comma-separated');
  const args = [
    ...(v['cluster-init'] ? ['--cluster-init'] : []),
    ...(v.join ? ['--join', v.join] : []),
    ...(v['datastore-endpoint'] ? ['--datastore-endpoint', v['datastore-endpoint']] : []),
    ...(v.token ? ['--token', v.token] : []),
  ];
  return args.length ? { controllerArgs: args.join(' ') } : {};
}

function under(prefix: string, path: string): string {
  return join(prefix, path);
}

async function userExists(prefix: string, name: string): Promise<boolean> {
  try {
    const passwd = await readFile(under(prefix, '/etc/passwd'), 'utf8');
    return passwd.split('\n').some((line) => line.startsWith(`${name}:`));
  } catch {
    return false;
  }
}

/** Everything install would do, in order, without doing any of it. */
export async function planInstall(options: InstallOptions): Promise<InstallStep[]> {
  const { side, prefix } = options;
  const steps: InstallStep[] = [];
  if (side === 'controller' && !(await userExists(prefix, CONTROLLER_USER))) {
    steps.push({ kind: 'user', name: CONTROLLER_USER, home: DEFAULT_DATA_DIR.controller, prefix });
  }
  steps.push({ kind: 'file', path: under(prefix, `/etc/systemd/system/${unitName(side)}`), content: await readUnitFile(side), mode: 0o644 });
  const environment =
    side === 'controller'
      ? renderControllerEnvironment({ dataDir: options.dataDir, apiListen: options.apiListen!, mqttListen: options.mqttListen!, main: options.main, ...(options.controllerArgs ? { args: options.controllerArgs } : {}) })
      : renderAgentEnvironment({ nodeName: options.nodeName!, mqttUrl: options.mqttUrl!, joinToken: options.joinToken!, dataDir: options.dataDir, main: options.main });
  steps.push({ kind: 'file', path: under(prefix, environmentFilePath(side)), content: environment, mode: 0o600 });
  if (options.dataDir !== DEFAULT_DATA_DIR[side]) {
    // The unit only lets the service write its StateDirectory; another data
    // directory must be opened explicitly.
    steps.push({
      kind: 'file',
      path: under(prefix, `/etc/systemd/system/${unitName(side)}.d/data-dir.conf`),
      content: `# Written by pikube install: the data directory is ${options.dataDir}.\n[Service]\nReadWritePaths=${options.dataDir}\n`,
      mode: 0o644,
    });
  }
  steps.push({
    kind: 'directory',
    path: under(prefix, options.dataDir),
    mode: 0o700,
    prefix,
    ...(side === 'controller' ? { owner: CONTROLLER_USER } : {}),
  });
  return steps;
}

function useraddArgs(step: Extract<InstallStep, { kind: 'user' }>): string[] {
  const args = ['--system', '--user-group', '--home-dir', step.home, '--no-create-home', '--shell', '/usr/sbin/nologin', '--comment', 'pikube control plane'];
  if (step.prefix !== '/') args.unshift('--prefix', step.prefix);
  return [...args, step.name];
}

function describe(step: InstallStep): string {
  switch (step.kind) {
    case 'file':
      return `--- ${step.path} (mode ${step.mode.toString(8).padStart(4, '0')}) ---\n${step.content}`;
    case 'directory':
      return `--- directory ${step.path} (mode ${step.mode.toString(8).padStart(4, '0')}${step.owner ? `, owner ${step.owner}` : ''}) ---`;
    case 'user':
      return `--- system user ${step.name}: useradd ${useraddArgs(step).join(' ')} ---`;
  }
}

async function ownerIds(prefix: string, name: string): Promise<{ uid: number; gid: number } | undefined> {
  const passwd = await readFile(under(prefix, '/etc/passwd'), 'utf8').catch(() => '');
  const fields = passwd.split('\n').find((line) => line.startsWith(`${name}:`))?.split(':');
  return fields ? { uid: Number(fields[2]), gid: Number(fields[3]) } : undefined;
}

async function writeAtomically(path: string, content: string, mode: number): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  const temporary = `${path}.pikube-new`;
  await writeFile(temporary, content, { mode });
  await chmod(temporary, mode);
  await rename(temporary, path);
}

/** Carries out the steps; returns notes worth telling the user. */
export async function applyInstall(steps: InstallStep[]): Promise<string[]> {
  const notes: string[] = [];
  for (const step of steps) {
    switch (step.kind) {
      case 'user':
        try {
          await run_('useradd', useraddArgs(step));
        } catch (error) {
          if (step.prefix === '/') throw new Error(`useradd failed: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message}`);
          notes.push(`could not add user ${step.name} under ${step.prefix} (no etc/passwd there?): create it on the target`);
        }
        break;
      case 'file':
        await writeAtomically(step.path, step.content, step.mode);
        break;
      case 'directory': {
        // Parents stay traversable (0755); only the data directory itself is private.
        await mkdir(join(step.path, '..'), { recursive: true, mode: 0o755 });
        await mkdir(step.path, { recursive: true, mode: step.mode });
        await chmod(step.path, step.mode);
        if (step.owner) {
          const ids = await ownerIds(step.prefix, step.owner);
          if (ids && process.getuid?.() === 0) await chown(step.path, ids.uid, ids.gid);
          else notes.push(`left ${step.path} owned by the current user; systemd hands StateDirectory= to ${step.owner} at start`);
        }
        break;
      }
    }
  }
  return notes;
}

function nextSteps(options: InstallOptions): string[] {
  const name = `pikube-${options.side}`;
  const lines = [`next: systemctl daemon-reload && systemctl enable --now ${name}`, `then: journalctl -u ${name} -f`];
  // Agents join over TLS with one token, which names the cluster CA.
  if (options.side === 'controller') lines.push('then, on each Pi: pikube install agent --mqtt-url mqtts://<this host>:8883 --join-token <the K10… token from: sudo pikube token show>');
  if (options.side === 'controller' && /^\/(home|root)(\/|$)/.test(options.main)) {
    lines.unshift(`warning: ${options.main} is under /home or /root, which the controller unit hides (ProtectHome=yes); install pikube under /opt/pikube or /usr/local`);
  }
  return lines;
}

export async function run(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseInstallArgs(argv);
  } catch (error) {
    process.stderr.write(`pikube install: ${(error as Error).message}\n`);
    return 2;
  }
  try {
    const steps = await planInstall(options);
    if (options.warning) process.stderr.write(`pikube install: warning: ${options.warning}\n`);
    if (options.dryRun) {
      process.stdout.write(`dry run: nothing is written. pikube install ${options.side} would do:\n`);
      for (const step of steps) process.stdout.write(`${describe(step)}\n`);
      process.stdout.write(`${nextSteps(options).join('\n')}\n`);
      return 0;
    }
    const notes = await applyInstall(steps);
    for (const step of steps) {
      if (step.kind === 'file') process.stdout.write(`wrote ${step.path}\n`);
      if (step.kind === 'directory') process.stdout.write(`created ${step.path}\n`);
      if (step.kind === 'user') process.stdout.write(`added system user ${step.name}\n`);
    }
    for (const note of notes) process.stdout.write(`note: ${note}\n`);
    process.stdout.write(`${nextSteps(options).join('\n')}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`pikube install: ${(error as Error).message}\n`);
    return 1;
  }
}

// `pikube flash-config`: writes the boot-partition files that make a freshly flashed
// Pi join the cluster on its first boot.
//   DIR/user-data, meta-data, network-config   cloud-init (Raspberry Pi OS Trixie, Ubuntu)
//   DIR/cmdline.txt.append                      the memory cgroup parameters
//   DIR/bookworm/firstrun.sh, custom.toml, cmdline.txt.append   Raspberry Pi OS Bookworm
//   DIR/README.txt                              which files go where
import { parseArgs } from 'node:util';
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { renderMetaData, renderNetworkConfig, renderUserData } from '../flash/cloud-init.js';
import { renderBookwormCmdlineAppend, renderCmdlineAppend, renderCustomToml, renderFirstrun, FIRSTRUN_PATH } from '../flash/bookworm.js';
import type { FlashConfig } from '../flash/flash-config.js';
import { readUnitFile } from '../flash/service-files.js';
import { assertNerdctlVersion, assertPackageSpec } from '../flash/setup-script.js';
import {
  assertCountryCode,
  assertDnsLabel,
  assertJoinToken,
  assertSshPublicKey,
  assertUserName,
  assertWifi,
  formatHost,
  joinSecurityProblem,
  parseHostPort,
  parsePort,
} from '../flash/value-checks.js';

export const DEFAULT_NERDCTL_VERSION = '2.2.0';
export const DEFAULT_NODE_MAJOR = 22;

const USAGE =
  'usage: pikube flash-config --node-name NAME --controller HOST[:PORT] --join-token TOKEN --out DIR ' +
  '[--wifi-ssid S --wifi-password P --wifi-country CC] [--ssh-authorized-key FILE] [--user NAME] [--mqtt-port 8883]';

export interface FlashFile {
  /** Relative to the output directory. */
  path: string;
  content: string;
  mode: number;
}

export interface FlashRequest {
  config: FlashConfig;
  out: string;
  warnings: string[];
}

async function readAuthorizedKeys(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`--ssh-authorized-key: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const keys = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'));
  if (keys.length === 0) throw new Error(`--ssh-authorized-key: ${file} holds no key`);
  return keys.map(assertSshPublicKey);
}

/** Reads and checks argv; throws one readable line on bad or missing input. */
export async function parseFlashArgs(argv: string[]): Promise<FlashRequest> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'node-name': { type: 'string' },
        controller: { type: 'string' },
        'join-token': { type: 'string' },
        out: { type: 'string' },
        'wifi-ssid': { type: 'string' },
        'wifi-password': { type: 'string' },
        'wifi-country': { type: 'string' },
        'ssh-authorized-key': { type: 'string' },
        user: { type: 'string', default: 'pi' },
        'mqtt-port': { type: 'string' },
        'nerdctl-version': { type: 'string', default: DEFAULT_NERDCTL_VERSION },
        'pikube-package': { type: 'string', default: 'pikube' },
        'instance-id': { type: 'string' },
      },
    }));
  } catch (error) {
    throw new Error((error as Error).message.split('. ')[0]!);
  }
  const missing = ['node-name', 'controller', 'join-token', 'out'].filter((flag) => values[flag as keyof typeof values] === undefined);
  if (missing.length > 0) throw new Error(`missing ${missing.map((flag) => `--${flag}`).join(', ')} (${USAGE})`);

  const nodeName = assertDnsLabel(values['node-name']!, '--node-name');
  const controller = parseHostPort(values.controller!, '--controller');
  const flagPort = values['mqtt-port'] === undefined ? undefined : parsePort(values['mqtt-port'], '--mqtt-port');
  if (controller.port !== undefined && flagPort !== undefined && controller.port !== flagPort) {
    throw new Error(`--controller says port ${controller.port} and --mqtt-port says ${flagPort}: give the MQTT port once`);
  }
  // Agents join over TLS: the controller's mqtts listener.
  const port = controller.port ?? flagPort ?? 8883;

  const warnings: string[] = [];
  let wifi: FlashConfig['wifi'];
  const ssid = values['wifi-ssid'];
  if (ssid === undefined) {
    if (values['wifi-password'] !== undefined || values['wifi-country'] !== undefined) {
      throw new Error('--wifi-password and --wifi-country need --wifi-ssid');
    }
  } else {
    if (values['wifi-country'] === undefined) throw new Error('--wifi-ssid needs --wifi-country (e.g. GB): the Pi keeps Wi-Fi off without one');
    assertWifi(ssid, values['wifi-password']);
    wifi = { ssid, country: assertCountryCode(values['wifi-country']), ...(values['wifi-password'] === undefined ? {} : { password: values['wifi-password'] }) };
    if (values['wifi-password'] === undefined) warnings.push(`Wi-Fi "${ssid}" is configured as an open network (no --wifi-password)`);
  }

  const sshAuthorizedKeys = values['ssh-authorized-key'] === undefined ? [] : await readAuthorizedKeys(values['ssh-authorized-key']);
  if (sshAuthorizedKeys.length === 0) warnings.push('no --ssh-authorized-key: the board will accept no SSH login (passwords are off)');

  const insecure = joinSecurityProblem(`mqtts://${formatHost(controller.host)}:${port}`, values['join-token']!);
  if (insecure) warnings.push(insecure);

  const instanceId = values['instance-id'] ?? `pikube-${nodeName}-${randomBytes(4).toString('hex')}`;
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(instanceId)) throw new Error(`--instance-id "${instanceId}" must be letters, digits, ".", "_" or "-"`);

  return {
    out: resolve(values.out!),
    warnings,
    config: {
      nodeName,
      mqttUrl: `mqtts://${formatHost(controller.host)}:${port}`,
      joinToken: assertJoinToken(values['join-token']!),
      user: assertUserName(values.user),
      sshAuthorizedKeys,
      ...(wifi ? { wifi } : {}),
      instanceId,
      nerdctlVersion: assertNerdctlVersion(values['nerdctl-version']),
      nodeMajor: DEFAULT_NODE_MAJOR,
      pikubePackage: assertPackageSpec(values['pikube-package']),
      agentUnit: await readUnitFile('agent'),
    },
  };
}

function renderReadme(config: FlashConfig): string {
  return `pikube boot files for node "${config.nodeName}" (joins ${config.mqttUrl})

Copy onto the boot partition of the freshly flashed card (the FAT partition,
"bootfs" or "system-boot"), replacing files of the same name:

Raspberry Pi OS Trixie, Ubuntu Server (cloud-init):
  user-data, meta-data, network-config
  cmdline.txt.append is optional: pikube-setup adds it and reboots once by itself.

Raspberry Pi OS Bookworm:
  bookworm/custom.toml and bookworm/firstrun.sh
  then append the line in bookworm/cmdline.txt.append to the end of the single
  line of cmdline.txt (a space before it, no new line), e.g.
    sed -i "1 s/\\$/ $(cat bookworm/cmdline.txt.append)/" /path/to/bootfs/cmdline.txt
  If firstrun.sh does not run, log in and run: sudo bash ${FIRSTRUN_PATH} && sudo reboot

First boot installs Node.js, containerd + nerdctl and pikube, which takes a few
minutes; then \`kubectl get nodes\` on the controller lists ${config.nodeName}.
Follow it on the board with: journalctl -u pikube-setup -u pikube-agent -f
(or /var/log/cloud-init-output.log with cloud-init).
These files hold the join token: delete them once the card is written.
`;
}

export function renderFlashFiles(config: FlashConfig): FlashFile[] {
  return [
    { path: 'user-data', content: renderUserData(config), mode: 0o600 },
    { path: 'meta-data', content: renderMetaData(config), mode: 0o644 },
    { path: 'network-config', content: renderNetworkConfig(config), mode: 0o600 },
    { path: 'cmdline.txt.append', content: renderCmdlineAppend(), mode: 0o644 },
    { path: 'bookworm/firstrun.sh', content: renderFirstrun(config), mode: 0o700 },
    { path: 'bookworm/custom.toml', content: renderCustomToml(config), mode: 0o600 },
    { path: 'bookworm/cmdline.txt.append', content: renderBookwormCmdlineAppend(), mode: 0o644 },
    { path: 'README.txt', content: renderReadme(config), mode: 0o644 },
  ];
}

export async function run(argv: string[]): Promise<number> {
  let request: FlashRequest;
  try {
    request = await parseFlashArgs(argv);
  } catch (error) {
    process.stderr.write(`pikube flash-config: ${(error as Error).message}\n`);
    return 2;
  }
  try {
    // Render everything before writing anything, so a failure leaves no half set.
    const files = renderFlashFiles(request.config);
    for (const file of files) {
      const path = join(request.out, file.path);
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(path, file.content, { mode: file.mode });
      await chmod(path, file.mode);
      process.stdout.write(`wrote ${path}\n`);
    }
    for (const warning of request.warnings) process.stderr.write(`pikube flash-config: warning: ${warning}\n`);
    process.stdout.write(`next: see ${join(request.out, 'README.txt')} for which files go on the boot partition\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`pikube flash-config: ${(error as Error).message}\n`);
    return 1;
  }
}

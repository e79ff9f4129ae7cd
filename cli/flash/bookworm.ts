// Raspberry Pi OS Bookworm has no cloud-init: custom.toml sets host name, user, SSH
// and Wi-Fi at first boot, and firstrun.sh (started by systemd.run= on the kernel
// command line, as Raspberry Pi Imager does) drops in the pikube files and a one-shot
// unit that runs pikube-setup once the network is up.
import { AGENT_DATA_DIR, type FlashConfig } from './flash-config.js';
import { environmentFilePath, renderAgentEnvironment } from './service-files.js';
import { MEMORY_CGROUP_PARAMETERS, REBOOT_MARKER, SETUP_SCRIPT_PATH, renderSetupScript, shellQuote } from './setup-script.js';

export const FIRSTRUN_PATH = '/boot/firmware/firstrun.sh';
const HEREDOC_END = 'PIKUBE_FILE_END';

export function tomlString(value: string): string {
  const escaped = value.replace(/[\\"\u0000-\u001f\u007f]/g, (c) => {
    const named: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\t': '\\t', '\r': '\\r' };
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  return `"${escaped}"`;
}

export function renderCustomToml(config: FlashConfig): string {
  const lines = [
    '# Raspberry Pi OS Bookworm first-boot settings, written by `pikube flash-config`.',
    'config_version = 1',
    '',
    '[system]',
    `hostname = ${tomlString(config.nodeName)}`,
    '',
    '[user]',
    `name = ${tomlString(config.user)}`,
    '',
    '[ssh]',
    'enabled = true',
    'password_authentication = false',
    `authorized_keys = [ ${config.sshAuthorizedKeys.map(tomlString).join(', ')} ]`,
  ];
  if (config.wifi) {
    lines.push('', '[wlan]', `ssid = ${tomlString(config.wifi.ssid)}`);
    if (config.wifi.password !== undefined) lines.push(`password = ${tomlString(config.wifi.password)}`, 'password_encrypted = false');
    lines.push('hidden = false', `country = ${tomlString(config.wifi.country)}`);
  }
  return `${lines.join('\n')}\n`;
}

function heredoc(path: string, content: string, mode: string): string {
  if (content.split('\n').includes(HEREDOC_END)) throw new Error(`${path}: content contains the here-document end marker`);
  const body = content.endsWith('\n') ? content : `${content}\n`;
  return `cat > ${path} <<'${HEREDOC_END}'\n${body}${HEREDOC_END}\nchmod ${mode} ${path}\n`;
}

export function renderSetupUnit(): string {
  return `# Runs pikube-setup once, after the first boot that has a network.
[Unit]
Description=pikube first-boot setup (Node.js, containerd and nerdctl, pikube agent)
Wants=network-online.target
After=network-online.target
ConditionPathExists=!${AGENT_DATA_DIR}/.setup-done

[Service]
Type=oneshot
TimeoutStartSec=1h
ExecStart=${SETUP_SCRIPT_PATH}
ExecStartPost=/bin/sh -c 'mkdir -p ${AGENT_DATA_DIR} && touch ${AGENT_DATA_DIR}/.setup-done && if [ -f ${REBOOT_MARKER} ]; then systemctl --no-block reboot; fi'

[Install]
WantedBy=multi-user.target
`;
}

export function renderFirstrun(config: FlashConfig): string {
  const environment = renderAgentEnvironment({
    nodeName: config.nodeName,
    mqttUrl: config.mqttUrl,
    joinToken: config.joinToken,
    dataDir: AGENT_DATA_DIR,
  });
  const name = shellQuote(config.nodeName);
  return [
    '#!/bin/bash',
    `# firstrun.sh: prepares pikube agent ${config.nodeName} on Raspberry Pi OS Bookworm.`,
    '# Written by `pikube flash-config`. Runs once through systemd.run= in cmdline.txt,',
    '# removes itself, and the board reboots; pikube-setup.service finishes online.',
    'set -u',
    'BOOT=/boot/firmware',
    '[ -f "$BOOT/cmdline.txt" ] || BOOT=/boot',
    'mkdir -p /etc/default /etc/systemd/system /usr/local/sbin',
    '',
    heredoc(environmentFilePath('agent'), environment, '600'),
    heredoc('/etc/systemd/system/pikube-agent.service', config.agentUnit, '644'),
    heredoc(SETUP_SCRIPT_PATH, renderSetupScript(config), '755'),
    heredoc('/etc/systemd/system/pikube-setup.service', renderSetupUnit(), '644'),
    'mkdir -p /etc/systemd/system/multi-user.target.wants',
    'ln -sf /etc/systemd/system/pikube-setup.service /etc/systemd/system/multi-user.target.wants/pikube-setup.service',
    '',
    '# Host name, in case custom.toml was not used.',
    'if [ -x /usr/lib/raspberrypi-sys-mods/imager_custom ]; then',
    `  /usr/lib/raspberrypi-sys-mods/imager_custom set_hostname ${name}`,
    'else',
    `  echo ${name} > /etc/hostname`,
    `  sed -i "s/^127\\.0\\.1\\.1.*/127.0.1.1\\t"${name}"/" /etc/hosts`,
    'fi',
    '',
    '# The memory cgroup, now, so that the reboot after this script already has it.',
    `( PIKUBE_SETUP_SOURCE_ONLY=1; . ${SETUP_SCRIPT_PATH}; enable_memory_cgroup "$BOOT/cmdline.txt" )`,
    'rm -f ' + REBOOT_MARKER,
    '',
    '# Run only once: take systemd.run= and its companions off the command line.',
    'rm -f "$BOOT/firstrun.sh"',
    `sed -i 's| systemd\\.run=[^ ]*||g; s| systemd\\.run_success_action=[^ ]*||g; s| systemd\\.unit=kernel-command-line\\.target||g' "$BOOT/cmdline.txt"`,
    'exit 0',
    '',
  ].join('\n');
}

/** What to append to the single line of cmdline.txt on Bookworm. */
export function renderBookwormCmdlineAppend(): string {
  return `${MEMORY_CGROUP_PARAMETERS} systemd.run=${FIRSTRUN_PATH} systemd.run_success_action=reboot systemd.unit=kernel-command-line.target\n`;
}

/** What to append on cloud-init systems (pikube-setup also adds it, then reboots). */
export function renderCmdlineAppend(): string {
  return `${MEMORY_CGROUP_PARAMETERS}\n`;
}

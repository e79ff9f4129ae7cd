// cloud-init NoCloud files for the boot partition (Raspberry Pi OS Trixie, Ubuntu
// Server): user-data, meta-data and network-config.
import { stringify } from 'yaml';
import { AGENT_DATA_DIR, type FlashConfig } from './flash-config.js';
import { environmentFilePath, renderAgentEnvironment } from './service-files.js';
import { REBOOT_MARKER, SETUP_SCRIPT_PATH, renderSetupScript } from './setup-script.js';

const YAML_OPTIONS = { lineWidth: 0 } as const;

export function renderUserData(config: FlashConfig): string {
  const user: Record<string, unknown> = {
    name: config.user,
    gecos: 'pikube administrator',
    groups: ['adm', 'sudo'],
    shell: '/bin/bash',
    sudo: 'ALL=(ALL) NOPASSWD:ALL',
    lock_passwd: true,
  };
  if (config.sshAuthorizedKeys.length > 0) user.ssh_authorized_keys = config.sshAuthorizedKeys;

  const document = {
    hostname: config.nodeName,
    preserve_hostname: false,
    manage_etc_hosts: true,
    users: [user],
    ssh_pwauth: false,
    package_update: true,
    // Node.js, containerd and nerdctl come from pikube-setup: the distributions'
    // versions differ too much (Bookworm's Node.js is 18; pikube needs 20).
    packages: ['curl', 'ca-certificates', 'iptables', 'xz-utils'],
    write_files: [
      {
        path: environmentFilePath('agent'),
        owner: 'root:root',
        permissions: '0600',
        content: renderAgentEnvironment({
          nodeName: config.nodeName,
          mqttUrl: config.mqttUrl,
          joinToken: config.joinToken,
          dataDir: AGENT_DATA_DIR,
        }),
      },
      { path: '/etc/systemd/system/pikube-agent.service', owner: 'root:root', permissions: '0644', content: config.agentUnit },
      { path: SETUP_SCRIPT_PATH, owner: 'root:root', permissions: '0755', content: renderSetupScript(config) },
    ],
    runcmd: [
      ['sh', '-c', 'systemctl enable --now ssh.service || true'],
      [SETUP_SCRIPT_PATH],
    ],
    // pikube-setup leaves the marker when it had to add cgroup_enable=memory.
    power_state: {
      mode: 'reboot',
      delay: 'now',
      message: 'pikube: rebooting to turn on the memory cgroup',
      condition: `test -f ${REBOOT_MARKER}`,
    },
  };
  const header = [
    '#cloud-config',
    `# pikube agent "${config.nodeName}", joining ${config.mqttUrl}.`,
    '# Written by `pikube flash-config`; copy it to the boot partition as user-data.',
  ];
  return `${header.join('\n')}\n${stringify(document, YAML_OPTIONS)}`;
}

export function renderMetaData(config: FlashConfig): string {
  return stringify({ 'instance-id': config.instanceId, 'local-hostname': config.nodeName }, YAML_OPTIONS);
}

export function renderNetworkConfig(config: FlashConfig): string {
  const network: Record<string, unknown> = {
    version: 2,
    ethernets: { eth0: { dhcp4: true, optional: true } },
  };
  if (config.wifi) {
    const accessPoint = config.wifi.password === undefined ? {} : { password: config.wifi.password };
    network.wifis = {
      wlan0: {
        dhcp4: true,
        optional: true,
        'regulatory-domain': config.wifi.country,
        'access-points': { [config.wifi.ssid]: accessPoint },
      },
    };
  }
  return stringify({ network }, YAML_OPTIONS);
}

// What `pikube flash-config` knows about the board it prepares, shared by the
// generators of each boot-partition file.

export interface WifiSettings {
  ssid: string;
  /** Absent for an open network. */
  password?: string;
  /** Regulatory country; the Pi keeps Wi-Fi blocked until one is set. */
  country: string;
}

export interface FlashConfig {
  nodeName: string;
  /** Where the agent connects, e.g. mqtt://192.168.1.10:1883. */
  mqttUrl: string;
  joinToken: string;
  /** Login user created on the board. */
  user: string;
  sshAuthorizedKeys: string[];
  wifi?: WifiSettings;
  /** cloud-init instance id; a new one makes cloud-init run again. */
  instanceId: string;
  nerdctlVersion: string;
  nodeMajor: number;
  pikubePackage: string;
  /** Contents of systemd/pikube-agent.service. */
  agentUnit: string;
}

export const AGENT_DATA_DIR = '/var/lib/pikube-agent';

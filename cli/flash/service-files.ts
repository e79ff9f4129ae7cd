// The one source of pikube's systemd units is the systemd/ folder of the package;
// this module reads those files and renders the environment files they load.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export type Side = 'controller' | 'agent';

export const DEFAULT_DATA_DIR: Record<Side, string> = {
  controller: '/var/lib/pikube',
  agent: '/var/lib/pikube-agent',
};

/** The user the controller unit runs as (User= in systemd/pikube-controller.service). */
export const CONTROLLER_USER = 'pikube';

export function unitName(side: Side): string {
  return `pikube-${side}.service`;
}

export function environmentFilePath(side: Side): string {
  return `/etc/default/pikube-${side}`;
}

/** From dist/cli/flash/ (compiled) three levels up is the package root. */
export function unitFileUrl(side: Side): URL {
  return new URL(`../../../systemd/${unitName(side)}`, import.meta.url);
}

export async function readUnitFile(side: Side): Promise<string> {
  try {
    return await readFile(unitFileUrl(side), 'utf8');
  } catch (error) {
    throw new Error(`cannot read the ${side} unit from ${fileURLToPath(unitFileUrl(side))}: ${(error as Error).message}`);
  }
}

/** This installation's CLI entry point, the file systemd should run. */
export function installedMainPath(): string {
  return fileURLToPath(new URL('../main.js', import.meta.url));
}

/**
 * One environment-file value, written so that both systemd's EnvironmentFile= parser
 * and a POSIX shell read it back unchanged: characters that either would interpret are
 * refused rather than escaped.
 */
export function environmentValue(name: string, value: string): string {
  if (/[\r\n"'\\$`]/.test(value) || /[^\x20-\x7e]/.test(value)) {
    throw new Error(`${name}: value must be printable ASCII without quotes, backslashes, "$" or backticks`);
  }
  return /[\s#;&|<>()*?[\]{}~]/.test(value) ? `"${value}"` : value;
}

export function renderEnvironmentFile(comment: string[], entries: Record<string, string>): string {
  const lines = comment.map((line) => `# ${line}`.trimEnd());
  for (const [name, value] of Object.entries(entries)) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) throw new Error(`environment variable name "${name}" is invalid`);
    lines.push(`${name}=${environmentValue(name, value)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Settings of pikube-agent.service, shared by `pikube install agent` and flash-config. */
export interface AgentSettings {
  nodeName: string;
  mqttUrl: string;
  joinToken: string;
  dataDir: string;
  /** Path of dist/cli/main.js; when absent the unit's default applies. */
  main?: string;
}

export function renderAgentEnvironment(settings: AgentSettings): string {
  return renderEnvironmentFile(
    [
      'Settings of pikube-agent.service; holds the join token: root only (0600).',
      'After a change: systemctl restart pikube-agent',
    ],
    {
      ...(settings.main ? { PIKUBE_MAIN: settings.main } : {}),
      PIKUBE_NODE_NAME: settings.nodeName,
      PIKUBE_MQTT_URL: settings.mqttUrl,
      PIKUBE_JOIN_TOKEN: settings.joinToken,
      PIKUBE_DATA_DIR: settings.dataDir,
    },
  );
}

export interface ControllerSettings {
  dataDir: string;
  apiListen: string;
  mqttListen: string;
  main?: string;
  /** Further flags (high availability: --cluster-init, --join URL --token T, --datastore-endpoint URLS). */
  args?: string;
}

export function renderControllerEnvironment(settings: ControllerSettings): string {
  return renderEnvironmentFile(
    ['Settings of pikube-controller.service.', 'After a change: systemctl restart pikube-controller'],
    {
      ...(settings.main ? { PIKUBE_MAIN: settings.main } : {}),
      PIKUBE_DATA_DIR: settings.dataDir,
      PIKUBE_API_LISTEN: settings.apiListen,
      PIKUBE_MQTT_LISTEN: settings.mqttListen,
      ...(settings.args ? { PIKUBE_CONTROLLER_ARGS: settings.args } : {}),
    },
  );
}

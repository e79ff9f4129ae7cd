// Checks for the values that end up in unit environment files, cloud-init and boot
// scripts. Each throws an Error whose message is one readable line.

/** A Kubernetes node name as pikube accepts it: an RFC 1123 DNS label. */
export function assertDnsLabel(value: string, what = 'node name'): string {
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(value)) {
    throw new Error(`${what} "${value}" is not a DNS label (lower-case letters, digits and "-", at most 63, starting and ending alphanumeric)`);
  }
  return value;
}

/** A Linux login name that every distribution accepts. */
export function assertUserName(value: string): string {
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(value)) {
    throw new Error(`user name "${value}" must be lower-case letters, digits, "_" or "-", starting with a letter or "_", at most 32`);
  }
  return value;
}

export function parsePort(value: string, what = 'port'): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new Error(`${what} "${value}" is not a port number (1-65535)`);
  return port;
}

export interface HostPort {
  host: string;
  port?: number;
}

/** HOST, HOST:PORT, [IPv6] or [IPv6]:PORT. */
export function parseHostPort(value: string, what = 'address'): HostPort {
  let host: string;
  let port: string | undefined;
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::(.*))?$/.exec(value);
  if (bracketed) {
    host = bracketed[1]!;
    port = bracketed[2];
  } else {
    const parts = value.split(':');
    if (parts.length > 2) throw new Error(`${what} "${value}": write an IPv6 address in brackets, e.g. [fd00::1]:1883`);
    host = parts[0]!;
    port = parts[1];
  }
  if (!bracketed && !/^(?=.{1,253}$)[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/.test(host)) {
    throw new Error(`${what} "${value}": "${host}" is not a host name or IP address`);
  }
  return port === undefined ? { host } : { host, port: parsePort(port, `${what} port`) };
}

/** HOST:PORT as given to the listen flags; an empty host is refused. */
export function assertListenAddress(value: string, what: string): string {
  const parsed = parseHostPort(value, what);
  if (parsed.port === undefined) throw new Error(`${what} "${value}" needs a port, e.g. 0.0.0.0:6443`);
  return value;
}

export function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The broker URL an agent connects to. */
export function assertMqttUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`MQTT URL "${value}" is not a URL (e.g. mqtt://192.168.1.10:1883)`);
  }
  if (!['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(url.protocol) || !url.hostname) {
    throw new Error(`MQTT URL "${value}" must be mqtt://, mqtts://, ws:// or wss:// with a host`);
  }
  if (/\s/.test(value)) throw new Error(`MQTT URL "${value}" must not contain spaces`);
  return value;
}

/** The reason an agent's broker URL or token cannot give a verified TLS join, or undefined. */
export function joinSecurityProblem(mqttUrl: string, joinToken: string): string | undefined {
  for (const u of mqttUrl.split(',')) {
    const url = new URL(u.trim());
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const loopback = host === 'localhost' || host === '::1' || /^127\./.test(host);
    if ((url.protocol === 'mqtt:' || url.protocol === 'ws:') && !loopback) {
      return `${u.trim()} is plaintext to another host, which the agent refuses for joining: use mqtts://${url.host.replace(/:\d+$/, '')}:8883 (the controller's TLS listener)`;
    }
  }
  if (!joinToken.startsWith('K10')) return 'the join token carries no CA hash, so the board cannot check the controller over TLS: use the K10… token `pikube token create` (or `pikube token show`) prints on the controller';
  return undefined;
}

/** Join tokens are opaque, but they travel through shell scripts and env files. */
export function assertJoinToken(value: string): string {
  if (!/^[A-Za-z0-9._~+/=:-]{1,512}$/.test(value)) {
    throw new Error('join token must be 1-512 characters of letters, digits and . _ ~ + / = : -');
  }
  return value;
}

/** An absolute path without characters that would need quoting anywhere. */
export function assertAbsolutePath(value: string, what: string): string {
  if (!value.startsWith('/') || !/^[A-Za-z0-9._/@+-]+$/.test(value) || value.split('/').includes('..')) {
    throw new Error(`${what} "${value}" must be an absolute path of letters, digits and . _ / @ + -`);
  }
  return value;
}

/** Two-letter Wi-Fi regulatory country (ISO 3166-1 alpha-2). */
export function assertCountryCode(value: string): string {
  if (!/^[A-Z]{2}$/.test(value)) throw new Error(`Wi-Fi country "${value}" must be two capital letters, e.g. GB or DE`);
  return value;
}

export function assertWifi(ssid: string, password: string | undefined): void {
  if (ssid.length < 1 || Buffer.byteLength(ssid) > 32) throw new Error('Wi-Fi SSID must be 1-32 bytes');
  if (/[\x00-\x1f\x7f]/.test(ssid)) throw new Error('Wi-Fi SSID must not contain control characters');
  if (password !== undefined && (password.length < 8 || password.length > 63 || /[^\x20-\x7e]/.test(password))) {
    throw new Error('Wi-Fi password must be 8-63 printable ASCII characters (WPA passphrase)');
  }
}

/** An OpenSSH public key line. */
export function assertSshPublicKey(line: string): string {
  if (!/^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/=]+( [^\r\n]*)?$/.test(line)) {
    throw new Error(`"${line.slice(0, 40)}..." is not an OpenSSH public key line`);
  }
  return line;
}

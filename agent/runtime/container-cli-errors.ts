// Turns what a container CLI printed on stderr into a RuntimeError kind. nerdctl logs
// through logrus (`time="…" level=fatal msg="…"`, escaped), podman prints `Error: …`,
// docker `Error response from daemon: …`; the texts below come from each CLI's source.
import { RuntimeError, type RuntimeErrorKind } from './container-runtime.js';
import type { CliResult } from './container-cli-exec.js';

const LOGRUS_LINE = /level=(fatal|error|panic)\s+msg="((?:[^"\\]|\\.)*)"/;

function unescapeGoString(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_m, c: string) => {
    if (c.length === 5) return String.fromCharCode(parseInt(c.slice(1), 16));
    switch (c) {
      case 'n': return '\n';
      case 't': return '\t';
      case 'r': return '\r';
      default: return c; // \" and \\ and anything else stand for themselves
    }
  });
}

/** The CLI's own error message, without log decoration; falls back to the last line. */
export function errorMessage(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = LOGRUS_LINE.exec(lines[i]!);
    if (m) return unescapeGoString(m[2]!);
  }
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^(?:\w+: )?Error(?: response from daemon)?: (.*)$/.exec(lines[i]!);
    if (m) return m[1]!;
  }
  return lines.at(-1) ?? '';
}

const TRANSIENT = [
  'no such host', 'i/o timeout', 'connection refused', 'connection reset', 'failed to do request',
  'dial tcp', 'tls handshake timeout', 'temporary failure', 'network is unreachable',
  'pinging container registry', 'toomanyrequests', 'too many requests', 'context deadline exceeded',
  'service unavailable',
];
const IMAGE_NEVER_PULL = ['image not available', 'image not known', 'no such image'];
const IMAGE_NOT_FOUND = [
  'pull access denied', 'repository does not exist', 'failed to resolve reference', 'failed to resolve image',
  'manifest unknown', 'name unknown', 'reading manifest', 'not found: manifest',
];
// A registry's 401 (distribution's UNAUTHORIZED), as each CLI words it.
const UNAUTHORIZED = ['unauthorized', 'authentication required', 'incorrect username or password', 'invalid username/password', 'no basic auth credentials'];
const NAME_CONFLICT = ['is already used by', 'already in use', 'name-store error', 'pod already exists'];
const NOT_FOUND = ['no such container', 'no container with name or id', 'no such pod', 'no pod with name or id', 'no such object'];
const CREATE_FAILED = [
  'oci runtime', 'runc create failed', 'failed to create shim', 'exec format error', 'executable file not found',
  'no such file or directory', 'permission denied', 'cgroup', 'starting container', 'unsupported restart policy',
  'setrlimit', 'error setting rlimit', 'failed to create task', 'invalid reference format',
];

export function classifyMessage(message: string): RuntimeErrorKind {
  const m = message.toLowerCase();
  const has = (list: string[]) => list.some((needle) => m.includes(needle));
  if (has(NAME_CONFLICT)) return 'NameConflict';
  if (has(NOT_FOUND)) return 'NotFound';
  if (has(IMAGE_NEVER_PULL)) return 'ImageNeverPull';
  if (has(TRANSIENT)) return 'Transient';
  if (has(UNAUTHORIZED)) return 'Unauthorized';
  if (has(IMAGE_NOT_FOUND)) return 'ImageNotFound';
  if (has(CREATE_FAILED)) return 'CreateFailed';
  return 'Unknown';
}

/** A RuntimeError for a failed command; `what` names the operation for the message. */
export function runtimeError(what: string, result: CliResult): RuntimeError {
  const message = errorMessage(result.stderr) || `exit code ${result.exitCode}`;
  return new RuntimeError(classifyMessage(message), `${what}: ${message}`, result.stderr);
}

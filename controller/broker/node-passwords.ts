// Node MQTT passwords, k3s's node-password rule: each join makes a random password that
// is stored only as a salted hash in <data-dir>/node-passwords.json; a name that joined
// once cannot be joined again until the node is deleted (`kubectl delete node` or
// `pikube node reset`). The file is re-read when it changes, so a reset from the command
// line needs no restart.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { safeEqual } from './credentials.js';

export const NODE_PASSWORDS_FILE = 'node-passwords.json';

export interface NodePasswordEntry { hash: string; joined: string }
type Entry = NodePasswordEntry;

export function hashPassword(password: string, salt: string): string {
  return `${salt}:${createHash('sha256').update(salt).update(password).digest('hex')}`;
}

export class NodePasswords {
  private entries: Record<string, Entry> = {};
  /**
   * Which file the entries came from: inode, size and mtime. Every save renames a new file
   * into place, and file times tick only every few milliseconds, so two writers (another
   * controller loop, `pikube node reset`) within one tick leave the same mtime behind.
   */
  private version = '';

  constructor(private readonly dataDir: string) {}

  private get path(): string { return join(this.dataDir, NODE_PASSWORDS_FILE); }

  private fileVersion(): string {
    try {
      const st = statSync(this.path);
      return `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      return 'none';
    }
  }

  private load(): void {
    const v = this.fileVersion();
    if (v === this.version) return;
    this.version = v;
    this.entries = v === 'none' ? {} : ((JSON.parse(readFileSync(this.path, 'utf8')) as { nodes?: Record<string, Entry> }).nodes ?? {});
  }

  private save(): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ nodes: this.entries }, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, this.path);
    this.version = this.fileVersion();
  }

  has(node: string): boolean {
    this.load();
    return node in this.entries;
  }

  /** A fresh random password for a node that has none; undefined when it already has one. */
  issue(node: string): string | undefined {
    this.load();
    if (node in this.entries) return undefined;
    const password = randomBytes(24).toString('base64url');
    this.entries[node] = { hash: hashPassword(password, randomBytes(16).toString('hex')), joined: new Date().toISOString() };
    this.save();
    return password;
  }

  /** true: matches; false: wrong; undefined: this node has no stored password. */
  verify(node: string, password: string): boolean | undefined {
    this.load();
    const e = this.entries[node];
    if (!e) return undefined;
    const salt = e.hash.split(':')[0]!;
    return safeEqual(hashPassword(password, salt), e.hash);
  }

  /** Stores the hash of a password a node already holds (one joined before passwords were stored). */
  adopt(node: string, password: string): void {
    this.load();
    if (node in this.entries) return;
    this.entries[node] = { hash: hashPassword(password, randomBytes(16).toString('hex')), joined: new Date().toISOString() };
    this.save();
  }

  /** The stored hash of one node, to share it with the other controllers of a cluster. */
  entry(node: string): NodePasswordEntry | undefined {
    this.load();
    const e = this.entries[node];
    return e ? { ...e } : undefined;
  }

  /** Every node that holds a password. */
  names(): string[] {
    this.load();
    return Object.keys(this.entries);
  }

  /** Takes a hash another controller of the cluster issued; false when it was already this one. */
  put(node: string, entry: NodePasswordEntry): boolean {
    this.load();
    if (this.entries[node]?.hash === entry.hash) return false;
    this.entries[node] = { hash: entry.hash, joined: entry.joined };
    this.save();
    return true;
  }

  /** Forgets a node's password (its node object was deleted); true when there was one. */
  remove(node: string): boolean {
    this.load();
    if (!(node in this.entries)) return false;
    delete this.entries[node];
    this.save();
    return true;
  }
}

export function nodePasswordsExist(dataDir: string): boolean {
  return existsSync(join(dataDir, NODE_PASSWORDS_FILE));
}

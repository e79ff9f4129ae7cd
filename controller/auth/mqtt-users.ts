// API users who also talk MQTT (`pikube user add NAME --mqtt`): a random password per
// user, kept only as a salted hash in the same users.json as their certificates, so that
// `pikube user revoke` ends both. The broker checks the password; the API gateway asks who
// the user is (name and groups) before every request, so a revoked user is refused at once.
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { hashPassword } from '../broker/node-passwords.js';
import { safeEqual } from '../broker/credentials.js';
import { mosquittoPasswordHash } from '../broker/mosquitto-config.js';
import { readUsers, updateUsers, usersPath, type UserRecord } from './user-certificates.js';

/** Gives the user a new MQTT password and returns it (the only time it is readable). */
export function issueMqttPassword(dataDir: string, name: string): string {
  const password = randomBytes(24).toString('base64url');
  updateUsers(dataDir, (f) => {
    const rec = f.users[name];
    if (!rec) throw new Error(`no user "${name}"`);
    rec.mqttPassword = hashPassword(password, randomBytes(16).toString('hex'));
    // Mosquitto's hash can only be made while the password is known: now.
    rec.mosquittoPassword = mosquittoPasswordHash(password);
  });
  return password;
}

export interface MqttUser { username: string; groups: string[] }

/** users.json as the broker and the gateway read it: re-read when it changes, at most once a second. */
export class MqttUserDirectory {
  private users: Record<string, UserRecord> = {};
  private mtime = -2;
  private checkedAt = 0;

  constructor(private readonly dataDir: string) {}

  private refresh(): void {
    const now = Date.now();
    if (now - this.checkedAt < 1000) return;
    this.checkedAt = now;
    let m = -1;
    try { m = statSync(usersPath(this.dataDir)).mtimeMs; } catch { m = -1; }
    if (m === this.mtime) return;
    this.mtime = m;
    this.users = m < 0 ? {} : readUsers(this.dataDir).users;
  }

  /** The user, when it exists, has MQTT access and has not expired. */
  lookup(name: string): MqttUser | undefined {
    const user = this.apiUser(name);
    return user && this.users[name]!.mqttPassword ? user : undefined;
  }

  /** Any API user `pikube user add` created that is neither revoked nor expired. */
  apiUser(name: string): MqttUser | undefined {
    this.refresh();
    const rec = Object.prototype.hasOwnProperty.call(this.users, name) ? this.users[name] : undefined;
    if (!rec) return undefined;
    if (rec.expires && Date.parse(rec.expires) <= Date.now()) return undefined;
    return { username: name, groups: [...rec.groups, 'system:authenticated'] };
  }

  verify(name: string, password: string): boolean {
    if (!this.lookup(name)) return false;
    const hash = this.users[name]!.mqttPassword!;
    return safeEqual(hashPassword(password, hash.split(':')[0]!), hash);
  }
}

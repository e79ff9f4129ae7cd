// Short-lived bearer tokens that stand for an MQTT user inside this controller: the
// gateway sends each MQTT request to the API server with its user's token, so the request
// meets the same authentication, authorization and admission as that user's kubectl.
// Never leaves the process, never written anywhere.
import { randomBytes } from 'node:crypto';

export interface TokenUser { username: string; groups: string[] }

const TTL_MS = 10 * 60_000;

export class UserTokens {
  private readonly byToken = new Map<string, { user: TokenUser; expires: number }>();
  private readonly byUser = new Map<string, string>();

  /** A token for the user, reused until shortly before it expires. */
  tokenFor(user: TokenUser, now = Date.now()): string {
    const key = `${user.username}\u0000${user.groups.join(',')}`;
    const existing = this.byUser.get(key);
    const entry = existing ? this.byToken.get(existing) : undefined;
    if (existing && entry && entry.expires - now > 60_000) return existing;
    if (existing) this.byToken.delete(existing);
    const token = `pikube-mqtt.${randomBytes(24).toString('base64url')}`;
    this.byToken.set(token, { user, expires: now + TTL_MS });
    this.byUser.set(key, token);
    return token;
  }

  /** The user a token stands for, or undefined (unknown, expired, or not one of ours). */
  authenticate(token: string, now = Date.now()): TokenUser | undefined {
    if (!token.startsWith('pikube-mqtt.')) return undefined;
    const entry = this.byToken.get(token);
    if (!entry || entry.expires <= now) return undefined;
    return entry.user;
  }

  /** Forgets a user's tokens at once (revocation). */
  revoke(username: string): void {
    for (const [token, e] of this.byToken) if (e.user.username === username) this.byToken.delete(token);
    for (const key of this.byUser.keys()) if (key.startsWith(`${username}\u0000`)) this.byUser.delete(key);
  }
}

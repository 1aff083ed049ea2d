import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { ApiKeysService, hashApiKey } from '../admin/api-keys.service';
import type { Principal } from '../admin/principal';
import { safeEqual } from '../common/crypto';
import { ConsoleSessionsRepository } from './console-sessions.repository';

/** How long a sign-in lasts (a working day); signing in again starts a new one. */
export const SESSION_TTL_MS = 12 * 3600_000;
export const SESSION_COOKIE = 'tb_console';

export interface ConsoleSession {
  principal: Principal;
  csrfToken: string;
  expiresAt: Date;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * Signing in to the console: an API key is exchanged for a random session token (the browser's
 * HttpOnly cookie) and a CSRF token (in every form). Each request resolves the session to the key's
 * principal again, so a revoked key signs its browsers out, and the role's permissions apply
 * exactly as in the API.
 */
@Injectable()
export class ConsoleSessionsService {
  constructor(
    private readonly repo: ConsoleSessionsRepository,
    private readonly keys: ApiKeysService,
  ) {}

  /** A new session for a valid key; null for a missing, unknown or revoked one. */
  async signIn(apiKey: string, now = new Date()): Promise<{ token: string; session: ConsoleSession } | null> {
    const principal = await this.keys.authenticate(apiKey.trim());
    if (!principal) return null;
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
    await this.repo.insert(sha256(token), { keySha256: hashApiKey(apiKey.trim()), csrfToken, expiresAt });
    void this.repo.deleteExpired().catch(() => undefined);
    return { token, session: { principal, csrfToken, expiresAt } };
  }

  /** The session a cookie names, while it lasts and its key is valid; else null. */
  async resolve(token: string | undefined): Promise<ConsoleSession | null> {
    if (!token || !/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const stored = await this.repo.find(sha256(token));
    if (!stored) return null;
    const principal = await this.keys.authenticateHash(stored.keySha256);
    if (!principal) {
      await this.repo.delete(sha256(token));
      return null;
    }
    return { principal, csrfToken: stored.csrfToken, expiresAt: new Date(stored.expiresAt) };
  }

  async signOut(token: string | undefined): Promise<void> {
    if (token) await this.repo.delete(sha256(token));
  }

  /** Whether a form's token is its session's (compared in constant time). */
  csrfMatches(session: ConsoleSession, presented: unknown): boolean {
    return typeof presented === 'string' && presented.length > 0 && safeEqual(presented, session.csrfToken);
  }
}

/** The value of one cookie in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

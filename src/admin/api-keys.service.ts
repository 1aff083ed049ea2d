import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { safeEqual } from '../common/crypto';
import { LOGGER } from '../common/logger';
import type { ApiKeyEntity } from './api-keys.entity';
import { ApiKeysRepository } from './api-keys.repository';
import { isRole, type Role } from './permissions';
import { ENV_ADMIN, type Principal } from './principal';

const KEY_PREFIX = 'tb_';
const KEY_BYTES = 32;
/** `tb_` and 32 random bytes in base64url (43 characters). */
const KEY_PATTERN = /^tb_[A-Za-z0-9_-]{43}$/;
/** Characters of the key kept for display: `tb_` and six of the random part (36 bits, not enough to guess the rest). */
const DISPLAY_LENGTH = KEY_PREFIX.length + 6;

/**
 * How long a verified key is trusted without asking the database again. A key revoked through
 * this process stops working at once; through another process, within this time.
 */
export const VERIFIED_KEY_TTL_MS = 10_000;
/** Verified keys kept in memory at most (the oldest is dropped first). */
const CACHE_LIMIT = 1_000;

/** A new random API key: `tb_` + 32 random bytes (base64url). */
export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(KEY_BYTES).toString('base64url');
}

/**
 * What is stored of a key: its sha256 (hex). The key has 256 random bits, so a fast hash is
 * enough (no salt or slow hash is needed against guessing), and a lookup by hash compares no
 * secret byte by byte.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The start of a key, shown in lists so an operator can tell keys apart. */
export function apiKeyPrefix(key: string): string {
  return key.slice(0, DISPLAY_LENGTH);
}

/** What the API shows of a key: never the key or its hash. */
export interface ApiKeyView {
  id: string;
  name: string;
  role: Role | string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** A key just created: the only answer that holds the key itself. */
export interface CreatedApiKey extends ApiKeyView {
  key: string;
}

export class ApiKeyNotFoundError extends Error {
  constructor() {
    super('no active API key with this id');
    this.name = 'ApiKeyNotFoundError';
  }
}

export class UnknownRoleError extends Error {
  constructor(role: string) {
    super(`unknown role '${role}'`);
    this.name = 'UnknownRoleError';
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** API keys of the operator API: creation, verification (the hot path of every call), revocation. */
@Injectable()
export class ApiKeysService {
  /** Verified keys by hash. Only hits are kept: a flood of wrong keys cannot fill memory. */
  private readonly verified = new Map<string, { principal: Principal; expiresAt: number }>();
  private readonly bootstrapPrincipal: Principal = { keyId: null, name: ENV_ADMIN, role: 'admin' };

  constructor(
    private readonly repo: ApiKeysRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Creates a key with this role. The answer is the only time the key is ever shown. */
  async create(input: { name: string; role: string }): Promise<CreatedApiKey> {
    if (!isRole(input.role)) throw new UnknownRoleError(input.role);
    const key = generateApiKey();
    const row = await this.repo.insert({ name: input.name, role: input.role, keyHash: hashApiKey(key), prefix: apiKeyPrefix(key) });
    this.logger.info({ apiKeyId: row.id, role: row.role }, 'API key created');
    return { ...view(row), key };
  }

  /** Every key, revoked ones included, newest first; never a key or a hash. */
  async list(): Promise<ApiKeyView[]> {
    return (await this.repo.list()).map(view);
  }

  /** Revokes a key: it stops working at once here (other processes: within VERIFIED_KEY_TTL_MS). */
  async revoke(id: string): Promise<void> {
    const keyHash = UUID.test(id) ? await this.repo.revoke(id) : null;
    if (!keyHash) throw new ApiKeyNotFoundError();
    this.verified.delete(keyHash);
    this.logger.info({ apiKeyId: id }, 'API key revoked');
  }

  /**
   * The principal a presented key stands for, or null for a missing, unknown or revoked key. The
   * bootstrap key (ADMIN_API_KEY) is an admin named 'env-admin'. Verified keys are cached briefly,
   * so most calls cost no database round trip.
   */
  async authenticate(presented: string | undefined): Promise<Principal | null> {
    if (!presented) return null;
    const bootstrap = this.config.admin.apiKey;
    if (bootstrap && safeEqual(presented, bootstrap)) return this.bootstrapPrincipal;
    // Anything that cannot be one of our keys is refused without a database query.
    if (!KEY_PATTERN.test(presented)) return null;
    return this.authenticateHash(hashApiKey(presented));
  }

  /**
   * The same for a key known by its hash (a console session keeps the hash, never the key): null
   * once the key is revoked, so a session ends with its key.
   */
  async authenticateHash(keyHash: string): Promise<Principal | null> {
    const bootstrap = this.config.admin.apiKey;
    if (bootstrap && safeEqual(keyHash, hashApiKey(bootstrap))) return this.bootstrapPrincipal;
    const now = Date.now();
    const cached = this.verified.get(keyHash);
    if (cached && cached.expiresAt > now) return cached.principal;
    this.verified.delete(keyHash);

    const row = await this.repo.useActiveByHash(keyHash);
    if (!row || !isRole(row.role)) return null;
    const principal: Principal = { keyId: row.id, name: row.name, role: row.role };
    if (this.verified.size >= CACHE_LIMIT) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(keyHash, { principal, expiresAt: now + VERIFIED_KEY_TTL_MS });
    return principal;
  }
}

function view(row: ApiKeyEntity): ApiKeyView {
  return { id: row.id, name: row.name, role: row.role, prefix: row.prefix, createdAt: row.createdAt, lastUsedAt: row.lastUsedAt, revokedAt: row.revokedAt };
}

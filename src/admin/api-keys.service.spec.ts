import { afterEach, describe, expect, it, jest } from '@jest/globals';
import pino from 'pino';
import type { AppConfig } from '../../config/configuration';
import type { ApiKeyEntity } from './api-keys.entity';
import type { ApiKeysRepository, NewApiKey } from './api-keys.repository';
import { apiKeyPrefix, ApiKeyNotFoundError, ApiKeysService, generateApiKey, hashApiKey, UnknownRoleError, VERIFIED_KEY_TTL_MS } from './api-keys.service';

const BOOTSTRAP_KEY = 'bootstrap-admin-key-0123456789';

/** The api_keys table in memory, counting the lookups the service makes. */
class InMemoryApiKeys {
  rows: ApiKeyEntity[] = [];
  lookups = 0;

  async insert(row: NewApiKey): Promise<ApiKeyEntity> {
    const entity: ApiKeyEntity = { ...row, id: `00000000-0000-4000-8000-${String(this.rows.length).padStart(12, '0')}`, createdAt: new Date(), lastUsedAt: null, revokedAt: null };
    this.rows.push(entity);
    return entity;
  }
  async list(): Promise<ApiKeyEntity[]> {
    return [...this.rows].reverse();
  }
  async useActiveByHash(keyHash: string) {
    this.lookups++;
    const row = this.rows.find((r) => r.keyHash === keyHash && !r.revokedAt);
    if (!row) return null;
    row.lastUsedAt = new Date();
    return { id: row.id, name: row.name, role: row.role };
  }
  async revoke(id: string): Promise<string | null> {
    const row = this.rows.find((r) => r.id === id && !r.revokedAt);
    if (!row) return null;
    row.revokedAt = new Date();
    return row.keyHash;
  }
}

/** The service over an in-memory store; `bootstrapKey` null: no ADMIN_API_KEY configured. */
function service(bootstrapKey: string | null = BOOTSTRAP_KEY) {
  const repo = new InMemoryApiKeys();
  const config = { admin: { apiKey: bootstrapKey ?? undefined } } as AppConfig;
  return { repo, keys: new ApiKeysService(repo as unknown as ApiKeysRepository, config, pino({ level: 'silent' })) };
}

describe('API key material', () => {
  it('is tb_ followed by 32 random bytes in base64url', () => {
    const key = generateApiKey();
    expect(key).toMatch(/^tb_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key.slice(3), 'base64url')).toHaveLength(32);
    const many = new Set(Array.from({ length: 1000 }, generateApiKey));
    expect(many.size).toBe(1000);
  });

  it('is stored as its hex sha256, which does not contain the key', () => {
    // sha256("abc") from FIPS 180-2.
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const key = generateApiKey();
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey(key)).toBe(hashApiKey(key));
    expect(hashApiKey(key)).not.toBe(hashApiKey(`${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`));
    expect(hashApiKey(key)).not.toContain(key.slice(3, 13));
  });

  it('is shown in lists by a prefix too short to use', () => {
    const key = generateApiKey();
    expect(apiKeyPrefix(key)).toBe(key.slice(0, 9));
    expect(apiKeyPrefix(key).startsWith('tb_')).toBe(true);
  });
});

describe('ApiKeysService', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('creates a key once: the answer holds it, the store and the list only its hash and prefix', async () => {
    const { repo, keys } = service();
    const created = await keys.create({ name: 'support', role: 'agent' });
    expect(created).toMatchObject({ name: 'support', role: 'agent', prefix: created.key.slice(0, 9), revokedAt: null });
    expect(repo.rows[0].keyHash).toBe(hashApiKey(created.key));
    expect(JSON.stringify(repo.rows)).not.toContain(created.key);
    const listed = await keys.list();
    expect(listed).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(created.key);
    expect(JSON.stringify(listed)).not.toContain(repo.rows[0].keyHash);
    await expect(keys.create({ name: 'x', role: 'root' })).rejects.toBeInstanceOf(UnknownRoleError);
  });

  it('knows the bootstrap key as the admin env-admin, without a database lookup', async () => {
    const { repo, keys } = service();
    await expect(keys.authenticate(BOOTSTRAP_KEY)).resolves.toEqual({ keyId: null, name: 'env-admin', role: 'admin' });
    await expect(keys.authenticate(`${BOOTSTRAP_KEY}x`)).resolves.toBeNull();
    expect(repo.lookups).toBe(0);
  });

  it('refuses missing, malformed and unknown keys; only a well-formed key costs a lookup', async () => {
    const { repo, keys } = service(null);
    for (const presented of [undefined, '', 'not-a-key', 'tb_short', `${generateApiKey()}!`, BOOTSTRAP_KEY]) {
      await expect(keys.authenticate(presented)).resolves.toBeNull();
    }
    expect(repo.lookups).toBe(0);
    await expect(keys.authenticate(generateApiKey())).resolves.toBeNull();
    expect(repo.lookups).toBe(1);
  });

  it('verifies a key by its hash and trusts it for a while without asking again', async () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z'), doNotFake: ['nextTick', 'setImmediate'] });
    const { repo, keys } = service();
    const created = await keys.create({ name: 'auditors', role: 'auditor' });
    const principal = { keyId: created.id, name: 'auditors', role: 'auditor' };
    await expect(keys.authenticate(created.key)).resolves.toEqual(principal);
    await expect(keys.authenticate(created.key)).resolves.toEqual(principal);
    expect(repo.lookups).toBe(1);
    jest.setSystemTime(Date.now() + VERIFIED_KEY_TTL_MS + 1);
    await expect(keys.authenticate(created.key)).resolves.toEqual(principal);
    expect(repo.lookups).toBe(2);
  });

  it('stops accepting a revoked key at once, although it was cached', async () => {
    const { keys } = service();
    const created = await keys.create({ name: 'temp', role: 'integrator' });
    await expect(keys.authenticate(created.key)).resolves.toMatchObject({ keyId: created.id });
    await keys.revoke(created.id);
    await expect(keys.authenticate(created.key)).resolves.toBeNull();
    await expect(keys.revoke(created.id)).rejects.toBeInstanceOf(ApiKeyNotFoundError);
    await expect(keys.revoke('not-a-uuid')).rejects.toBeInstanceOf(ApiKeyNotFoundError);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { rotateEncryptionKey } from '../../src/key-rotation';
import { Encryption } from '../../src/common/encryption';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { TEST_ADMIN_KEY, tempDir } from '../setup/test-service';

const KEY_A = randomBytes(32).toString('hex');
const KEY_B = randomBytes(32).toString('hex');
const CREDENTIALS = [{ accessToken: 'pat-na1-first', baseUrl: 'http://127.0.0.1:1' }, { accessToken: 'pat-na1-second', baseUrl: 'http://127.0.0.1:2' }];

/** `npm run rotate-key`: credentials written under the previous key are rewritten under the new one. */
describe('encryption key rotation command', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let db: Client;
  const env = (keys: Record<string, string>) => ({ DATABASE_URL: database.url, REDIS_URL: redis.url, DATA_DIR: tempDir(), ADMIN_API_KEY: TEST_ADMIN_KEY, LOG_LEVEL: 'silent', ...keys });
  const stored = async (): Promise<string[]> => (await db.query(`SELECT credentials_enc FROM connections ORDER BY name`)).rows.map((r) => r.credentials_enc);

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    db = new Client({ connectionString: database.url });
    await db.connect();
    const underA = new Encryption(KEY_A);
    for (const [i, credentials] of CREDENTIALS.entries()) {
      await db.query(`INSERT INTO connections (connector_id, name, credentials_enc, settings, enabled, status, source) VALUES ('hubspot', $1, $2, '{}', false, 'active', 'api')`, [
        `HubSpot ${i}`,
        underA.encrypt(JSON.stringify(credentials)),
      ]);
    }
  });

  afterAll(async () => {
    await db?.end();
    await redis?.close();
    await database?.drop();
  });

  it('rewrites every credential under the new key, after which the previous key can be dropped', async () => {
    await expect(rotateEncryptionKey(env({ ENCRYPTION_KEY: KEY_B, ENCRYPTION_KEY_PREVIOUS: KEY_A }))).resolves.toEqual({
      rewritten: 2,
      keyId: new Encryption(KEY_B).keyId,
      previousKeySet: true,
    });
    const onlyB = new Encryption(KEY_B);
    const values = await stored();
    expect(values.map((v) => v.split('.')[1])).toEqual([onlyB.keyId, onlyB.keyId]);
    expect(values.map((v) => JSON.parse(onlyB.decrypt(v)))).toEqual(CREDENTIALS);
  });

  it('rewrites nothing the second time, nor without a previous key', async () => {
    const before = await stored();
    await expect(rotateEncryptionKey(env({ ENCRYPTION_KEY: KEY_B, ENCRYPTION_KEY_PREVIOUS: KEY_A }))).resolves.toMatchObject({ rewritten: 0 });
    await expect(rotateEncryptionKey(env({ ENCRYPTION_KEY: KEY_B }))).resolves.toMatchObject({ rewritten: 0, previousKeySet: false });
    await expect(stored()).resolves.toEqual(before);
  });
});

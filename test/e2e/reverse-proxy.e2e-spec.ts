import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axios from 'axios';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { eventually, startTestService, TEST_ADMIN_KEY, type TestService } from '../setup/test-service';

const http = axios.create({ validateStatus: () => true });

/**
 * Behind a reverse proxy the audit log (and the per-IP rate limit) must see the client's address
 * from X-Forwarded-For — but only when the proxy is trusted: anyone can send that header.
 */
describe('TRUST_PROXY', () => {
  let database: TestDatabase;
  const services: TestService[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    for (const s of services) await s.stop();
    await database?.drop();
  });

  /** Creates an API key through the service with a forged client address; returns the audited ip. */
  async function auditedIp(service: TestService, name: string): Promise<string> {
    const res = await http.post(
      `${service.url}/api/v1/api-keys`,
      { name, role: 'agent' },
      { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'x-forwarded-for': '203.0.113.9' } },
    );
    expect(res.status).toBe(201);
    // The audit row is written once the answer has gone out (AuditInterceptor): wait for it.
    const row = await eventually(async () => (await service.db.query(`SELECT ip FROM audit_log WHERE target_id = $1`, [res.data.id]))[0] as { ip: string } | undefined, 'the audit row');
    return row.ip;
  }

  it('believes X-Forwarded-For from a trusted proxy (loopback)', async () => {
    const service = await startTestService({ DATABASE_URL: database.url, ROLE: 'api', TRUST_PROXY: 'loopback' });
    services.push(service);
    await expect(auditedIp(service, 'behind-proxy')).resolves.toBe('203.0.113.9');
  });

  it('ignores X-Forwarded-For when no proxy is trusted', async () => {
    const service = await startTestService({ DATABASE_URL: database.url, ROLE: 'api' });
    services.push(service);
    await expect(auditedIp(service, 'no-proxy')).resolves.toMatch(/127\.0\.0\.1$/);
  });

  it('refuses a malformed TRUST_PROXY at boot', async () => {
    await expect(startTestService({ DATABASE_URL: database.url, ROLE: 'api', TRUST_PROXY: 'everyone please' })).rejects.toThrow(/TRUST_PROXY/);
  });
});

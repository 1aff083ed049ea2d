import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { aTextMessageWebhook } from '../factories/whatsapp-webhook.factory';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { captureLogs, startTestService, type TestService } from '../setup/test-service';

/** What a newcomer sees when the first webhook arrives before WHATSAPP_APP_SECRET is set. */
describe('a webhook before WHATSAPP_APP_SECRET is configured', () => {
  let database: TestDatabase;
  let service: TestService;
  const { sink, lines } = captureLogs();

  beforeAll(async () => {
    database = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: database.url, ROLE: 'api', WHATSAPP_APP_SECRET: '' }, { logDestination: sink, logLevel: 'warn' });
  });

  afterAll(async () => {
    await service?.stop();
    await database?.drop();
  });

  it('answers 401 saying the secret is not configured (not that the signature is wrong), logged once per interval', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await postMetaWebhook(`${service.url}/webhooks/whatsapp`, aTextMessageWebhook(), 'any-secret');
      expect(res.status).toBe(401);
      expect(JSON.stringify(res.body)).toMatch(/WHATSAPP_APP_SECRET is not configured/);
    }
    expect(lines.filter((l) => /WHATSAPP_APP_SECRET is not configured/.test(String(l.msg)))).toHaveLength(1);
    const [{ count }] = await service.db.query(`SELECT count(*)::int AS count FROM messages`);
    expect(count).toBe(0);
  });
});

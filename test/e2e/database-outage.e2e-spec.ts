import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { TcpProxy } from '../setup/tcp-proxy';
import { startTestService, TEST_APP_SECRET, type TestService } from '../setup/test-service';

/** Postgres is reached through a proxy the test can take down, as if the database stopped. */
describe('database outage', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let proxy: TcpProxy;
  let service: TestService;
  let webhookUrl: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    const target = new URL(database.url);
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    target.host = `127.0.0.1:${proxy.port}`;
    service = await startTestService({ DATABASE_URL: target.toString(), REDIS_URL: redis.url });
    webhookUrl = `${service.url}/webhooks/whatsapp`;
  });

  afterAll(async () => {
    proxy.bringBack();
    await service?.stop();
    await proxy?.stop();
    await redis?.close();
    await database?.drop();
  });

  const stored = async (wamid: string) =>
    Number((await service.db.query(`SELECT count(*) FROM messages WHERE wamid = $1`, [wamid]))[0].count);

  it('answers 503 while the database is down, so Meta retries, and loses nothing once it is back', async () => {
    const before = nextWamid();
    expect((await postMetaWebhook(webhookUrl, aTextMessageWebhook({ wamid: before, text: 'before the outage' }), TEST_APP_SECRET)).status).toBe(200);

    proxy.takeDown();
    const during = nextWamid();
    const payload = JSON.stringify(aTextMessageWebhook({ wamid: during, text: 'during the outage' }));
    const refused = await postMetaWebhook(webhookUrl, payload, TEST_APP_SECRET);
    expect(refused.status).toBe(503);
    const ready = await fetch(`${service.url}/health/ready`);
    expect(ready.status).toBe(503);

    proxy.bringBack();
    // Meta delivers again with backoff; the same bytes are accepted once the database answers.
    const redelivered = await postMetaWebhook(webhookUrl, payload, TEST_APP_SECRET, { retries: 10, backoffMs: 100 });
    expect(redelivered.status).toBe(200);
    await expect(stored(during)).resolves.toBe(1);
    await expect(stored(before)).resolves.toBe(1);
  });
});

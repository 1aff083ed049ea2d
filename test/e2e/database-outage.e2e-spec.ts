import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axios from 'axios';
import { Client } from 'pg';
import { startHubspotFake, type HubspotFake } from '../../connectors/hubspot/test/hubspot.fake-server';
import { aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { TcpProxy } from '../setup/tcp-proxy';
import { allowFakes, eventually, startTestService, TEST_ADMIN_KEY, TEST_APP_SECRET, type TestService } from '../setup/test-service';

const HUBSPOT_TOKEN = 'outage-hubspot-token';

/** Postgres is reached through a proxy the test can take down, as if the database stopped. */
describe('database outage', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let proxy: TcpProxy;
  let service: TestService;
  let webhookUrl: string;
  let hubspot: HubspotFake;
  /** Straight to Postgres, not through the proxy: what the test sees while the service cannot. */
  let direct: Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    const target = new URL(database.url);
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    target.host = `127.0.0.1:${proxy.port}`;
    hubspot = await startHubspotFake({ accessTokens: [HUBSPOT_TOKEN], rateLimit: false });
    direct = new Client({ connectionString: database.url });
    await direct.connect();
    // The sweeper's interval and stale window are the shipped defaults, not the quick test ones:
    // how fast work resumes after an outage is what the second test measures.
    service = await startTestService({ DATABASE_URL: target.toString(), REDIS_URL: redis.url, SWEEP_INTERVAL_MS: undefined, SWEEP_STALE_MS: undefined, EGRESS_ALLOW: allowFakes(hubspot) });
    webhookUrl = `${service.url}/webhooks/whatsapp`;
  });

  afterAll(async () => {
    proxy.bringBack();
    await service?.stop();
    await proxy?.stop();
    await direct?.end();
    await hubspot?.close();
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

  it('delivers what waited behind a drain that held its task within 15 s of the database coming back, each message once', async () => {
    const created = await axios.post(
      `${service.url}/api/v1/connections`,
      { connectorId: 'hubspot', name: 'HubSpot', credentials: { accessToken: HUBSPOT_TOKEN, baseUrl: hubspot.url } },
      { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` }, validateStatus: () => true },
    );
    expect(created.status).toBe(201);
    const connectionId: string = created.data.id;

    // HubSpot carries out each write and answers 2 s later, so the drain is inside a call when
    // the database goes; the messages behind it wait for that drain.
    hubspot.setOptions({ responseDelayMs: 2000 });
    const customers = ['4915200000201', '4915200000202', '4915200000203'];
    const texts = Array.from({ length: 30 }, (_, i) => `outage message ${i}`);
    for (const [i, text] of texts.entries()) {
      const waId = customers[i % customers.length];
      expect((await postMetaWebhook(webhookUrl, aTextMessageWebhook({ waId, wamid: nextWamid(waId), text, timestamp: 1_763_800_000 + i }), TEST_APP_SECRET)).status).toBe(200);
    }
    const open = async () =>
      Number((await direct.query(`SELECT count(*) FROM outbox WHERE connection_id = $1 AND queue = 'crm-sync' AND status <> 'done'`, [connectionId])).rows[0].count);
    await eventually(
      async () => {
        const held = await direct.query(`SELECT 1 FROM sync_leases WHERE connection_id = $1 AND expires_at > now()`, [connectionId]);
        const running = await direct.query(`SELECT 1 FROM outbox WHERE connection_id = $1 AND status = 'running'`, [connectionId]);
        return held.rowCount === 1 && running.rowCount! > 0 && hubspot.requestCount() > 0;
      },
      'a drain holding its task, inside a HubSpot call',
    );

    proxy.takeDown();
    await new Promise((r) => setTimeout(r, 30_000));
    expect(await open()).toBeGreaterThan(0);
    hubspot.setOptions({ responseDelayMs: 0 });
    proxy.bringBack();
    const back = Date.now();

    await eventually(async () => (await open()) === 0, 'every crm-sync task done', 15_000);
    const elapsed = Date.now() - back;
    expect(elapsed).toBeLessThanOrEqual(15_000);
    const bodies = hubspot.communications().map((c) => String(c.properties.hs_communication_body));
    for (const text of texts) expect(bodies.filter((b) => b.includes(`>${text}<`))).toHaveLength(1);
    expect(hubspot.contacts()).toHaveLength(customers.length);
  }, 90_000);
});

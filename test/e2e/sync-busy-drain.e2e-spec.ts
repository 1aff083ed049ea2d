import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getQueueToken } from '@nestjs/bullmq';
import axios from 'axios';
import type { Queue } from 'bullmq';
import { startHubspotFake, type HubspotFake } from '../../connectors/hubspot/test/hubspot.fake-server';
import { QueueName } from '../../src/sync/sync.constants';
import { aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { eventually, startTestService, TEST_ADMIN_KEY, TEST_APP_SECRET, type TestService } from '../setup/test-service';

const TOKEN = 'hubspot-token-busy';
const LEASE_MS = 8000;

/**
 * Messages that arrive while their connection's drain runs: their tasks find the drain busy and
 * leave the work to it. That must cost nothing beyond the claim (no retry job queued per message,
 * measured by bench:ingest's syncing phase), and a drain that dies must still not strand them.
 */
describe('sync tasks of a connection whose drain is running', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let hubspot: HubspotFake;
  let service: TestService;
  let connectionId: string;

  const webhook = (waId: string, text: string) =>
    postMetaWebhook(`${service.url}/webhooks/whatsapp`, aTextMessageWebhook({ waId, name: 'Busy Customer', wamid: nextWamid(waId), text }), TEST_APP_SECRET);
  const openTasks = async () => Number((await service.db.query(`SELECT count(*) FROM outbox WHERE queue = 'crm-sync' AND status IN ('pending', 'running')`))[0].count);
  const inHubspot = (text: string) => hubspot.communications().filter((c) => String(c.properties.hs_communication_body ?? '').includes(text)).length;

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    // Slow answers keep the first drain running while the other messages' tasks arrive.
    hubspot = await startHubspotFake({ accessTokens: [TOKEN], latencyMs: 400 });
    service = await startTestService({ DATABASE_URL: database.url, REDIS_URL: redis.url, TASK_LEASE_MS: String(LEASE_MS), CONNECTOR_TIMEOUT_MS: '5000' });
    const created = await axios.post(
      `${service.url}/api/v1/connections`,
      { connectorId: 'hubspot', name: 'HubSpot busy', credentials: { accessToken: TOKEN, baseUrl: hubspot.url } },
      { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` }, validateStatus: () => true },
    );
    expect(created.status).toBe(201);
    connectionId = created.data.id;
  });

  afterAll(async () => {
    await service?.stop();
    await hubspot?.close();
    await redis?.close();
    await database?.drop();
  });

  it('are synced by the running drain once each, and leave no retry job behind', async () => {
    expect((await webhook('4917000000001', 'first of the burst')).status).toBe(200);
    // The first task's drain holds the lease now (it is waiting on HubSpot's first answer).
    await eventually(async () => Number((await service.db.query(`SELECT count(*) FROM sync_leases WHERE expires_at > now()`))[0].count) === 1, 'the first drain running');
    for (let i = 2; i <= 6; i++) expect((await webhook(`491700000000${i}`, `burst message ${i}`)).status).toBe(200);
    await eventually(async () => (await openTasks()) === 0, 'the burst synced', 20_000);

    expect(inHubspot('first of the burst')).toBe(1);
    for (let i = 2; i <= 6; i++) expect(inHubspot(`burst message ${i}`)).toBe(1);
    // Before, each busy task was rescheduled to the end of the lease with a delayed job that would
    // then find its row done: one useless write and job per message while a drain runs.
    const queue = service.app.get<Queue>(getQueueToken(QueueName.CrmSync), { strict: false });
    const jobs = await queue.getJobCounts('delayed', 'waiting', 'prioritized');
    expect(jobs).toEqual({ delayed: 0, waiting: 0, prioritized: 0 });
  });

  it('are run again once a drain that died lets its lease run out', async () => {
    // A drain holder that died: its lease is still valid for a moment, nobody will release it.
    await service.db.query(`INSERT INTO sync_leases (connection_id, scope, holder, expires_at) VALUES ($1, 'drain', 'a worker that died', now() + interval '1 second')
                            ON CONFLICT (connection_id, scope) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at`, [connectionId]);
    const sent = Date.now();
    expect((await webhook('4917000000009', 'sent while the drain was dead')).status).toBe(200);
    // Its task finds the drain busy and is left claimed; the sweeper brings it back after the
    // claim's lease (LEASE_MS). Generous bound: the lease plus sweeps and the sync itself.
    await eventually(async () => inHubspot('sent while the drain was dead') === 1, 'the message synced after the lease ran out', LEASE_MS + 15_000);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(1000);
    await eventually(async () => (await openTasks()) === 0, 'its task done');
  }, 40_000);
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axios from 'axios';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startHubspotFake, type HubspotFake } from '../../connectors/hubspot/test/hubspot.fake-server';
import { anImageMessageWebhook, aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { type MetaGraphFake, startMetaGraphFake } from '../fakes/meta-graph.fake-server';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { allowFakes, eventually, startTestService, TEST_ADMIN_KEY, TEST_APP_SECRET, type TestService } from '../setup/test-service';

const TOKEN = 'pat-na1-metrics-token';
const api = axios.create({ headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` }, validateStatus: () => true });

/** The value of one sample of the Prometheus text, or undefined when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).match(/^\{(.*)\}/)?.[1] ?? '';
    const have = Object.fromEntries([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/** Each metric an operator reads to tell what is wrong moves when its event happens. */
describe('metrics at /metrics', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let meta: MetaGraphFake;
  let hubspot: HubspotFake;
  let service: TestService;
  const metrics = async () => (await axios.get<string>(`${service.url}/metrics`)).data;

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    meta = await startMetaGraphFake({ accessToken: 'test-token' });
    hubspot = await startHubspotFake({ accessTokens: [TOKEN], rateLimit: false });
    service = await startTestService({ DATABASE_URL: database.url, REDIS_URL: redis.url, WHATSAPP_API_URL: meta.url, EGRESS_ALLOW: allowFakes(meta, hubspot) });
    const created = await api.post(`${service.url}/api/v1/connections`, { connectorId: 'hubspot', name: 'HubSpot sales', credentials: { accessToken: TOKEN, baseUrl: hubspot.url } });
    expect(created.status).toBe(201);
  });

  afterAll(async () => {
    await service?.stop();
    await hubspot?.close();
    await meta?.close();
    await redis?.close();
    await database?.drop();
  });

  it('counts and times CRM calls by outcome; a 429 pauses the connection and its sync lag grows', async () => {
    const before = await metrics();
    expect(sample(before, 'threadbridge_crm_requests_total', { connector: 'hubspot', operation: 'verifyCredentials', outcome: 'ok' })).toBe(1);
    expect(sample(before, 'threadbridge_crm_request_seconds_count', { connector: 'hubspot', operation: 'verifyCredentials' })).toBe(1);
    expect(sample(before, 'threadbridge_connection_status', { connection: 'HubSpot sales', status: 'active' })).toBe(1);
    expect(sample(before, 'threadbridge_sync_lag_seconds', { connection: 'HubSpot sales' })).toBe(0);
    expect(sample(before, 'threadbridge_crm_requests_total', { connector: 'hubspot', outcome: 'rate_limited' })).toBeUndefined();

    // HubSpot answers the sync's first call with 429 and a long Retry-After.
    hubspot.failNext(429, { retryAfterSec: 60 });
    const wamid = nextWamid();
    expect((await postMetaWebhook(`${service.url}/webhooks/whatsapp`, aTextMessageWebhook({ wamid, text: 'Hello' }), TEST_APP_SECRET)).status).toBe(200);
    await eventually(async () => sample(await metrics(), 'threadbridge_crm_requests_total', { connector: 'hubspot', outcome: 'rate_limited' }) === 1, 'the 429 counted');
    // The pause is written once the sync has decided what the 429 means, just after the call.
    const paused = await eventually(async () => {
      const text = await metrics();
      return sample(text, 'threadbridge_connection_status', { connection: 'HubSpot sales', status: 'paused' }) === 1 ? text : undefined;
    }, 'the connection paused');
    expect(sample(paused, 'threadbridge_connection_status', { connection: 'HubSpot sales', status: 'active' })).toBe(0);
    await eventually(async () => (sample(await metrics(), 'threadbridge_sync_lag_seconds', { connection: 'HubSpot sales' }) ?? 0) > 0.5, 'the sync lag of the waiting message');
  });

  it('counts WhatsApp sends by outcome and error code', async () => {
    const wamid = nextWamid();
    await postMetaWebhook(`${service.url}/webhooks/whatsapp`, aTextMessageWebhook({ wamid, text: 'Can someone answer?' }), TEST_APP_SECRET);
    const conversationId = await eventually(async () => {
      const [row] = await service.db.query(`SELECT conversation_id FROM messages WHERE wamid = $1`, [wamid]);
      return row?.conversation_id as string | undefined;
    }, 'the message stored');
    const reply = (text: string) => api.post(`${service.url}/api/v1/conversations/${conversationId}/replies`, { text });
    expect((await reply('We are on it')).status).toBe(202);
    await eventually(async () => sample(await metrics(), 'threadbridge_whatsapp_sends_total', { outcome: 'sent', error_code: '' }) === 1, 'the send counted');

    meta.failNext(1, { status: 400, code: 131047, title: 'Re-engagement message', route: 'messages' });
    expect((await reply('Anything else?')).status).toBe(202);
    await eventually(async () => sample(await metrics(), 'threadbridge_whatsapp_sends_total', { outcome: 'failed', error_code: '131047' }) === 1, 'the refusal counted');
  });

  it('counts quarantined webhook content by reason, and dead letters by queue', async () => {
    const before = await metrics();
    expect(sample(before, 'threadbridge_dead_letters', { queue: 'media' })).toBe(0);
    expect((await postMetaWebhook(`${service.url}/webhooks/whatsapp`, '{"object": "whatsapp_business_account", ', TEST_APP_SECRET)).status).toBe(200);
    await eventually(async () => sample(await metrics(), 'threadbridge_quarantine_total', { reason: 'invalid_json' }) === 1, 'the quarantine counted');

    // A media id Meta does not know: the download is refused for good and dead-lettered.
    await postMetaWebhook(`${service.url}/webhooks/whatsapp`, anImageMessageWebhook({ wamid: nextWamid(), mediaId: '999000111' }), TEST_APP_SECRET);
    await eventually(async () => sample(await metrics(), 'threadbridge_dead_letters', { queue: 'media' }) === 1, 'the dead letter counted');
  });

  it('the Grafana dashboard in deploy/ charts only metrics the service exports', async () => {
    const dashboard = fs.readFileSync(path.resolve('deploy/grafana/threadbridge-dashboard.json'), 'utf8');
    const charted = new Set([...dashboard.matchAll(/threadbridge_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')));
    const exported = new Set([...(await metrics()).matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]));
    expect([...charted].filter((name) => !exported.has(name))).toEqual([]);
    expect(charted.size).toBeGreaterThanOrEqual(12);
  });
});

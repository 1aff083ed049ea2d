import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axios from 'axios';
import { randomBytes } from 'node:crypto';
import { toE164 } from '../../connectors/_sdk/phone';
import { ConversationCloser } from '../../src/conversations/conversation-closer';
import { startHubspotFake, type HubspotFake } from '../../connectors/hubspot/test/hubspot.fake-server';
import { aBatchWebhook, aLocationMessageWebhook, anImageMessageWebhook, aTextMessage, aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { type MetaGraphFake, startMetaGraphFake } from '../fakes/meta-graph.fake-server';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { allowFakes, eventually, startTestService, TEST_ADMIN_KEY, TEST_APP_SECRET, type TestService } from '../setup/test-service';

const TOKEN = 'hubspot-token-1';
const api = axios.create({ validateStatus: () => true, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });

/** WhatsApp → HubSpot, end to end: the real service on Postgres + Redis, the real SDK, a fake HubSpot. */
describe('HubSpot sync', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let meta: MetaGraphFake;
  let hubspot: HubspotFake;
  let service: TestService;
  let connectionId: string;

  const webhook = (payload: object | string) => postMetaWebhook(`${service.url}/webhooks/whatsapp`, payload, TEST_APP_SECRET);
  const openTasks = async () => Number((await service.db.query(`SELECT count(*) FROM outbox WHERE queue = 'crm-sync' AND status IN ('pending', 'running')`))[0].count);
  const synced = (what: string, timeoutMs = 20_000) => eventually(async () => (await openTasks()) === 0, what, timeoutMs);
  /** HubSpot contacts holding this number in any phone field, in any written form. */
  const contactsWith = (e164: string) =>
    hubspot.contacts().filter((c) => ['phone', 'mobilephone', 'hs_whatsapp_phone_number'].some((f) => c.properties[f] && toE164(c.properties[f], 'DE') === e164));
  const communicationsOf = (contactId: string) =>
    hubspot
      .communications()
      .filter((c) => hubspot.associations('communications', c.id).some((a) => a.toType === 'contacts' && a.toId === contactId));

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    meta = await startMetaGraphFake({ accessToken: 'test-token' });
    hubspot = await startHubspotFake({ accessTokens: [TOKEN], rateLimit: { max: 190 } });
    service = await startTestService({
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      WHATSAPP_API_URL: meta.url,
      CONNECTOR_TIMEOUT_MS: '3000',
      EGRESS_ALLOW: allowFakes(meta, hubspot),
    });
    const created = await api.post(`${service.url}/api/v1/connections`, {
      connectorId: 'hubspot',
      name: 'HubSpot sales',
      credentials: { accessToken: TOKEN, baseUrl: hubspot.url },
      settings: { tickets: { enabled: true } },
    });
    expect(created.status).toBe(201);
    connectionId = created.data.id;
  });

  afterAll(async () => {
    await service?.stop();
    await hubspot?.close();
    await meta?.close();
    await redis?.close();
    await database?.drop();
  });

  it('puts a conversation on the HubSpot contact: contact, ticket and communications in WhatsApp order', async () => {
    const waId = '4915200000001';
    const bytes = randomBytes(3000);
    const { id: mediaId, sha256Base64 } = meta.addMedia(bytes, 'image/jpeg');
    const t0 = 1_763_700_000;
    await webhook(aTextMessageWebhook({ waId, name: 'Greta Berg', wamid: nextWamid(waId), text: 'Hallo, ist meine Bestellung unterwegs?', timestamp: t0 }));
    await webhook(anImageMessageWebhook({ waId, name: 'Greta Berg', wamid: nextWamid(waId), mediaId, sha256: sha256Base64, caption: 'the receipt', timestamp: t0 + 5 }));
    await webhook(aLocationMessageWebhook({ waId, name: 'Greta Berg', wamid: nextWamid(waId), timestamp: t0 + 9 }));
    await synced('the conversation synced to HubSpot');

    const contacts = contactsWith('+4915200000001');
    expect(contacts).toHaveLength(1);
    const contact = contacts[0];
    expect(contact.properties).toMatchObject({ firstname: 'Greta', lastname: 'Berg', hs_whatsapp_phone_number: '+4915200000001' });

    const communications = communicationsOf(contact.id);
    expect(communications).toHaveLength(3);
    const ordered = [...communications].sort((a, b) => Date.parse(a.properties.hs_timestamp) - Date.parse(b.properties.hs_timestamp));
    expect(ordered.map((c) => c.id)).toEqual(communications.map((c) => c.id)); // created in WhatsApp order
    expect(ordered[0].properties).toMatchObject({ hs_communication_channel_type: 'WHATS_APP', hs_communication_logged_from: 'CRM' });
    expect(ordered[0].properties.hs_communication_body).toContain('ist meine Bestellung unterwegs?');
    expect(ordered[1].properties.hs_communication_body).toContain('the receipt');
    expect(hubspot.files().some((f) => f.bytes.equals(bytes))).toBe(true);
    expect(ordered[2].properties.hs_communication_body).toMatch(/Location/i);

    const tickets = hubspot.tickets().filter((t) => hubspot.associations('tickets', t.id).some((a) => a.toId === contact.id));
    expect(tickets).toHaveLength(1);
    for (const c of communications) {
      expect(hubspot.associations('communications', c.id).some((a) => a.toType === 'tickets' && a.toId === tickets[0].id)).toBe(true);
    }

    const links = await service.db.query(`SELECT entity_type, count(*)::int AS n FROM remote_links WHERE connection_id = $1 GROUP BY entity_type ORDER BY entity_type`, [connectionId]);
    expect(links).toEqual([
      { entity_type: 'contact', n: 1 },
      { entity_type: 'message', n: 3 },
      { entity_type: 'ticket', n: 1 },
    ]);
  });

  it('logs one communication when the same delivery arrives three times', async () => {
    const waId = '4915200000002';
    const payload = JSON.stringify(aTextMessageWebhook({ waId, wamid: nextWamid(waId), text: 'only once please' }));
    await Promise.all([webhook(payload), webhook(payload), webhook(payload)]);
    await webhook(payload);
    await synced('the duplicate deliveries synced');
    const [contact] = contactsWith('+4915200000002');
    expect(communicationsOf(contact.id).filter((c) => c.properties.hs_communication_body.includes('only once please'))).toHaveLength(1);
  });

  it('creates one contact when two conversations of one number sync at once', async () => {
    const waId = '4915200000003';
    await Promise.all([
      webhook(aTextMessageWebhook({ waId, wamid: nextWamid(waId), text: 'to sales', phoneNumberId: '106540352242922' })),
      webhook(aTextMessageWebhook({ waId, wamid: nextWamid(waId), text: 'to support', phoneNumberId: '106540352249999', displayPhoneNumber: '15550009999' })),
    ]);
    await synced('both conversations synced');
    const [{ n }] = await service.db.query(`SELECT count(*)::int AS n FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id = $1`, [waId]);
    expect(n).toBe(2);
    expect(contactsWith('+4915200000003')).toHaveLength(1);
    expect(communicationsOf(contactsWith('+4915200000003')[0].id)).toHaveLength(2);
  });

  it('finds a contact HubSpot holds as "+48 601 234 567" for wa_id 48601234567', async () => {
    const seededId = hubspot.seedContactWithPhone('+48 601 234 567');
    await webhook(aTextMessageWebhook({ waId: '48601234567', wamid: nextWamid('48601234567'), text: 'Dzień dobry' }));
    await synced('the Polish customer synced');
    expect(contactsWith('+48601234567').map((c) => c.id)).toEqual([seededId]);
    expect(communicationsOf(seededId)).toHaveLength(1);
  });

  it('gets everything through when half of the calls are answered 429, and never calls before Retry-After', async () => {
    hubspot.clearRequests();
    hubspot.setOptions({ throttle: { rate: 0.5, retryAfterSec: 2 } });
    try {
      const customers = ['4915200000010', '4915200000011', '4915200000012'];
      for (const waId of customers) {
        for (let i = 0; i < 3; i++) await webhook(aTextMessageWebhook({ waId, wamid: nextWamid(waId), text: `throttled ${i}` }));
      }
      await synced('everything synced despite 429s', 100_000);
      for (const waId of customers) {
        const [contact] = contactsWith(`+${waId}`);
        expect(communicationsOf(contact.id).filter((c) => c.properties.hs_communication_body.includes('throttled'))).toHaveLength(3);
      }
      const log = hubspot.requests().filter((r) => !r.path.startsWith('/hubfs/'));
      const throttled = log.filter((r) => r.status === 429);
      expect(throttled.length).toBeGreaterThan(0);
      for (const t of throttled) {
        const early = log.filter((r) => r.at > t.at && r.at < t.at + 2000);
        expect(early.map((r) => `${r.method} ${r.path} ${r.at - t.at}ms after a 429`)).toEqual([]);
      }
    } finally {
      hubspot.setOptions({ throttle: null });
    }
  }, 120_000);

  it('logs a burst once when HubSpot wrote it but the connection broke before the answer, while search lags 3 s', async () => {
    const waId = '4915200000015';
    await webhook(aTextMessageWebhook({ waId, wamid: nextWamid(waId), text: 'before the burst' }));
    await synced('the customer and the ticket exist');
    hubspot.setSearchLag(3_000);
    hubspot.resetAfterNextCreate();
    try {
      const texts = [1, 2, 3, 4, 5].map((i) => `reset burst ${i}`);
      const start = Math.floor(Date.now() / 1000);
      await webhook(aBatchWebhook(texts.map((text, i) => aTextMessage({ waId, wamid: nextWamid(waId), text, timestamp: new Date((start + i) * 1000) }))));
      await synced('the burst synced after the reset');

      const created = hubspot.requests().filter((r) => r.path === '/crm/v3/objects/communications/batch/create');
      expect(created.some((r) => r.status === 0)).toBe(true); // the reset happened
      const [contact] = contactsWith(`+${waId}`);
      const logged = communicationsOf(contact.id).map((c) => c.properties.hs_communication_body).filter((b) => b.includes('reset burst'));
      expect(logged.sort()).toEqual(texts.map((t) => `<p>${t}</p>`));
    } finally {
      hubspot.setSearchLag(0);
    }
  });

  it('parks the connection on 401 and delivers everything once the credentials are fixed', async () => {
    hubspot.setOptions({ accessTokens: ['hubspot-token-2'] }); // the old token is revoked
    const waId = '4915200000020';
    for (let i = 0; i < 3; i++) await webhook(aTextMessageWebhook({ waId, wamid: nextWamid(waId), text: `while revoked ${i}` }));
    await eventually(async () => {
      const res = await api.get(`${service.url}/api/v1/connections/${connectionId}`);
      return res.data.status === 'needs_reauth';
    }, 'connection marked needs_reauth');
    await expect(openTasks()).resolves.toBe(3); // nothing lost

    const fixed = await api.patch(`${service.url}/api/v1/connections/${connectionId}`, { credentials: { accessToken: 'hubspot-token-2', baseUrl: hubspot.url } });
    expect(fixed.status).toBe(200);
    expect(fixed.data.status).toBe('active');
    await synced('parked work delivered after the fix');
    const [contact] = contactsWith(`+${waId}`);
    expect(communicationsOf(contact.id).map((c) => c.properties.hs_communication_body).filter((b) => b.includes('while revoked'))).toHaveLength(3);
  });

  it('closes a conversation on request and attaches its transcript as a note', async () => {
    const waId = '4915200000030';
    await webhook(aTextMessageWebhook({ waId, wamid: nextWamid(waId), text: 'first line' }));
    await webhook(aTextMessageWebhook({ waId, wamid: nextWamid(waId), text: 'second line' }));
    await synced('messages synced');
    const [conversation] = await service.db.query(`SELECT c.id FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id = $1`, [waId]);
    const closed = await api.post(`${service.url}/api/v1/conversations/${conversation.id}/close`);
    expect(closed.status).toBe(200);
    expect(closed.data.status).toBe('closed');
    await synced('transcript synced');
    const [contact] = contactsWith(`+${waId}`);
    const notes = hubspot.notes().filter((n) => hubspot.associations('notes', n.id).some((a) => a.toId === contact.id));
    expect(notes).toHaveLength(1);
    expect(notes[0].properties.hs_note_body).toContain('first line');
    expect(notes[0].properties.hs_note_body).toContain('second line');

    // The customer writes again: a new conversation opens.
    await webhook(aTextMessageWebhook({ waId, wamid: nextWamid(waId), text: 'one more thing' }));
    const [{ n }] = await service.db.query(`SELECT count(*)::int AS n FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id = $1`, [waId]);
    expect(n).toBe(2);
  });

  it('closes a conversation idle longer than CONVERSATION_IDLE_MINUTES and sends its transcript', async () => {
    const waId = '4915200000040';
    await webhook(aTextMessageWebhook({ waId, wamid: nextWamid(waId), text: 'anyone there?' }));
    await synced('message synced');
    const [conversation] = await service.db.query(`SELECT c.id FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id = $1`, [waId]);
    // Three hours of silence (the default idle time is two hours).
    await service.db.query(`UPDATE conversations SET last_message_at = now() - interval '3 hours' WHERE id = $1`, [conversation.id]);
    await expect(service.app.get(ConversationCloser).run()).resolves.toBeGreaterThanOrEqual(1);
    await synced('transcript of the idle conversation synced');
    const [contact] = contactsWith(`+${waId}`);
    const notes = hubspot.notes().filter((n) => hubspot.associations('notes', n.id).some((a) => a.toId === contact.id));
    expect(notes.map((n) => n.properties.hs_note_body).join()).toContain('anyone there?');
  });

  it('holds a conversation back while its photo downloads, then syncs it at once', async () => {
    const waId = '4915200000050';
    meta.configure({ latencyMs: 1500 }); // WhatsApp is slow to hand over the photo
    try {
      const { id: mediaId, sha256Base64 } = meta.addMedia(randomBytes(1000), 'image/jpeg');
      const t = Math.floor(Date.now() / 1000);
      await webhook(anImageMessageWebhook({ waId, wamid: nextWamid(waId), mediaId, sha256: sha256Base64, caption: 'slow photo', timestamp: t }));
      await webhook(aTextMessageWebhook({ waId, wamid: nextWamid(waId), text: 'after the photo', timestamp: t + 1 }));
      // Well under TASK_LEASE_MS (120 s): the media download wakes the held-back sync.
      await synced('the held-back conversation synced once its photo arrived', 15_000);
    } finally {
      meta.configure({ latencyMs: 0 });
    }
    const [contact] = contactsWith(`+${waId}`);
    const bodies = communicationsOf(contact.id).map((c) => c.properties.hs_communication_body);
    expect(bodies).toHaveLength(2);
    expect(bodies[0]).toContain('slow photo');
    expect(bodies[1]).toContain('after the photo');
  });

  it('lists dead letters and replays them', async () => {
    const list = await api.get(`${service.url}/api/v1/dead-letters`);
    expect(list.status).toBe(200);
    expect(Array.isArray(list.data.data)).toBe(true);
    expect((await api.post(`${service.url}/api/v1/dead-letters/999999999/replay`)).status).toBe(404);
  });
});

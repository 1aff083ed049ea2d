import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axios from 'axios';
import { signV1, WebhookReceiver, type ReceivedDelivery } from '../../connectors/webhook/test/webhook.receiver';
import { aStatusWebhook, aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { type MetaGraphFake, startMetaGraphFake } from '../fakes/meta-graph.fake-server';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { allowFakes, eventually, startTestService, TEST_ADMIN_KEY, TEST_APP_SECRET, type TestService } from '../setup/test-service';

const api = axios.create({ validateStatus: () => true, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });

/**
 * The webhook connector end to end on Postgres + Redis: WhatsApp chats reach two receivers
 * (test servers checking every signature with their own HMAC code) as signed Standard Webhooks
 * events, each once and in order per conversation; a 500 is retried with the same webhook-id; a
 * 410 disables the connection; reply.created comes back through the reply router to the (fake)
 * Cloud API, its statuses go to its origin only, and it is never echoed to its origin as message.sent.
 */
describe('webhook connector', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let meta: MetaGraphFake;
  /** The connection created without a secret (generated, shown once). */
  let origin: WebhookReceiver;
  /** A second connection, with a secret of its own. */
  let other: WebhookReceiver;
  let service: TestService;
  let originId: string;
  let otherId: string;

  const customerWrites = async (waId: string, text: string) => {
    meta.recordInbound(waId);
    const res = await postMetaWebhook(`${service.url}/webhooks/whatsapp`, aTextMessageWebhook({ waId, name: 'Anna Nowak', wamid: nextWamid(waId), text }), TEST_APP_SECRET);
    expect(res.status).toBe(200);
  };
  const conversationOf = (waId: string): Promise<string> =>
    eventually(async () => (await service.db.query(`SELECT c.id FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id = $1 ORDER BY c.opened_at DESC`, [waId]))[0]?.id as string | undefined, `conversation of ${waId}`);
  const messagesOf = (receiver: WebhookReceiver, conversationId: string) =>
    receiver.events.filter((e) => e.body.type.startsWith('message.') && e.body.data.conversationId === conversationId && e.body.type !== 'message.status');
  const texts = (events: ReceivedDelivery[]) => events.map((e) => (e.body.data.message as { text: string }).text);
  const postReply = (connectionId: string, body: object, secret: string) => {
    const raw = JSON.stringify(body);
    const id = `msg_reply${Date.now()}`;
    const ts = Math.floor(Date.now() / 1000);
    return axios.post(`${service.url}/webhooks/connections/${connectionId}`, raw, {
      validateStatus: () => true,
      headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signV1(secret, id, ts, raw) },
    });
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    meta = await startMetaGraphFake({ accessToken: 'test-token', enforceWindow: true });
    origin = await WebhookReceiver.start('whsec_unknown-until-the-connection-is-created');
    other = await WebhookReceiver.start();
    service = await startTestService({
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      WHATSAPP_API_URL: meta.url,
      CONNECTOR_TIMEOUT_MS: '3000',
      EGRESS_ALLOW: allowFakes(meta, origin, other),
    });

    const created = await api.post(`${service.url}/api/v1/connections`, { connectorId: 'webhook', name: 'Back office', credentials: { url: origin.url } });
    expect(created.status).toBe(201);
    expect(created.data.generatedCredentials.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    origin.secret = created.data.generatedCredentials.secret;
    originId = created.data.id;
    expect(created.data.capabilities).toMatchObject({ history: true, tickets: true, transcripts: true, replies: true, consent: true, erasure: true });
    // Shown once: never again.
    const shown = await api.get(`${service.url}/api/v1/connections/${originId}`);
    expect(shown.data.credentials).toEqual({ url: 'set', secret: 'set' });
    expect(JSON.stringify(shown.data)).not.toContain(origin.secret);

    const second = await api.post(`${service.url}/api/v1/connections`, { connectorId: 'webhook', name: 'Analytics', credentials: { url: other.url, secret: other.secret } });
    expect(second.status).toBe(201);
    expect(second.data.generatedCredentials).toBeUndefined();
    otherId = second.data.id;
    // A secret of its own is checked at once with a connection.test event.
    expect(other.ofType('connection.test')).toHaveLength(1);
  });

  afterAll(async () => {
    await service?.stop();
    await origin?.close();
    await other?.close();
    await meta?.close();
    await redis?.close();
    await database?.drop();
  });

  it('delivers a chat to every receiver: opened, then each message once, in order, signed', async () => {
    const waId = '48601000001';
    const lines = ['Hello', 'I ordered a lamp', 'order 1234', 'it arrived broken', 'can you help?'];
    for (const line of lines) await customerWrites(waId, line);
    const conversationId = await conversationOf(waId);
    for (const receiver of [origin, other]) {
      await eventually(async () => messagesOf(receiver, conversationId).length === lines.length, 'every message at the receiver');
      const events = receiver.events.filter((e) => e.body.data.conversationId === conversationId);
      expect(events.map((e) => e.body.type)).toEqual(['conversation.opened', ...lines.map(() => 'message.received')]);
      expect(texts(messagesOf(receiver, conversationId))).toEqual(lines);
      expect(receiver.attempts.every((a) => a.verified)).toBe(true);
      expect(events[1].body.data.contact).toMatchObject({ waId, e164: `+${waId}`, name: 'Anna Nowak' });
    }
  });

  it('retries a delivery answered 500, with the same webhook-id: one event', async () => {
    const waId = '48601000002';
    const before = origin.attempts.length;
    origin.failNext(500);
    await customerWrites(waId, 'first try fails');
    const conversationId = await conversationOf(waId);
    await eventually(async () => messagesOf(origin, conversationId).length === 1, 'the message after the retry', 20_000);
    // The first delivery of this conversation (its conversation.opened) got the 500.
    const failed = origin.attempts[before];
    expect(failed.body.data.conversationId).toBe(conversationId);
    expect(origin.attempts.filter((a) => a.id === failed.id)).toHaveLength(2);
    expect(origin.attempts.filter((a) => a.id === failed.id).map((a) => a.raw)).toEqual([failed.raw, failed.raw]);
    expect(origin.events.filter((e) => e.id === failed.id)).toHaveLength(1);
    expect(origin.events.filter((e) => e.body.data.conversationId === conversationId).map((e) => e.body.type)).toEqual(['conversation.opened', 'message.received']);
  });

  it("links the contact the receiver answers, and later events carry it", async () => {
    const waId = '48601000003';
    other.contactIdFor = (d) => (d.body.type === 'message.received' ? 'crm-contact-77' : undefined);
    await customerWrites(waId, 'link me');
    const conversationId = await conversationOf(waId);
    await eventually(async () => messagesOf(other, conversationId).length === 1, 'the first event');
    other.contactIdFor = undefined;
    const link = await eventually(
      async () => (await service.db.query(`SELECT remote_id FROM remote_links WHERE connection_id = $1 AND entity_type = 'contact' AND remote_id = 'crm-contact-77'`, [otherId]))[0],
      'the contact link',
    );
    expect(link).toBeTruthy();
    await customerWrites(waId, 'linked now');
    await eventually(async () => messagesOf(other, conversationId).length === 2, 'the second event');
    expect(messagesOf(other, conversationId)[1].body.data.contact).toMatchObject({ externalId: 'crm-contact-77' });
  });

  it('takes reply.created: a bad signature gets 401, a good one one WhatsApp send, statuses to its origin only, never echoed to it as message.sent', async () => {
    const waId = '48601000004';
    await customerWrites(waId, 'when does it ship?');
    const conversationId = await conversationOf(waId);
    await eventually(async () => messagesOf(origin, conversationId).length === 1, 'the question at the origin');
    const reply = { type: 'reply.created', timestamp: new Date().toISOString(), data: { replyId: 'reply-1', conversationId, text: 'It ships today.', author: 'Agent Smith' } };

    const forged = await postReply(originId, reply, other.secret);
    expect(forged.status).toBe(401);
    const accepted = await postReply(originId, reply, origin.secret);
    expect(accepted.status).toBe(200);
    expect((await postReply(originId, reply, origin.secret)).status).toBe(200); // a repeat: same replyId

    const [sent] = await eventually(async () => (meta.sent.filter((m) => m.waId === waId).length === 1 ? meta.sent.filter((m) => m.waId === waId) : undefined), 'the reply on WhatsApp');
    for (const status of ['sent', 'delivered'] as const) {
      expect((await postMetaWebhook(`${service.url}/webhooks/whatsapp`, aStatusWebhook({ wamid: sent.wamid, status, recipientId: waId }), TEST_APP_SECRET)).status).toBe(200);
    }
    await eventually(async () => origin.ofType('message.status').some((e) => e.body.data.replyId === 'reply-1' && e.body.data.state === 'delivered'), 'the statuses at the origin');
    // Each state once, never backwards (the core may report only the latest of statuses that came together).
    const statuses = origin.ofType('message.status').map((e) => e.body.data);
    expect(statuses.every((st) => st.replyId === 'reply-1' && st.conversationId === conversationId)).toBe(true);
    expect([['sent', 'delivered'], ['delivered']]).toContainEqual(statuses.map((st) => st.state));
    await eventually(async () => texts(messagesOf(other, conversationId)).includes('It ships today.'), 'the reply at the other receiver');
    expect(messagesOf(other, conversationId).find((e) => e.body.type === 'message.sent')?.body.data.message).toMatchObject({ text: 'It ships today.', direction: 'outbound' });
    // Give a wrongly sent echo time to arrive.
    await new Promise((r) => setTimeout(r, 1500));
    expect(meta.sent.filter((m) => m.waId === waId)).toHaveLength(1);
    expect(origin.ofType('message.sent').filter((e) => e.body.data.conversationId === conversationId)).toEqual([]);
    expect(other.ofType('message.status')).toEqual([]);
  });

  it('sends conversation.closed with the transcript', async () => {
    const waId = '48601000005';
    await customerWrites(waId, 'thanks, bye');
    const conversationId = await conversationOf(waId);
    expect((await api.post(`${service.url}/api/v1/conversations/${conversationId}/close`)).status).toBe(200);
    const closed = await eventually(async () => origin.ofType('conversation.closed').find((e) => e.body.data.conversationId === conversationId), 'conversation.closed');
    expect(closed.body.data.transcript).toMatchObject({ entries: [expect.objectContaining({ text: 'thanks, bye', direction: 'inbound' })] });
    const types = origin.events.filter((e) => e.body.data.conversationId === conversationId).map((e) => e.body.type);
    expect(types).toEqual(['conversation.opened', 'message.received', 'conversation.closed']);
  });

  it('disables the connection on 410 (its status says so), and enabling it again delivers what waited', async () => {
    const waId = '48601000006';
    other.failNext(410);
    await customerWrites(waId, 'anyone there?');
    const conversationId = await conversationOf(waId);
    const disabled = await eventually(async () => {
      const res = await api.get(`${service.url}/api/v1/connections/${otherId}`);
      return res.data.status === 'disabled' ? res.data : undefined;
    }, 'the connection disabled');
    expect(disabled.lastError).toContain('410');
    expect((await api.get(`${service.url}/api/v1/connections`)).data.data.find((c: { id: string }) => c.id === otherId)).toMatchObject({ status: 'disabled' });
    expect(messagesOf(other, conversationId)).toEqual([]);
    // The origin is not affected.
    await eventually(async () => messagesOf(origin, conversationId).length === 1, 'the origin still receives');

    const enabled = await api.patch(`${service.url}/api/v1/connections/${otherId}`, { enabled: true });
    expect(enabled.status).toBe(200);
    expect(enabled.data.status).toBe('active');
    await eventually(async () => messagesOf(other, conversationId).length === 1, 'the waiting event delivered', 20_000);
  });
});

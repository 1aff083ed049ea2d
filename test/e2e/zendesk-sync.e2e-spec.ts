import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axios from 'axios';
import { startZendeskFake, type ZendeskFake } from '../../connectors/zendesk/test/zendesk.fake-server';
import { aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { allowFakes, eventually, startTestService, TEST_ADMIN_KEY, TEST_APP_SECRET, type TestService } from '../setup/test-service';

const api = axios.create({ validateStatus: () => true, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Chats into Zendesk through the sync engine, on Postgres + Redis. Zendesk allows about 30 updates
 * per ticket in 10 minutes, so a customer's burst of messages must become one comment: the engine
 * holds a conversation until it has been quiet for the connector's quiet period (the connection's
 * commentCoalesceMs), then hands the whole burst over at once.
 */
describe('WhatsApp chats into Zendesk', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let zendesk: ZendeskFake;
  let service: TestService;

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    zendesk = await startZendeskFake();
    service = await startTestService({ DATABASE_URL: database.url, REDIS_URL: redis.url, EGRESS_ALLOW: allowFakes(zendesk) });
    const created = await api.post(`${service.url}/api/v1/connections`, {
      connectorId: 'zendesk',
      name: 'Zendesk support',
      credentials: zendesk.credentials(),
      settings: { commentCoalesceMs: 1500 },
    });
    expect(created.status).toBe(201);
  });

  afterAll(async () => {
    await service?.stop();
    await zendesk?.close();
    await redis?.close();
    await database?.drop();
  });

  it('turns a burst of ten messages into one comment by the customer, in order, with one ticket update', async () => {
    const waId = '34611000001';
    const texts = Array.from({ length: 10 }, (_, i) => `Line ${i + 1} of my question`);
    const start = Math.floor(Date.now() / 1000);
    for (const [i, text] of texts.entries()) {
      const body = aTextMessageWebhook({ wamid: nextWamid(waId), waId, name: 'Lucía Pérez', text, timestamp: String(start + i) });
      expect((await postMetaWebhook(`${service.url}/webhooks/whatsapp`, body, TEST_APP_SECRET)).status).toBe(200);
      await sleep(100);
    }

    const ticket = await eventually(async () => zendesk.tickets().find((t) => zendesk.comments(t.id).some((c) => c.body.includes('Line 10'))), 'the burst on a ticket');
    const customerComments = zendesk.comments(ticket.id).filter((c) => c.public && c.body.includes('of my question'));
    expect(customerComments).toHaveLength(1);
    const [comment] = customerComments;
    const positions = texts.map((t) => comment.body.indexOf(`${t}`));
    expect(positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1]))).toBe(true); // all ten, in order
    expect(zendesk.users().find((u) => u.id === comment.author_id)?.name).toBe('Lucía Pérez');
    // The ticket was created with the burst as its first comment: no update beyond that.
    expect(zendesk.requestsTo('PUT', `/tickets/${ticket.id}`).length).toBeLessThanOrEqual(1);
  });

  it('keeps every customer to one comment when many chat at once (their messages interleaved)', async () => {
    // 60 customers × 9 messages: more open tasks than one pass of the engine reads (500), and more
    // than one call takes (50), so neither may cut a customer's burst in two.
    const customers = Array.from({ length: 60 }, (_, i) => `3461200${String(i).padStart(4, '0')}`);
    // Known to Zendesk already (by external id), as returning customers are: the test is about the
    // comments, not about finding 60 new users within the account's request budget.
    for (const waId of customers) zendesk.seedUser({ name: `Customer ${waId}`, external_id: `whatsapp:${waId}`, phone: `+${waId}` });
    const putsBefore = zendesk.requestsTo('PUT', /^\/tickets\/\d+$/).length;
    for (let round = 1; round <= 9; round++) {
      await Promise.all(
        customers.map(async (waId) => {
          const body = aTextMessageWebhook({ wamid: nextWamid(waId), waId, name: `Customer ${waId}`, text: `Round ${round} from ${waId}` });
          expect((await postMetaWebhook(`${service.url}/webhooks/whatsapp`, body, TEST_APP_SECRET)).status).toBe(200);
        }),
      );
      await sleep(150);
    }
    const ticketOf = (waId: string) => zendesk.tickets().find((t) => zendesk.comments(t.id).some((c) => c.body.includes(`from ${waId}`)));
    await eventually(async () => customers.every((waId) => ticketOf(waId) && zendesk.comments(ticketOf(waId)!.id).some((c) => c.body.includes(`Round 9 from ${waId}`))), 'every burst on its ticket', 25_000);
    for (const waId of customers) {
      const comments = zendesk.comments(ticketOf(waId)!.id).filter((c) => c.public && c.body.includes(`from ${waId}`));
      expect(comments).toHaveLength(1);
      expect(comments[0].body.indexOf('Round 1')).toBeLessThan(comments[0].body.indexOf('Round 9'));
    }
    // One ticket update (the comment) per customer.
    expect(zendesk.requestsTo('PUT', /^\/tickets\/\d+$/).length - putsBefore).toBe(customers.length);
  });

  it('sends a message that follows after a quiet spell as its own comment', async () => {
    const waId = '34611000002';
    const post = (text: string) => postMetaWebhook(`${service.url}/webhooks/whatsapp`, aTextMessageWebhook({ wamid: nextWamid(waId), waId, name: 'Tomás Ruiz', text }), TEST_APP_SECRET);
    await post('First question');
    const ticket = await eventually(async () => zendesk.tickets().find((t) => zendesk.comments(t.id).some((c) => c.body.includes('First question'))), 'the first comment');
    await post('Second question, much later');
    await eventually(async () => zendesk.comments(ticket.id).some((c) => c.body.includes('Second question')), 'the second comment');
    expect(zendesk.comments(ticket.id).filter((c) => c.public && /question/.test(c.body))).toHaveLength(2);
  });
  it('opens the ticket where the conversation’s route says, and moves it when the route changes', async () => {
    const billing = zendesk.seedGroup('Billing');
    const support = zendesk.seedGroup('Support');
    const waId = '34611000003';
    const post = (text: string) => postMetaWebhook(`${service.url}/webhooks/whatsapp`, aTextMessageWebhook({ wamid: nextWamid(waId), waId, name: 'Marta Gil', text }), TEST_APP_SECRET);
    expect((await post('My invoice is wrong')).status).toBe(200);
    // The service policy routes the conversation before its first message reaches Zendesk (held for the quiet period).
    const [conversation] = await service.db.query(
      `UPDATE conversations cv SET route = 'billing', ticket_routing = $2, route_version = 1 FROM contacts c WHERE c.id = cv.contact_id AND c.wa_id = $1 RETURNING cv.id`,
      [waId, { group: 'Billing', priority: 'high', tags: ['billing'] }],
    );
    const conversationId = (Array.isArray(conversation) ? conversation[0] : conversation).id as string;

    const ticket = await eventually(async () => zendesk.tickets().find((t) => zendesk.comments(t.id).some((c) => c.body.includes('My invoice is wrong'))), 'the routed ticket');
    expect(ticket).toMatchObject({ group_id: billing.id, priority: 'high' });
    expect(ticket.tags).toEqual(expect.arrayContaining(['whatsapp', 'billing']));
    zendesk.ticket(ticket.id)!.tags.push('agent_tag'); // an agent's own tag

    // The route changes: the columns, then a 'route' task per enabled connection, as the service policy writes them.
    await service.db.query(
      `UPDATE conversations SET route = 'support', ticket_routing = $2, route_version = 2 WHERE id = $1`,
      [conversationId, { group: 'Support', priority: 'normal', tags: ['support'], removeTags: ['billing'] }],
    );
    await service.db.query(
      `INSERT INTO outbox (queue, kind, dedupe_key, connection_id, conversation_id)
       SELECT 'crm-sync', 'route', 'route:' || c.id || ':' || $1::text || ':2', c.id, $1::uuid FROM connections c WHERE c.enabled`,
      [conversationId],
    );

    await eventually(async () => zendesk.ticket(ticket.id)!.group_id === support.id && zendesk.ticket(ticket.id)!.tags.includes('support'), 'the ticket moved to Support');
    expect(zendesk.ticket(ticket.id)).toMatchObject({ group_id: support.id, priority: 'normal' });
    expect(zendesk.ticket(ticket.id)!.tags).toEqual(expect.arrayContaining(['whatsapp', 'agent_tag', 'support']));
    expect(zendesk.ticket(ticket.id)!.tags).not.toContain('billing');
    await eventually(async () => (await service.db.query(`SELECT status FROM outbox WHERE kind = 'route' AND conversation_id = $1`, [conversationId]))[0]?.status === 'done', 'the route task done');
  });
});

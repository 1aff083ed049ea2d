import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axios from 'axios';
import { startZendeskFake, type ZendeskFake } from '../../connectors/zendesk/test/zendesk.fake-server';
import { aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { type MetaGraphFake, startMetaGraphFake } from '../fakes/meta-graph.fake-server';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { allowFakes, eventually, startTestService, TEST_ADMIN_KEY, TEST_APP_SECRET, type TestService } from '../setup/test-service';

const http = axios.create({ validateStatus: () => true });
const as = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

/**
 * An IANA zone in which it is `hour` o'clock now (Etc/GMT-5 is UTC+5): the 24-hour window is
 * judged on real time, so instead of sending messages from the past the test moves the business.
 */
function zoneWhereItIs(hour: number): string {
  let offset = hour - new Date().getUTCHours();
  if (offset > 14) offset -= 24;
  if (offset < -12) offset += 24;
  return offset === 0 ? 'Etc/GMT' : offset > 0 ? `Etc/GMT-${offset}` : `Etc/GMT+${-offset}`;
}

const WEEKDAYS_9_TO_17 = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['09:00-17:00']]));
const ALWAYS_OPEN = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['00:00-24:00']]));

/**
 * The customer-service policy end to end, on Postgres + Redis with the fake Cloud API and a fake
 * Zendesk: what customers receive (away, greeting, menu) and what happens to the conversation
 * (its route, the ticket's note), each business number with a policy of its own.
 */
describe('customer-service policy', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let meta: MetaGraphFake;
  let zendesk: ZendeskFake;
  let service: TestService;
  let agentKey: string;

  const put = (phoneNumberId: string, policy: unknown, key = TEST_ADMIN_KEY) => http.put(`${service.url}/api/v1/service-policy/${phoneNumberId}`, policy, as(key));
  const write = async (waId: string, phoneNumberId: string, text: string, wamid = nextWamid(waId)) => {
    const body = aTextMessageWebhook({ waId, wamid, text, phoneNumberId, name: `Customer ${waId}` });
    expect((await postMetaWebhook(`${service.url}/webhooks/whatsapp`, body, TEST_APP_SECRET)).status).toBe(200);
    return body;
  };
  const sentTo = (waId: string) => meta.sent.filter((m) => m.waId === waId);
  const textOf = (m: { body: Record<string, unknown> }) => (m.body.text as { body?: string } | undefined)?.body ?? '';
  /** No policy or send work left. */
  const settled = () =>
    eventually(
      async () => Number((await service.db.query(`SELECT count(*) FROM outbox WHERE queue IN ('service-policy', 'whatsapp-outbound') AND status IN ('pending', 'running') AND kind <> 'triage-timeout'`))[0].count) === 0,
      'the policy and the sends settled',
    );
  const conversationOf = async (waId: string) =>
    (
      await service.db.query(
        `SELECT c.id, c.route, c.ticket_routing, s.triage_path, s.handoff_at FROM conversations c JOIN contacts k ON k.id = c.contact_id
         LEFT JOIN conversation_service s ON s.conversation_id = c.id WHERE k.wa_id = $1`,
        [waId],
      )
    )[0];

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    meta = await startMetaGraphFake({ accessToken: 'test-token' });
    zendesk = await startZendeskFake();
    service = await startTestService({ DATABASE_URL: database.url, REDIS_URL: redis.url, WHATSAPP_API_URL: meta.url, EGRESS_ALLOW: allowFakes(meta, zendesk) });
    const created = await http.post(
      `${service.url}/api/v1/connections`,
      { connectorId: 'zendesk', name: 'Zendesk support', credentials: zendesk.credentials(), settings: { commentCoalesceMs: 300 } },
      as(TEST_ADMIN_KEY),
    );
    expect(created.status).toBe(201);
    const agent = await http.post(`${service.url}/api/v1/api-keys`, { name: 'an agent', role: 'agent' }, as(TEST_ADMIN_KEY));
    expect(agent.status).toBe(201);
    agentKey = agent.data.key;
  });

  afterAll(async () => {
    await service?.stop();
    await zendesk?.close();
    await meta?.close();
    await redis?.close();
    await database?.drop();
  });

  describe('the policy document', () => {
    it('is for admins only, lists every problem of an invalid one, and is audited when stored', async () => {
      const policy = { timeZone: 'Europe/Warsaw', hours: WEEKDAYS_9_TO_17, awayMessage: 'Back soon' };
      expect((await put('100000000000009', policy, agentKey)).status).toBe(403);
      expect((await http.get(`${service.url}/api/v1/service-policy/100000000000009`, as(agentKey))).status).toBe(403);

      const invalid = await put('100000000000009', { timeZone: 'Mars/Olympus', hours: { mon: ['17:00-09:00x'], funday: [] }, defaultRoute: 'nowhere' });
      expect(invalid.status).toBe(400);
      const problems = (invalid.data.message as string[]).join('\n');
      expect(problems).toMatch(/funday/);
      expect(problems).toMatch(/defaultRoute names the route nowhere/);

      expect((await put('100000000000009', policy)).status).toBe(201);
      expect((await put('100000000000009', { ...policy, awayMessage: 'Back on Monday' })).status).toBe(200);
      const stored = await http.get(`${service.url}/api/v1/service-policy/100000000000009`, as(TEST_ADMIN_KEY));
      expect(stored.status).toBe(200);
      expect(stored.data).toMatchObject({ phoneNumberId: '100000000000009', policy: { awayMessage: 'Back on Monday' }, updatedBy: 'env-admin' });
      expect((await http.get(`${service.url}/api/v1/service-policy/100000000000008`, as(TEST_ADMIN_KEY))).status).toBe(404);
      const audit = await service.db.query(`SELECT method, status FROM audit_log WHERE route = '/api/v1/service-policy/:phoneNumberId' ORDER BY id`);
      expect(audit).toEqual(expect.arrayContaining([{ method: 'PUT', status: 403 }, { method: 'PUT', status: 400 }, { method: 'PUT', status: 201 }, { method: 'PUT', status: 200 }]));
    });
  });

  describe('away message and greeting', () => {
    it('answers a message written at 23:00 local time with one away message naming the next opening, also when Meta delivers it again', async () => {
      const number = '100000000000001';
      const waId = '48600100001';
      expect((await put(number, { timeZone: zoneWhereItIs(23), hours: WEEKDAYS_9_TO_17, awayMessage: 'Thanks! We reply from {{nextOpen}}.', greetingMessage: 'Hello!' })).status).toBe(201);

      const first = await write(waId, number, 'Is my order shipped?');
      expect((await postMetaWebhook(`${service.url}/webhooks/whatsapp`, first, TEST_APP_SECRET)).status).toBe(200); // a redelivery
      await eventually(async () => sentTo(waId).length > 0, 'the away message reached Meta');
      await settled();
      await write(waId, number, 'Hello?'); // the same closed period: no second away message
      await settled();

      const sent = sentTo(waId);
      expect(sent).toHaveLength(1);
      // It is 23:xx there: the business opens tomorrow at 09:00, a weekday name away.
      expect(textOf(sent[0])).toMatch(/^Thanks! We reply from [A-Z][a-z]+day.* 09:00\.$/);
      const stored = await service.db.query(`SELECT author, origin, direction FROM messages m JOIN contacts k ON k.id = m.contact_id WHERE k.wa_id = $1 AND m.direction = 'outbound'`, [waId]);
      expect(stored).toEqual([{ author: 'threadbridge (auto)', origin: 'service-policy', direction: 'outbound' }]);

      // The helpdesk ticket says it was sent, as an internal note (customers never see it twice).
      const ticket = await eventually(async () => zendesk.tickets().find((t) => zendesk.comments(t.id).some((c) => c.body.includes('Is my order shipped?'))), 'the ticket');
      await eventually(async () => zendesk.comments(ticket.id).some((c) => !c.public && c.body.includes('We reply from')), 'the internal note of the away message');
    });

    it('greets the first message of a new conversation during open hours, once', async () => {
      const number = '100000000000002';
      const waId = '48600100002';
      expect((await put(number, { timeZone: zoneWhereItIs(10), hours: WEEKDAYS_9_TO_17, awayMessage: 'We are closed.', greetingMessage: 'Hello! Your order number, please?' })).status).toBe(201);
      await write(waId, number, 'Hi there');
      await write(waId, number, 'I have a question');
      await eventually(async () => sentTo(waId).length > 0, 'the greeting reached Meta');
      await settled();
      expect(sentTo(waId).map(textOf)).toEqual(['Hello! Your order number, please?']);
    });

    it("counts an agent's reply as the first response, not the auto-reply, in the conversation and the histograms", async () => {
      const waId = '48600100001';
      const conversation = await conversationOf(waId);
      const before = await service.db.query(`SELECT first_response_at FROM conversations WHERE id = $1`, [conversation.id]);
      expect(before).toEqual([{ first_response_at: null }]); // the away message answered nobody's question
      const reply = await http.post(`${service.url}/api/v1/conversations/${conversation.id}/replies`, { text: 'Shipped yesterday!' }, as(agentKey));
      expect(reply.status).toBe(202);
      await eventually(async () => (await service.db.query(`SELECT first_response_at FROM conversations WHERE id = $1`, [conversation.id]))[0].first_response_at, 'the first response');
      const count = (label: string, text: string) => Number(new RegExp(`^threadbridge_first_response_seconds_count\\{business_hours="${label}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
      const metrics = await eventually(async () => {
        const text = (await http.get<string>(`${service.url}/metrics`)).data;
        return count('false', text) >= 1 ? text : null;
      }, 'the histogram observed');
      expect(count('true', metrics)).toBeGreaterThanOrEqual(1);
    });

    it('sends nothing for a number without a policy', async () => {
      await write('48600100003', '100000000000003', 'Anyone there?');
      await settled();
      expect(sentTo('48600100003')).toEqual([]);
    });
  });

  describe('triage', () => {
    const number = '100000000000004';
    const policy = {
      timeZone: 'Europe/Warsaw',
      hours: ALWAYS_OPEN,
      triage: {
        prompt: 'How can we help? Reply with a number:',
        options: [
          { key: '1', label: 'Order status', route: 'orders' },
          { key: '2', label: 'Returns', route: 'returns' },
          { key: '3', label: 'Sales', route: 'sales' },
        ],
      },
      routing: {
        orders: { ticket: { group: 'Orders', tags: ['orders'] } },
        returns: { ticket: { group: 'Returns', priority: 'high', tags: ['returns'] } },
        sales: { ticket: { tags: ['sales'] } },
        support: { ticket: { group: 'Support', priority: 'normal', tags: ['human'] } },
      },
      defaultRoute: 'support',
    };

    const groupId = (name: string) => zendesk.groups().find((g) => g.name === name)!.id;
    const ticketOf = (waId: string) =>
      eventually(async () => {
        const customer = zendesk.users().find((u) => u.name === `Customer ${waId}`);
        return customer && zendesk.tickets().find((t) => t.requester_id === customer.id);
      }, `the ticket of ${waId}`);

    beforeAll(async () => {
      for (const group of ['Orders', 'Returns', 'Support']) zendesk.seedGroup(group);
      expect((await put(number, policy)).status).toBe(201);
    });

    it('shows the menu as reply buttons and routes "2" to returns, with the handoff recorded', async () => {
      const waId = '48600100004';
      await write(waId, number, 'Hi');
      const [menu] = await eventually(async () => (sentTo(waId).length ? sentTo(waId) : null), 'the menu');
      expect(menu.type).toBe('interactive');
      expect(menu.body.interactive).toMatchObject({ type: 'button', body: { text: 'How can we help? Reply with a number:' } });
      await write(waId, number, '2');
      await settled();
      const conversation = await conversationOf(waId);
      expect(conversation).toMatchObject({ route: 'returns', triage_path: ['menu', 'option:returns'], ticket_routing: { group: 'Returns', priority: 'high', tags: ['returns'], removeTags: ['human', 'orders', 'sales'] } });
      expect(conversation.handoff_at).not.toBeNull();
      expect(sentTo(waId)).toHaveLength(1); // the menu only
      // The returns route's group, priority and tag on the Zendesk ticket.
      const ticket = await ticketOf(waId);
      await eventually(async () => {
        const t = zendesk.tickets().find((x) => x.id === ticket.id)!;
        return t.group_id === groupId('Returns') && t.priority === 'high' && t.tags.includes('returns');
      }, 'the returns route on the ticket');

      // Asking for a person at any moment, also after choosing, goes to the human route.
      await write(waId, number, 'I want to talk to an AGENT please');
      await settled();
      expect(await conversationOf(waId)).toMatchObject({ route: 'support', triage_path: ['menu', 'option:returns', 'human'] });
      const moved = await eventually(async () => {
        const t = zendesk.tickets().find((x) => x.id === ticket.id)!;
        // Group and priority go in one update, the tags in their own calls after it.
        return t.group_id === groupId('Support') && t.tags.includes('human') ? t : null;
      }, 'the ticket moved to Support');
      expect(moved.priority).toBe('normal');
      expect(moved.tags).toContain('human');
      expect(moved.tags).not.toContain('returns');
    });

    it('takes a tapped button as the answer', async () => {
      const waId = '48600100005';
      await write(waId, number, 'Hello');
      await settled();
      const tap = aTextMessageWebhook({ waId, phoneNumberId: number, name: 'Tap' }) as unknown as { entry: { changes: { value: { messages: Record<string, unknown>[] } }[] }[] };
      const message = tap.entry[0].changes[0].value.messages[0];
      delete message.text;
      Object.assign(message, { type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: 'triage:3', title: 'Sales' } } });
      expect((await postMetaWebhook(`${service.url}/webhooks/whatsapp`, tap, TEST_APP_SECRET)).status).toBe(200);
      await settled();
      expect(await conversationOf(waId)).toMatchObject({ route: 'sales', triage_path: ['menu', 'option:sales'] });
    });

    it('hands a customer who asks for a person straight to the default human route', async () => {
      const waId = '48600100006';
      await write(waId, number, 'Hi');
      await write(waId, number, 'konsultant');
      await settled();
      expect(await conversationOf(waId)).toMatchObject({ route: 'support', triage_path: ['menu', 'human'] });
    });

    it('routes a customer who ignores the menu to the default route after their second message, and their messages reach the helpdesk meanwhile', async () => {
      const waId = '48600100007';
      await write(waId, number, 'Hi');
      await write(waId, number, 'My parcel is late, order 4711');
      await settled();
      expect(await conversationOf(waId)).toMatchObject({ route: 'support', triage_path: ['menu', 'timeout'] });
      await eventually(async () => zendesk.tickets().some((t) => zendesk.comments(t.id).some((c) => c.body.includes('order 4711'))), 'the message on a ticket');
    });
  });
});

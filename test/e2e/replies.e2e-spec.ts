import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axios from 'axios';
import { randomBytes } from 'node:crypto';
import { startHubspotFake, type HubspotFake } from '../../connectors/hubspot/test/hubspot.fake-server';
import { startZendeskFake, type ZendeskFake } from '../../connectors/zendesk/test/zendesk.fake-server';
import { aStatusWebhook, aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { type MetaGraphFake, startMetaGraphFake } from '../fakes/meta-graph.fake-server';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { Encryption } from '../../src/common/encryption';
import { ConnectionsService } from '../../src/connections/connections.service';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { allowFakes, eventually, startTestService, TEST_ADMIN_KEY, TEST_APP_SECRET, type TestService } from '../setup/test-service';

const api = axios.create({ validateStatus: () => true, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
const ZENDESK_SECRET = 'zendesk-webhook-signing-secret';
const HUBSPOT_TOKEN = 'hubspot-replies-token';
const BUSINESS_NUMBER = '+15550783881';
const HOUR = 60 * 60_000;

/**
 * Agent replies, end to end on Postgres + Redis: a WhatsApp chat becomes a Zendesk ticket, the
 * agent answers in (fake) Zendesk or in a (fake) HubSpot inbox, the answer reaches the customer
 * through the (fake) Cloud API, WhatsApp's statuses go back to where the agent wrote, and the
 * answer shows in the other CRM only.
 */
/** A ticket someone opened in Zendesk itself (not from a WhatsApp chat). */
/** An internal note threadbridge wrote about a reply it did not send or WhatsApp did not deliver. */
const isReplyNote = (body: string) => /^Not (sent|delivered) on WhatsApp/.test(body);

async function foreignTicket(fake: ZendeskFake): Promise<string> {
  const requester = fake.seedUser({ name: 'Walk-in', role: 'end-user' });
  const res = await axios.post(
    `${fake.apiUrl}/tickets.json`,
    { ticket: { subject: 'Phone call', requester_id: requester.id, tags: ['whatsapp'], comment: { body: 'Called in', public: false } } },
    { auth: { username: `${fake.email}/token`, password: fake.apiToken } },
  );
  expect(res.status).toBe(201);
  return String(res.data.ticket.id);
}

describe('agent replies', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let meta: MetaGraphFake;
  let zendesk: ZendeskFake;
  let hubspot: HubspotFake;
  /** A second Zendesk account, for the replies set-up test. */
  let zendeskEu: ZendeskFake;
  let service: TestService;
  let zendeskId: string;
  let hubspotId: string;

  const metaWebhook = (payload: object) => postMetaWebhook(`${service.url}/webhooks/whatsapp`, payload, TEST_APP_SECRET);
  const zendeskWebhookUrl = () => `${service.url}/webhooks/connections/${zendeskId}`;

  /** The customer writes (stored by us; the fake Meta opens its own window unless told not to). */
  const customerWrites = async (waId: string, text: string, options: { name?: string; metaWindow?: boolean } = {}) => {
    if (options.metaWindow !== false) meta.recordInbound(waId);
    const res = await metaWebhook(aTextMessageWebhook({ waId, name: options.name ?? `Customer ${waId.slice(-4)}`, wamid: nextWamid(waId), text }));
    expect(res.status).toBe(200);
  };
  const conversationOf = (waId: string): Promise<{ id: string; contactId: string }> =>
    eventually(
      async () =>
        (await service.db.query(`SELECT c.id, c.contact_id AS "contactId" FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id = $1 ORDER BY c.opened_at DESC`, [waId]))[0],
      `conversation of ${waId}`,
    );
  const ticketOf = (conversationId: string): Promise<string> =>
    eventually(
      async () =>
        (await service.db.query(`SELECT remote_id FROM remote_links WHERE connection_id = $1 AND entity_type = 'ticket' AND local_id = $2`, [zendeskId, conversationId]))[0]
          ?.remote_id as string | undefined,
      'the Zendesk ticket',
    );
  /** Nothing left to do in any queue this flow uses. */
  const settled = (what: string) =>
    eventually(
      async () =>
        Number(
          (
            await service.db.query(
              `SELECT count(*) FROM outbox WHERE queue IN ('crm-sync', 'replies', 'reply-status', 'whatsapp-outbound') AND status IN ('pending', 'running') AND next_attempt_at < now() + interval '1 minute'`,
            )
          )[0].count,
        ) === 0,
      what,
      30_000,
    );
  /** A chat that has reached Zendesk: its conversation and ticket. */
  const chat = async (waId: string, text = 'Hello, where is my order?', options: { metaWindow?: boolean } = {}) => {
    await customerWrites(waId, text, options);
    const conversation = await conversationOf(waId);
    const ticketId = await ticketOf(conversation.id);
    await settled('the chat synced');
    return { ...conversation, ticketId };
  };
  const sentTo = (waId: string) => meta.sent.filter((m) => m.waId === waId);
  const messageCalls = () => meta.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/messages')).length;
  const internalNotes = (ticketId: string) => zendesk.comments(ticketId).filter((c) => !c.public);
  const backdate = (conversationId: string, ms: number) =>
    service.db.query(`UPDATE conversations SET last_inbound_at = now() - ($2 || ' milliseconds')::interval WHERE id = $1`, [conversationId, String(ms)]);
  /** Sets (or removes) the Zendesk connection's reply template through the API, as an operator would. */
  const setReplyTemplate = async (template: object | null) => {
    const res = await api.patch(`${service.url}/api/v1/connections/${zendeskId}`, { settings: { commentCoalesceMs: 0, ...(template ? { replyTemplate: template } : {}) } });
    expect(res.status).toBe(200);
  };
  const agentReplies = (connectionId: string) =>
    service.db.query(`SELECT remote_id, status, mode, detail, text, message_id FROM agent_replies WHERE connection_id = $1 ORDER BY received_at`, [connectionId]);

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    meta = await startMetaGraphFake({ accessToken: 'test-token', enforceWindow: true });
    zendesk = await startZendeskFake({ deliverApiComments: true });
    hubspot = await startHubspotFake({ accessTokens: [HUBSPOT_TOKEN] });
    zendeskEu = await startZendeskFake();
    service = await startTestService({
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      WHATSAPP_API_URL: meta.url,
      CONNECTOR_TIMEOUT_MS: '3000',
      EGRESS_ALLOW: allowFakes(meta, zendesk, hubspot, zendeskEu),
    });

    // No apiUserId: the connection learns its API user from Zendesk when it is created.
    const zd = await api.post(`${service.url}/api/v1/connections`, {
      connectorId: 'zendesk',
      name: 'Zendesk support',
      credentials: zendesk.credentials({ webhookSecret: ZENDESK_SECRET }),
      settings: { commentCoalesceMs: 0 },
    });
    expect(zd.status).toBe(201);
    expect(zd.data.credentials).toMatchObject({ apiUserId: 'set' });
    zendeskId = zd.data.id;
    zendesk.configureWebhook({ id: 'trigger', url: zendeskWebhookUrl(), secret: ZENDESK_SECRET, mode: 'trigger' });

    const hs = await api.post(`${service.url}/api/v1/connections`, {
      connectorId: 'hubspot',
      name: 'HubSpot sales',
      credentials: { accessToken: HUBSPOT_TOKEN, baseUrl: hubspot.url, appSecret: hubspot.app.appSecret, appId: hubspot.app.appId, developerApiKey: hubspot.app.developerApiKey },
      settings: { conversations: { inboxId: hubspot.app.inboxId, deliveryIdentifier: BUSINESS_NUMBER } },
    });
    expect(hs.status).toBe(201);
    hubspotId = hs.data.id;
    expect(hs.data.capabilities.replies).toBe(false);
  });

  afterAll(async () => {
    await service?.stop();
    await hubspot?.close();
    await zendesk?.close();
    await zendeskEu?.close();
    await meta?.close();
    await redis?.close();
    await database?.drop();
  });

  describe('set-up', () => {
    it("sets up a HubSpot connection's replies through the API: a channel pointing at its webhook, stored with the connection", async () => {
      const res = await api.post(`${service.url}/api/v1/connections/${hubspotId}/replies/setup`);
      expect(res.status).toBe(200);
      expect(res.data.callbackUrl).toBe(`${service.url}/webhooks/connections/${hubspotId}`);
      expect(res.data.stored).toEqual({ credentials: [], settings: ['conversations'] });
      expect(res.data.connection).toMatchObject({ capabilities: { replies: true }, settings: { conversations: { enabled: true, inboxId: hubspot.app.inboxId } } });
      expect(hubspot.customChannels()).toEqual([expect.objectContaining({ webhookUrl: res.data.callbackUrl })]);
      expect(hubspot.channelAccounts()).toHaveLength(1);
    });

    it('answers 404 for an unknown connection', async () => {
      await expect(api.post(`${service.url}/api/v1/connections/8c1f3f52-1b7e-4b8e-9a55-3f0a1d2c4e5f/replies/setup`)).resolves.toMatchObject({ status: 404 });
    });
  });

  describe('the connection webhook', () => {
    it('answers 404 for an unknown connection and 401 for a bad signature, storing nothing', async () => {
      const { ticketId } = await chat('4915700000001');
      const { deliveries } = await zendesk.agentComment(ticketId, { body: 'A reply' });
      await settled('the reply handled');
      const [delivery] = deliveries;
      const before = (await agentReplies(zendeskId)).length;

      const post = (url: string, headers: Record<string, string>) => axios.post(url, delivery.body, { headers, validateStatus: () => true, transformRequest: (d: unknown) => d });
      await expect(post(`${service.url}/webhooks/connections/8c1f3f52-1b7e-4b8e-9a55-3f0a1d2c4e5f`, delivery.headers)).resolves.toMatchObject({ status: 404 });
      await expect(post(`${service.url}/webhooks/connections/not-a-uuid`, delivery.headers)).resolves.toMatchObject({ status: 404 });
      const forged = { ...delivery.headers, 'x-zendesk-webhook-signature': Buffer.from('forged').toString('base64') };
      await expect(post(zendeskWebhookUrl(), forged)).resolves.toMatchObject({ status: 401 });
      const tampered = await axios.post(zendeskWebhookUrl(), delivery.body.replace('A reply', 'Another reply'), { headers: delivery.headers, validateStatus: () => true, transformRequest: (d: unknown) => d });
      expect(tampered.status).toBe(401);
      await expect(agentReplies(zendeskId)).resolves.toHaveLength(before);
    });

    it('sends a Zendesk webhook delivered twice (and concurrently) once', async () => {
      const waId = '4915700000002';
      const { ticketId } = await chat(waId);
      const { deliveries } = await zendesk.agentComment(ticketId, { body: 'Your parcel leaves today.' });
      expect(deliveries.map((d) => d.status)).toEqual([200]);
      const [delivery] = deliveries;
      const again = () => axios.post(zendeskWebhookUrl(), delivery.body, { headers: delivery.headers, validateStatus: () => true, transformRequest: (d: unknown) => d });
      const answers = await Promise.all([again(), again(), again()]);
      expect(answers.map((a) => [a.status, a.data.stored])).toEqual([
        [200, 0],
        [200, 0],
        [200, 0],
      ]);
      await eventually(async () => sentTo(waId).length === 1, 'the reply on WhatsApp');
      await settled('all handled');
      expect(sentTo(waId)).toHaveLength(1);
      await expect(agentReplies(zendeskId).then((rows) => rows.filter((r: { remote_id: string }) => r.remote_id === String(deliveries[0].commentId)))).resolves.toHaveLength(1);
    });
  });

  describe('Zendesk → WhatsApp', () => {
    it("sends the agent's public comment to the customer, reports failure as an internal note, and records the first response", async () => {
      const waId = '4915700000010';
      const { id: conversationId, ticketId } = await chat(waId, 'Is my order on its way?');
      expect(zendesk.comments(ticketId).filter((c) => c.public).map((c) => c.body)).toEqual([expect.stringContaining('Is my order on its way?')]);

      const { comment, deliveries } = await zendesk.agentComment(ticketId, { body: 'Yes, it ships today.' });
      expect(deliveries.map((d) => d.status)).toEqual([200]);
      await eventually(async () => sentTo(waId).length === 1, 'the reply on WhatsApp');
      const [sent] = sentTo(waId);
      expect(sent.type).toBe('text');
      expect(sent.body).toMatchObject({ to: waId, text: { body: 'Yes, it ships today.' } });
      expect(meta.specViolations).toEqual([]);

      // Meta records the send before its answer reaches us: the wamid is stored a moment later.
      const message = await eventually(
        async () => (await service.db.query(`SELECT id, wamid, origin, author, category, direction FROM messages WHERE wamid = $1`, [sent.wamid]))[0],
        'the wamid stored',
      );
      expect(message).toMatchObject({ origin: zendeskId, author: 'Agent Smith', category: 'service', direction: 'outbound' });
      await expect(agentReplies(zendeskId).then((rows) => rows.find((r: { remote_id: string }) => r.remote_id === String(comment.id)))).resolves.toMatchObject({
        status: 'queued',
        mode: 'text',
        text: null,
        message_id: message.id,
      });
      const [conversation] = await service.db.query(`SELECT first_response_at FROM conversations WHERE id = $1`, [conversationId]);
      expect(conversation.first_response_at).toBeInstanceOf(Date);

      // sent and delivered are not notes in Zendesk (it has no per-comment status); failed is.
      for (const status of ['sent', 'delivered'] as const) expect((await metaWebhook(aStatusWebhook({ wamid: sent.wamid, status, recipientId: waId }))).status).toBe(200);
      await settled('statuses reported');
      expect(internalNotes(ticketId).filter((n) => n.body.includes('Not delivered'))).toEqual([]);
      const failed = await metaWebhook(aStatusWebhook({ wamid: sent.wamid, status: 'failed', recipientId: waId, errors: [{ code: 131026, title: 'Message undeliverable' }] }));
      expect(failed.status).toBe(200);
      const note = await eventually(async () => internalNotes(ticketId).find((n) => isReplyNote(n.body)), 'the failure note on the ticket');
      expect(note.body).toContain('could not deliver');
      expect(note.body).toContain('131026');
      await settled('done');
      expect(internalNotes(ticketId).filter((n) => isReplyNote(n.body))).toHaveLength(1);
    });

    it('sends replies written one after the other in that order', async () => {
      const waId = '4915700000017';
      const { ticketId } = await chat(waId, 'Several questions');
      const texts = ['One.', 'Two.', 'Three.', 'Four.', 'Five.'];
      for (const body of texts) await zendesk.agentComment(ticketId, { body });
      await eventually(async () => sentTo(waId).length === texts.length, 'all five on WhatsApp');
      expect(sentTo(waId).map((m) => (m.body.text as { body: string }).body)).toEqual(texts);
    });

    it("reports WhatsApp's refusal of a send (outside Meta's window: 131047) as a note saying what to do", async () => {
      const waId = '4915700000011';
      // Meta saw no customer message in 24 hours; our records say otherwise (e.g. a clock skew).
      const { ticketId } = await chat(waId, 'Hi', { metaWindow: false });
      await zendesk.agentComment(ticketId, { body: 'Here is your invoice.' });
      const note = await eventually(async () => internalNotes(ticketId).find((n) => isReplyNote(n.body)), 'the 131047 note');
      expect(note.body).toMatch(/24 hours.*template/);
      expect(sentTo(waId)).toEqual([]);
      await expect(service.db.query(`SELECT status, error_code FROM messages WHERE contact_id = (SELECT id FROM contacts WHERE wa_id = $1) AND direction = 'outbound'`, [waId])).resolves.toEqual([
        { status: 'failed', error_code: 131047 },
      ]);
    });

    it("ignores a comment by the connection's own API user (learned, never configured) and sends an agent's", async () => {
      const waId = '4915700000018';
      await expect(service.app.get(ConnectionsService).resolve(zendeskId)).resolves.toMatchObject({ credentials: { apiUserId: String(zendesk.apiUser.id) } });
      // Event webhooks deliver every public comment, whoever wrote it; the trigger never fires for the API user.
      zendesk.removeWebhooks();
      zendesk.configureWebhook({ id: 'events', url: zendeskWebhookUrl(), secret: ZENDESK_SECRET, mode: 'event' });
      try {
        const { ticketId } = await chat(waId, 'Is anyone there?');
        const calls = messageCalls();
        const own = await zendesk.agentComment(ticketId, { body: 'Written by the integration', authorId: zendesk.apiUser.id });
        expect(own.deliveries.map((d) => [d.status, String(JSON.parse(d.body).event.comment.author.id)])).toEqual([[200, String(zendesk.apiUser.id)]]);
        await zendesk.agentComment(ticketId, { body: 'Written by an agent' });
        await eventually(async () => sentTo(waId).length === 1, "the agent's comment on WhatsApp");
        await settled('all handled');
        expect(sentTo(waId).map((m) => (m.body.text as { body: string }).body)).toEqual(['Written by an agent']);
        expect(messageCalls()).toBe(calls + 1);
        await expect(service.db.query(`SELECT count(*)::int AS n FROM agent_replies WHERE remote_thread_id = $1`, [ticketId])).resolves.toEqual([{ n: 1 }]);
      } finally {
        zendesk.removeWebhooks();
        zendesk.configureWebhook({ id: 'trigger', url: zendeskWebhookUrl(), secret: ZENDESK_SECRET, mode: 'trigger' });
      }
    });

    it('never sends what threadbridge itself wrote in Zendesk (customer comments, notes)', async () => {
      const waId = '4915700000012';
      // Zendesk event webhooks deliver every comment, our own API writes included.
      zendesk.configureWebhook({ id: 'events', url: zendeskWebhookUrl(), secret: ZENDESK_SECRET, mode: 'event' });
      try {
        const { ticketId } = await chat(waId, 'A question about my bill');
        await customerWrites(waId, 'and another one');
        await settled('synced');
        // Zendesk delivers API writes in the background: wait until both comments came back to us.
        const ours = await eventually(async () => {
          const deliveries = zendesk.webhookDeliveries.filter((d) => d.webhookId === 'events' && d.ticketId === Number(ticketId));
          return deliveries.length >= 2 && deliveries.every((d) => d.status !== undefined) && deliveries;
        }, 'our own comments delivered back');
        expect(ours.every((d) => d.status === 200)).toBe(true);
        await settled('anything they caused');
        expect(sentTo(waId)).toEqual([]);
        await expect(service.db.query(`SELECT count(*)::int AS n FROM agent_replies WHERE remote_thread_id = $1`, [ticketId])).resolves.toEqual([{ n: 0 }]);
      } finally {
        zendesk.removeWebhooks();
        zendesk.configureWebhook({ id: 'trigger', url: zendeskWebhookUrl(), secret: ZENDESK_SECRET, mode: 'trigger' });
      }
    });

    it('answers at 23 h 59 m as free text, and at 24 h 01 m with the reply template, or not at all (with a note) when none is configured', async () => {
      const waId = '4915700000013';
      const { id: conversationId, ticketId } = await chat(waId, 'Do you have it in blue?', { metaWindow: true });

      await backdate(conversationId, 23 * HOUR + 59 * 60_000);
      await zendesk.agentComment(ticketId, { body: 'Yes, in blue too.' });
      await eventually(async () => sentTo(waId).length === 1, 'free text inside the window');
      expect(sentTo(waId)[0]).toMatchObject({ type: 'text', body: { text: { body: 'Yes, in blue too.' } } });

      await backdate(conversationId, 24 * HOUR + 60_000);
      await setReplyTemplate(null);
      const calls = messageCalls();
      await zendesk.agentComment(ticketId, { body: 'It is back in stock.' });
      const note = await eventually(async () => internalNotes(ticketId).find((n) => n.body.includes('no reply template is configured')), 'the refusal note');
      expect(note.body).toContain('more than 24 hours');
      expect(note.body).toContain('settings.replyTemplate');
      expect(messageCalls()).toBe(calls);
      await expect(agentReplies(zendeskId).then((rows) => rows.at(-1))).resolves.toMatchObject({ status: 'refused', text: null, message_id: null });

      const registered = await api.post(`${service.url}/api/v1/templates`, { name: 'support_reply', language: 'en', category: 'utility', parameters: ['{{customer.name}}', '{{agent.text}}'] });
      expect(registered.status).toBe(201);
      const typo = await api.patch(`${service.url}/api/v1/connections/${zendeskId}`, { settings: { replyTemplate: { name: 'Support Reply' } } });
      expect(typo.status).toBe(400);
      expect(typo.data.problems).toEqual(expect.arrayContaining([expect.stringContaining('settings.replyTemplate.name'), expect.stringContaining('settings.replyTemplate.language')]));
      await setReplyTemplate({ name: 'support_reply', language: 'en' });
      await zendesk.agentComment(ticketId, { body: 'It is back\nin stock now.' });
      await eventually(async () => sentTo(waId).length === 2, 'the template outside the window');
      expect(sentTo(waId)[1]).toMatchObject({
        type: 'template',
        body: {
          template: {
            name: 'support_reply',
            language: { code: 'en' },
            components: [{ type: 'body', parameters: [{ type: 'text', text: 'Customer 0013' }, { type: 'text', text: 'It is back in stock now.' }] }],
          },
        },
      });
      expect(meta.specViolations).toEqual([]);
      await setReplyTemplate(null);
    });

    it('refuses a marketing reply template to an opted-out customer without calling Meta, and says so on the ticket', async () => {
      const waId = '4915700000014';
      const { id: conversationId, contactId, ticketId } = await chat(waId, 'Thanks');
      const optOut = await api.post(`${service.url}/api/v1/contacts/${contactId}/consent`, { action: 'opt_out', scope: 'marketing', source: 'crm', actor: 'agent' });
      expect(optOut.status).toBe(201);
      await expect(api.post(`${service.url}/api/v1/templates`, { name: 'spring_sale', language: 'en', category: 'marketing', parameters: ['{{agent.text}}'] })).resolves.toMatchObject({ status: 201 });
      await setReplyTemplate({ name: 'spring_sale', language: 'en' });
      await backdate(conversationId, 30 * HOUR);
      const calls = messageCalls();

      await zendesk.agentComment(ticketId, { body: '20% off this week!' });
      const note = await eventually(async () => internalNotes(ticketId).find((n) => isReplyNote(n.body)), 'the refusal note');
      expect(note.body).toContain('opted out of marketing');
      expect(note.body).toMatch(/^Not sent on WhatsApp: /);
      expect(note.body.match(/on WhatsApp/g)).toHaveLength(1); // said once, not twice in a row
      await settled('done');
      expect(messageCalls()).toBe(calls);
      await expect(service.db.query(`SELECT reason, category, is_template, origin FROM outbound_refusals WHERE contact_id = $1`, [contactId])).resolves.toEqual([
        { reason: 'marketing_opted_out', category: 'marketing', is_template: true, origin: zendeskId },
      ]);
      await setReplyTemplate(null);
    });

    it('retries a report the helpdesk rate-limits after its Retry-After, and dead-letters one it refuses', async () => {
      const waId = '4915700000016';
      const { id: conversationId, ticketId } = await chat(waId, 'Hello?');
      await backdate(conversationId, 26 * HOUR); // no template configured: every reply is refused and reported
      const audits = new RegExp(`^/tickets/${ticketId}/audits$`);
      zendesk.failNext(429, { retryAfterSec: 1, path: audits, method: 'GET' });
      const started = Date.now();
      await zendesk.agentComment(ticketId, { body: 'First try' });
      await eventually(async () => internalNotes(ticketId).some((n) => isReplyNote(n.body)), 'the note after the pause');
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(zendesk.requestsTo('GET', audits).map((r) => r.status)).toEqual([429, 200]);

      zendesk.failNext(422, { path: new RegExp(`^/tickets/${ticketId}$`), method: 'PUT', body: { error: 'RecordInvalid', description: 'Record validation errors', details: { base: [{ description: 'Ticket is closed', error: 'InvalidValue' }] } } });
      const { comment } = await zendesk.agentComment(ticketId, { body: 'Second try' });
      const reply: { id: string } = await eventually(
        async () => (await service.db.query(`SELECT id FROM agent_replies WHERE remote_id = $1 AND status = 'refused'`, [String(comment.id)]))[0],
        'the second reply refused',
      );
      const dead = await eventually(
        async () => (await service.db.query(`SELECT id::text AS id, last_error FROM outbox WHERE queue = 'reply-status' AND status = 'dead' AND payload->>'replyId' = $1`, [reply.id]))[0],
        'the report dead-lettered',
      );
      expect(dead.last_error).toContain('422');
      const letters = await api.get(`${service.url}/api/v1/dead-letters`, { params: { connectionId: zendeskId } });
      expect(letters.status).toBe(200);
      expect(JSON.stringify(letters.data)).toContain(dead.id);
      expect(internalNotes(ticketId).filter((n) => isReplyNote(n.body))).toHaveLength(1);
    });

    it('fails a reply on a ticket threadbridge does not know, with a note saying so', async () => {
      const ticketId = await foreignTicket(zendesk);
      await zendesk.agentComment(ticketId, { body: 'We called you back.' });
      const note = await eventually(async () => internalNotes(ticketId).find((n) => isReplyNote(n.body)), 'the failure note');
      expect(note.body).toContain(`no WhatsApp conversation for thread ${ticketId}`);
    });
  });

  describe('fan-out to the other CRMs', () => {
    it('shows a Zendesk reply on the HubSpot timeline and never writes it back to Zendesk', async () => {
      const waId = '4915700000020';
      const { id: conversationId, ticketId } = await chat(waId, 'Can I change the address?');
      await zendesk.agentComment(ticketId, { body: 'Address changed to Main St 5.' });
      await eventually(async () => sentTo(waId).length === 1, 'sent');
      await settled('synced everywhere');
      const [message] = await service.db.query(`SELECT id FROM messages WHERE wamid = $1`, [sentTo(waId)[0].wamid]);

      await expect(eventually(async () => hubspot.communications().find((c) => String(c.properties.hs_communication_body).includes('Address changed to Main St 5.')), 'on HubSpot')).resolves.toBeTruthy();
      await expect(service.db.query(`SELECT connection_id FROM outbox WHERE queue = 'crm-sync' AND message_id = $1`, [message.id])).resolves.toEqual([{ connection_id: hubspotId }]);
      expect(zendesk.comments(ticketId).filter((c) => c.body.includes('Address changed to Main St 5.'))).toHaveLength(1); // the agent's own comment only
      // Published only as a log entry in HubSpot, never into its inbox (that would look like a new message).
      expect(hubspot.channelMessages(conversationId).filter((m) => m.text.includes('Address changed'))).toEqual([]);
    });
  });

  describe('HubSpot inbox → WhatsApp', () => {
    it("sends an agent's reply from the HubSpot inbox and marks it SENT there; Zendesk gets it as a note", async () => {
      const waId = '4915700000030';
      const { id: conversationId, ticketId } = await chat(waId, 'Hola, una pregunta');
      await eventually(async () => hubspot.channelMessages(conversationId).length === 1, 'published into the HubSpot inbox');

      const { message, delivery } = await hubspot.agentReply(conversationId, { text: 'Claro, dime.', senderName: 'Ana García' });
      expect(delivery.status).toBe(200);
      await eventually(async () => sentTo(waId).length === 1, 'the reply on WhatsApp');
      const [sent] = sentTo(waId);
      expect(sent.body).toMatchObject({ type: 'text', text: { body: 'Claro, dime.' } });
      const stored = await eventually(async () => (await service.db.query(`SELECT origin, author FROM messages WHERE wamid = $1`, [sent.wamid]))[0], 'the wamid stored');
      expect(stored).toEqual({ origin: hubspotId, author: 'Ana García' });

      expect((await metaWebhook(aStatusWebhook({ wamid: sent.wamid, status: 'sent', recipientId: waId }))).status).toBe(200);
      await eventually(async () => hubspot.messageStatuses(message.id).some((s) => s.statusType === 'SENT'), 'SENT in HubSpot');
      expect((await metaWebhook(aStatusWebhook({ wamid: sent.wamid, status: 'read', recipientId: waId }))).status).toBe(200);
      await eventually(async () => hubspot.messageStatuses(message.id).some((s) => s.statusType === 'READ'), 'READ in HubSpot');
      await settled('done');
      expect(hubspot.messageStatuses(message.id).map((s) => s.statusType)).toEqual(['SENT', 'READ']);

      const note = await eventually(async () => internalNotes(ticketId).find((n) => n.body.includes('Claro, dime.')), 'the note in Zendesk');
      expect(note.body).toContain('from another system');
    });
  });

  describe('HubSpot refusing the token', () => {
    it('parks the status report until the connection has working credentials again, then reports it', async () => {
      const waId = '4915700000031';
      const { id: conversationId } = await chat(waId, 'Hello again');
      await eventually(async () => hubspot.channelMessages(conversationId).length === 1, 'published into the HubSpot inbox');
      const { message } = await hubspot.agentReply(conversationId, { text: 'On it.' });
      await eventually(async () => sentTo(waId).length === 1, 'sent');
      await settled('quiet');

      hubspot.failNext(401); // the next HubSpot call: the status report
      expect((await metaWebhook(aStatusWebhook({ wamid: sentTo(waId)[0].wamid, status: 'sent', recipientId: waId }))).status).toBe(200);
      await eventually(async () => (await api.get(`${service.url}/api/v1/connections/${hubspotId}`)).data.status === 'needs_reauth', 'needs_reauth');
      expect(hubspot.messageStatuses(message.id)).toEqual([]);

      const fixed = await api.patch(`${service.url}/api/v1/connections/${hubspotId}`, {
        credentials: { accessToken: HUBSPOT_TOKEN, baseUrl: hubspot.url, appSecret: hubspot.app.appSecret, appId: hubspot.app.appId, developerApiKey: hubspot.app.developerApiKey },
      });
      expect(fixed.data.status).toBe('active');
      await eventually(async () => hubspot.messageStatuses(message.id).some((u) => u.statusType === 'SENT'), 'SENT once the token works');
    });
  });

  describe('the API', () => {
    it('replies to a conversation inside the window (202), refuses outside it (422) with what to do, per role', async () => {
      const waId = '4915700000040';
      const { id: conversationId } = await chat(waId, 'Any news?');
      const agent = await api.post(`${service.url}/api/v1/api-keys`, { name: 'desk agent', role: 'agent' });
      const auditor = await api.post(`${service.url}/api/v1/api-keys`, { name: 'auditor', role: 'auditor' });
      const as = (key: string) => ({ headers: { authorization: `Bearer ${key}` }, validateStatus: () => true });

      const denied = await axios.post(`${service.url}/api/v1/conversations/${conversationId}/replies`, { text: 'x' }, as(auditor.data.key));
      expect(denied.status).toBe(403);
      const first = await axios.post(`${service.url}/api/v1/conversations/${conversationId}/replies`, { text: 'Tomorrow morning.' }, { ...as(agent.data.key), headers: { ...as(agent.data.key).headers, 'idempotency-key': 'k1' } });
      expect(first.status).toBe(202);
      expect(first.data).toMatchObject({ status: 'queued', mode: 'text', duplicate: false });
      const repeat = await axios.post(`${service.url}/api/v1/conversations/${conversationId}/replies`, { text: 'Tomorrow morning.' }, { ...as(agent.data.key), headers: { ...as(agent.data.key).headers, 'idempotency-key': 'k1' } });
      expect(repeat.data).toMatchObject({ status: 'queued', messageId: first.data.messageId, duplicate: true });
      await eventually(async () => sentTo(waId).length === 1, 'sent');
      await expect(service.db.query(`SELECT author, origin FROM messages WHERE id = $1`, [first.data.messageId])).resolves.toEqual([{ author: 'desk agent', origin: 'api' }]);

      await backdate(conversationId, 25 * HOUR);
      const late = await axios.post(`${service.url}/api/v1/conversations/${conversationId}/replies`, { text: 'Still there?' }, as(agent.data.key));
      expect(late.status).toBe(422);
      expect(late.data).toMatchObject({ status: 'refused', reason: 'no_reply_template', detail: expect.stringContaining('POST /api/v1/contacts/:id/messages') });
      await expect(api.post(`${service.url}/api/v1/conversations/8c1f3f52-1b7e-4b8e-9a55-3f0a1d2c4e5f/replies`, { text: 'x' })).resolves.toMatchObject({ status: 404 });
      await expect(api.post(`${service.url}/api/v1/conversations/${conversationId}/replies`, { text: '' })).resolves.toMatchObject({ status: 400 });
      await settled('done');
      expect(sentTo(waId)).toHaveLength(1);

      // Closing the conversation records when it was resolved.
      await expect(api.post(`${service.url}/api/v1/conversations/${conversationId}/close`)).resolves.toMatchObject({ status: 200 });
      const [row] = await service.db.query(`SELECT resolved_at, closed_at FROM conversations WHERE id = $1`, [conversationId]);
      expect(row.resolved_at).toBeInstanceOf(Date);
    });

    it('registers templates (templates:manage) that agents may read, and sends one to a contact with its category enforced', async () => {
      const agent = await api.post(`${service.url}/api/v1/api-keys`, { name: 'template reader', role: 'agent' });
      const asAgent = { headers: { authorization: `Bearer ${agent.data.key}` }, validateStatus: () => true };
      await expect(axios.post(`${service.url}/api/v1/templates`, { name: 'x', language: 'en', category: 'utility' }, asAgent)).resolves.toMatchObject({ status: 403 });
      await expect(api.post(`${service.url}/api/v1/templates`, { name: 'Bad Name', language: 'english', category: 'promo' })).resolves.toMatchObject({ status: 400 });
      const created = await api.post(`${service.url}/api/v1/templates`, { name: 'order_update', language: 'en', category: 'utility', parameters: ['{{customer.name}}', 'order 4711'] });
      expect(created.status).toBe(201);
      const replaced = await api.post(`${service.url}/api/v1/templates`, { name: 'order_update', language: 'en', category: 'utility', parameters: ['{{customer.name}}', 'order 4712'] });
      expect(replaced.status).toBe(200);
      const list = await axios.get(`${service.url}/api/v1/templates`, asAgent);
      expect(list.status).toBe(200);
      expect(list.data.data).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'order_update', language: 'en', category: 'utility', parameters: ['{{customer.name}}', 'order 4712'] })]));

      const waId = '4915700000041';
      const { id: conversationId, contactId } = await chat(waId, 'Order status?');
      await backdate(conversationId, 48 * HOUR);
      const sent = await api.post(`${service.url}/api/v1/contacts/${contactId}/messages`, { template: { name: 'order_update', language: 'en' } });
      expect(sent.status).toBe(202);
      await eventually(async () => sentTo(waId).length === 1, 'the template on WhatsApp');
      expect(sentTo(waId)[0].body).toMatchObject({ type: 'template', template: { name: 'order_update', components: [{ parameters: [{ text: 'Customer 0041' }, { text: 'order 4712' }] }] } });

      const text = await api.post(`${service.url}/api/v1/contacts/${contactId}/messages`, { text: 'Free text' });
      expect(text.status).toBe(422);
      expect(text.data).toMatchObject({ reason: 'outside_service_window' });
      const unknown = await api.post(`${service.url}/api/v1/contacts/${contactId}/messages`, { template: { name: 'not_registered', language: 'en' } });
      expect(unknown.status).toBe(422);
      expect(unknown.data).toMatchObject({ reason: 'template_not_registered' });

      // Marketing needs an opt-in: refused before any call to Meta.
      await api.post(`${service.url}/api/v1/templates`, { name: 'black_friday', language: 'en', category: 'marketing', parameters: ['50%'] });
      const calls = messageCalls();
      const marketing = await api.post(`${service.url}/api/v1/contacts/${contactId}/messages`, { template: { name: 'black_friday', language: 'en' } });
      expect(marketing.status).toBe(422);
      expect(marketing.data).toMatchObject({ reason: 'no_marketing_opt_in' });
      await settled('done');
      expect(messageCalls()).toBe(calls);
      expect(sentTo(waId)).toHaveLength(1);
      expect(meta.specViolations).toEqual([]);
    });
  });
  describe('set-up of Zendesk replies', () => {
    it('creates the webhook and trigger in Zendesk and stores the signing secret, so its deliveries verify', async () => {
      const other = zendeskEu;
      let id: string | undefined;
      try {
        const created = await api.post(`${service.url}/api/v1/connections`, { connectorId: 'zendesk', name: 'Zendesk EU', credentials: other.credentials() });
        expect(created.status).toBe(201);
        id = created.data.id as string;
        expect(created.data.credentials.webhookSecret).toBeUndefined();

        const res = await api.post(`${service.url}/api/v1/connections/${id}/replies/setup`);
        expect(res.status).toBe(200);
        expect(res.data).toMatchObject({ callbackUrl: `${service.url}/webhooks/connections/${id}`, stored: { credentials: ['webhookSecret'], settings: [] } });
        expect(res.data.connection.credentials).toMatchObject({ webhookSecret: 'set' });
        expect(other.webhooks()).toEqual([expect.objectContaining({ endpoint: res.data.callbackUrl })]);
        const secret = await axios.get(`${other.apiUrl}/webhooks/${other.webhooks()[0].id}/signing_secret`, { auth: { username: `${other.email}/token`, password: other.apiToken } });
        expect(JSON.stringify(res.data)).not.toContain(secret.data.signing_secret.secret);
        expect(other.triggers()).toHaveLength(1);

        // A reply in that account now reaches us signed with the stored secret (and is told its ticket is unknown).
        const ticketId = await foreignTicket(other);
        const { deliveries } = await other.agentComment(ticketId, { body: 'Hello from the EU desk' });
        expect(deliveries.map((d) => d.status)).toEqual([200]);
        await eventually(async () => (await agentReplies(id!))[0]?.status === 'failed', 'the reply routed');
        await eventually(async () => other.comments(ticketId).some((c) => !c.public && isReplyNote(c.body)), 'the note');
      } finally {
        if (id) await api.delete(`${service.url}/api/v1/connections/${id}`);
      }
    });
  });
});

describe('a Zendesk connection declared by the environment', () => {
  /**
   * A service whose Zendesk connection is declared by ZENDESK_* variables, on a database, Redis and
   * fake Zendesk of its own; `restart` starts it again with the same environment (and address).
   */
  async function withDeclaredZendesk(
    extraEnv: Record<string, string>,
    test: (ctx: { zendesk: ZendeskFake; service: () => TestService; restart: () => Promise<void>; connectionId: string }) => Promise<void>,
  ): Promise<void> {
    const database = await createTestDatabase();
    const redis = await createTestRedis();
    const zendesk = await startZendeskFake();
    const env: Record<string, string> = {
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      ZENDESK_BASE_URL: zendesk.url,
      ZENDESK_EMAIL: zendesk.email,
      ZENDESK_API_TOKEN: zendesk.apiToken,
      EGRESS_ALLOW: allowFakes(zendesk),
      ...extraEnv,
    };
    let service = await startTestService(env);
    try {
      const [{ id }] = await service.db.query(`SELECT id FROM connections WHERE connector_id = 'zendesk' AND source = 'env'`);
      const restart = async () => {
        // On the same address: a webhook in Zendesk points at it.
        const port = new URL(service.url).port;
        await service.stop();
        service = await startTestService({ ...env, PORT: port });
      };
      await test({ zendesk, service: () => service, restart, connectionId: id });
    } finally {
      await service.stop();
      await zendesk.close();
      await redis.close();
      await database.drop();
    }
  }

  it('keeps the signing secret its replies set-up stored across a restart (the environment does not declare one)', async () => {
    await withDeclaredZendesk({}, async ({ zendesk, service, restart, connectionId: id }) => {
      const setup = await axios.post(`${service().url}/api/v1/connections/${id}/replies/setup`, undefined, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
      expect(setup.status).toBe(200);
      const secret = ((await service().app.get(ConnectionsService).resolve(id))!.credentials as { webhookSecret?: string }).webhookSecret;
      expect(secret).toEqual(expect.any(String));

      await restart();
      await expect(service().app.get(ConnectionsService).resolve(id)).resolves.toMatchObject({ credentials: { webhookSecret: secret, apiToken: zendesk.apiToken } });
      // And Zendesk's signed deliveries still verify: a reply on a ticket threadbridge does not
      // know is accepted (200) and answered with a note, not refused as unsigned (401).
      const ticketId = await foreignTicket(zendesk);
      const { deliveries } = await zendesk.agentComment(ticketId, { body: 'Still there?' });
      expect(deliveries.map((d) => d.status)).toEqual([200]);
    });
  });

  it("learns its API user's id at start, and at the next start when it was stored without it", async () => {
    await withDeclaredZendesk({ ZENDESK_WEBHOOK_SECRET: ZENDESK_SECRET }, async ({ zendesk, service, restart, connectionId: id }) => {
      const learned = { credentials: { email: zendesk.email, apiUserId: String(zendesk.apiUser.id) } };
      await expect(service().app.get(ConnectionsService).resolve(id)).resolves.toMatchObject(learned);

      // As an earlier version stored it: the declared values only.
      const declared = { baseUrl: zendesk.url, email: zendesk.email, apiToken: zendesk.apiToken, webhookSecret: ZENDESK_SECRET };
      await service().db.query(`UPDATE connections SET credentials_enc = $2 WHERE id = $1`, [id, service().app.get(Encryption).encrypt(JSON.stringify(declared))]);
      await restart();
      await expect(service().app.get(ConnectionsService).resolve(id)).resolves.toMatchObject(learned);
      await expect(service().db.query(`SELECT status, source FROM connections`)).resolves.toEqual([{ status: 'active', source: 'env' }]);
    });
  });
});

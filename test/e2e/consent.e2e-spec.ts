import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axios from 'axios';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toE164 } from '../../connectors/_sdk/phone';
import { startHubspotFake, type HubspotFake } from '../../connectors/hubspot/test/hubspot.fake-server';
import { DEFAULT_START_CONFIRMATION, DEFAULT_STOP_CONFIRMATION } from '../../src/consent/consent.constants';
import { WhatsAppSender } from '../../src/whatsapp/outbound/whatsapp-sender.service';
import type { OutboundRequest } from '../../src/whatsapp/outbound/outbound.types';
import { aStatusWebhook, aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { type MetaGraphFake, startMetaGraphFake } from '../fakes/meta-graph.fake-server';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { allowFakes, eventually, startTestService, TEST_ADMIN_KEY, TEST_APP_SECRET, type TestService } from '../setup/test-service';

const api = axios.create({ validateStatus: () => true, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });

/**
 * A pass-through in front of the fake Meta that can hold the answer to a send after Meta has
 * accepted it: the moment in which WhatsApp's status webhooks can overtake the send's answer.
 */
async function startHoldingRelay(targetUrl: string): Promise<{ url: string; holdNextSend(): () => void; close(): Promise<void> }> {
  let hold: Promise<void> | null = null;
  const target = new URL(targetUrl);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer: IncomingMessage) => {
          const body: Buffer[] = [];
          answer.on('data', (c: Buffer) => body.push(c));
          answer.on('end', () => {
            const isSend = req.method === 'POST' && /\/messages$/.test(req.url ?? '');
            const gate = isSend && hold ? hold : Promise.resolve();
            if (isSend) hold = null;
            void gate.then(() => {
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              res.end(Buffer.concat(body));
            });
          });
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    holdNextSend() {
      let release!: () => void;
      hold = new Promise<void>((r) => (release = r));
      return release;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Consent on Postgres + Redis: keywords, the ledger and its API, the send-time gate, the sender, CRM fan-out. */
describe('consent and the WhatsApp sender', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let meta: MetaGraphFake;
  let relay: Awaited<ReturnType<typeof startHoldingRelay>>;
  let hubspot: HubspotFake;
  let service: TestService;
  let sender: WhatsAppSender;

  const webhook = (payload: object | string) => postMetaWebhook(`${service.url}/webhooks/whatsapp`, payload, TEST_APP_SECRET);
  /** The customer writes to the business: stored by us, and the fake Meta opens its 24-hour window. */
  const customerWrites = async (waId: string, text: string, wamid = nextWamid(waId)) => {
    meta.recordInbound(waId);
    const res = await webhook(aTextMessageWebhook({ waId, wamid, text }));
    expect(res.status).toBe(200);
    return wamid;
  };
  const contactId = async (waId: string): Promise<string> =>
    eventually(async () => (await service.db.query(`SELECT id FROM contacts WHERE wa_id = $1`, [waId]))[0]?.id as string | undefined, `contact ${waId}`);
  const consentEvents = (id: string) =>
    service.db.query(`SELECT action, scope, source, evidence_message_id, evidence_text, actor FROM consent_events WHERE contact_id = $1 ORDER BY occurred_at, seq`, [id]);
  /** No consent, keyword or send work left (retries included). */
  const settled = (what: string, timeoutMs = 20_000) =>
    eventually(
      async () =>
        Number(
          (
            await service.db.query(
              `SELECT count(*) FROM outbox WHERE queue IN ('consent-keyword', 'consent-sync', 'whatsapp-outbound') AND status IN ('pending', 'running')`,
            )
          )[0].count,
        ) === 0,
      what,
      timeoutMs,
    );
  const sentTo = (waId: string) => meta.sent.filter((m) => m.waId === waId);
  const messageRequests = () => meta.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/messages')).length;
  const send = (request: Partial<OutboundRequest> & Pick<OutboundRequest, 'contactId' | 'category'>) =>
    sender.send({ origin: 'api', author: 'test', idempotencyKey: `test:${Math.random()}`, ...request });

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    meta = await startMetaGraphFake({ accessToken: 'test-token', enforceWindow: true });
    relay = await startHoldingRelay(meta.url);
    hubspot = await startHubspotFake({ accessTokens: ['hubspot-consent-token'] });
    service = await startTestService({ DATABASE_URL: database.url, REDIS_URL: redis.url, WHATSAPP_API_URL: relay.url, CONNECTOR_TIMEOUT_MS: '3000', EGRESS_ALLOW: allowFakes(relay, hubspot) });
    sender = service.app.get(WhatsAppSender, { strict: false });
  });

  afterAll(async () => {
    await service?.stop();
    await hubspot?.close();
    await relay?.close();
    await meta?.close();
    await redis?.close();
    await database?.drop();
  });

  describe('keywords', () => {
    it.each([
      ['EN', '4915300000001', 'STOP'],
      ['PL', '4915300000002', ' Wypisz '],
      ['DE', '4915300000003', 'stopp!'],
      ['FR', '4915300000004', 'Arrêt'],
      ['ES', '4915300000005', 'baja'],
      ['PT', '4915300000006', 'PARAR'],
      ['IT', '4915300000007', 'annulla.'],
    ])('%s: %s writes %j → opted out of marketing, with exactly one confirmation', async (_language, waId, text) => {
      const wamid = await customerWrites(waId, text);
      const id = await contactId(waId);
      await eventually(async () => sentTo(waId).length === 1, 'the confirmation reached Meta');
      await settled('keyword handled');

      await expect(consentEvents(id)).resolves.toEqual([
        { action: 'opt_out', scope: 'marketing', source: 'keyword', evidence_message_id: wamid, evidence_text: text, actor: 'customer' },
      ]);
      const res = await api.get(`${service.url}/api/v1/contacts/${id}/consent`);
      expect(res.status).toBe(200);
      expect(res.data.state.marketing).toMatchObject({ status: 'opted_out', source: 'keyword' });
      expect(res.data.state.transactional.status).toBe('unknown');

      const [confirmation] = sentTo(waId);
      expect(sentTo(waId)).toHaveLength(1);
      expect(confirmation.type).toBe('text');
      expect(confirmation.body).toMatchObject({ text: { body: DEFAULT_STOP_CONFIRMATION }, context: { message_id: wamid } });
      const [stored] = await service.db.query(`SELECT wamid, status, category, origin, author, direction FROM messages WHERE contact_id = $1 AND direction = 'outbound'`, [id]);
      expect(stored).toEqual({ wamid: confirmation.wamid, status: 'pending', category: 'service', origin: 'consent', author: 'threadbridge', direction: 'outbound' });
      // The STOP itself is kept as a customer message like any other.
      await expect(service.db.query(`SELECT body FROM messages WHERE wamid = $1`, [wamid])).resolves.toEqual([{ body: text }]);
      expect(meta.specViolations).toEqual([]);
    });

    it('records one event and sends one confirmation when Meta delivers the same STOP several times', async () => {
      const waId = '4915300000010';
      meta.recordInbound(waId);
      const wamid = nextWamid(waId);
      const payload = JSON.stringify(aTextMessageWebhook({ waId, wamid, text: 'STOP' }));
      const answers = await Promise.all([webhook(payload), webhook(payload), webhook(payload)]);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      await eventually(async () => sentTo(waId).length > 0, 'a confirmation');
      expect((await webhook(payload)).status).toBe(200); // again, after the first was handled
      await settled('duplicates handled');
      await new Promise((r) => setTimeout(r, 500));

      expect(sentTo(waId)).toHaveLength(1);
      await expect(consentEvents(await contactId(waId))).resolves.toHaveLength(1);
      await expect(service.db.query(`SELECT count(*)::int AS n FROM outbox WHERE queue = 'consent-keyword'  AND dedupe_key = $1`, [`keyword:${wamid}`])).resolves.toEqual([{ n: 1 }]);
    });

    it('START opts back in and is confirmed', async () => {
      const waId = '4915300000011';
      await customerWrites(waId, 'stop');
      await eventually(async () => sentTo(waId).length === 1, 'stop confirmed');
      const startWamid = await customerWrites(waId, ' Start ');
      await eventually(async () => sentTo(waId).length === 2, 'start confirmed');
      await settled('start handled');

      const id = await contactId(waId);
      await expect(consentEvents(id)).resolves.toMatchObject([{ action: 'opt_out' }, { action: 'opt_in', evidence_message_id: startWamid, source: 'keyword' }]);
      const res = await api.get(`${service.url}/api/v1/contacts/${id}/consent`);
      expect(res.data.state.marketing).toMatchObject({ status: 'opted_in', source: 'keyword' });
      expect(sentTo(waId).map((m) => (m.body.text as { body: string }).body)).toEqual([DEFAULT_STOP_CONFIRMATION, DEFAULT_START_CONFIRMATION]);
      expect(meta.specViolations).toEqual([]);
    });

    it('takes a sentence that mentions stop for a message, not a keyword', async () => {
      const waId = '4915300000012';
      await customerWrites(waId, 'stop the delivery please');
      const id = await contactId(waId);
      await settled('nothing to do');
      await expect(consentEvents(id)).resolves.toEqual([]);
      await expect(
        service.db.query(`SELECT count(*)::int AS n FROM outbox o JOIN messages m ON m.id = o.message_id WHERE o.queue = 'consent-keyword' AND m.contact_id = $1`, [id]),
      ).resolves.toEqual([{ n: 0 }]);
      expect(sentTo(waId)).toEqual([]);
      await expect(service.db.query(`SELECT body FROM messages WHERE contact_id = $1`, [id])).resolves.toEqual([{ body: 'stop the delivery please' }]);
    });
  });

  describe('the send-time gate', () => {
    it('refuses marketing to an opted-out contact before any call to Meta, and records why', async () => {
      const waId = '4915300000020';
      await customerWrites(waId, 'STOP');
      const id = await contactId(waId);
      await eventually(async () => sentTo(waId).length === 1, 'stop confirmed');
      await settled('stop handled');
      const calls = messageRequests();

      const result = await send({ contactId: id, category: 'marketing', template: { name: 'spring_sale', language: 'en', parameters: ['20%'] } });
      expect(result).toEqual({ status: 'refused', reason: 'marketing_opted_out', detail: expect.stringContaining('opted out') });
      await new Promise((r) => setTimeout(r, 300));
      expect(messageRequests()).toBe(calls);
      await expect(service.db.query(`SELECT reason, category, is_template FROM outbound_refusals WHERE contact_id = $1`, [id])).resolves.toEqual([
        { reason: 'marketing_opted_out', category: 'marketing', is_template: true },
      ]);
      await expect(service.db.query(`SELECT count(*)::int AS n FROM messages WHERE contact_id = $1 AND category = 'marketing'`, [id])).resolves.toEqual([{ n: 0 }]);
    });

    it('sends marketing only after an opt-in recorded with evidence through the API', async () => {
      const waId = '4915300000021';
      await customerWrites(waId, 'Hi, do you ship to Porto?');
      const id = await contactId(waId);
      await expect(send({ contactId: id, category: 'marketing', template: { name: 'spring_sale', language: 'pt_PT', parameters: ['20%'] } })).resolves.toMatchObject({
        status: 'refused',
        reason: 'no_marketing_opt_in',
      });

      const created = await api.post(`${service.url}/api/v1/contacts/${id}/consent`, {
        action: 'opt_in',
        scope: 'marketing',
        source: 'form',
        evidence: 'Ticked "WhatsApp offers" on the checkout form (v3)',
        actor: 'checkout-form',
      });
      expect(created.status).toBe(201);
      expect(created.data).toMatchObject({ contactId: id, event: { action: 'opt_in', scope: 'marketing', source: 'form' }, state: { marketing: { status: 'opted_in', source: 'form' } } });

      const ledger = await api.get(`${service.url}/api/v1/contacts/${id}/consent`);
      expect(ledger.status).toBe(200);
      expect(ledger.data.events).toEqual([
        expect.objectContaining({ action: 'opt_in', scope: 'marketing', source: 'form', evidenceText: 'Ticked "WhatsApp offers" on the checkout form (v3)', actor: 'checkout-form' }),
      ]);

      const result = await send({ contactId: id, category: 'marketing', template: { name: 'spring_sale', language: 'pt_PT', parameters: ['20%'] } });
      expect(result).toMatchObject({ status: 'queued', duplicate: false });
      await eventually(async () => sentTo(waId).length === 1, 'the marketing template reached Meta');
      expect(sentTo(waId)[0]).toMatchObject({ type: 'template', body: { template: { name: 'spring_sale', language: { code: 'pt_PT' } } } });
      expect(meta.specViolations).toEqual([]);
    });

    it('sends a service reply inside the 24-hour window; outside it only a template', async () => {
      const waId = '4915300000022';
      await customerWrites(waId, 'Where is my parcel?');
      const id = await contactId(waId);

      await expect(send({ contactId: id, category: 'service', text: 'It left our warehouse today.' })).resolves.toMatchObject({ status: 'queued' });
      await eventually(async () => sentTo(waId).length === 1, 'the reply inside the window');

      await service.db.query(`UPDATE conversations SET last_inbound_at = last_inbound_at - interval '25 hours' WHERE contact_id = $1`, [id]);
      const calls = messageRequests();
      await expect(send({ contactId: id, category: 'service', text: 'Anything else?' })).resolves.toEqual({
        status: 'refused',
        reason: 'outside_service_window',
        detail: expect.stringContaining('24 hours'),
      });
      expect(messageRequests()).toBe(calls);

      await expect(send({ contactId: id, category: 'service', template: { name: 'follow_up', language: 'en', parameters: [] } })).resolves.toMatchObject({ status: 'queued' });
      await eventually(async () => sentTo(waId).length === 2, 'the template outside the window');
      expect(sentTo(waId).map((m) => m.type)).toEqual(['text', 'template']);
      expect(meta.specViolations).toEqual([]);
    });

    it('refuses transactional templates to a contact who opted out of them', async () => {
      const waId = '4915300000023';
      await customerWrites(waId, 'Please no more order updates here');
      const id = await contactId(waId);
      const res = await api.post(`${service.url}/api/v1/contacts/${id}/consent`, { action: 'opt_out', scope: 'transactional', actor: 'support-agent' });
      expect(res.status).toBe(201);
      expect(res.data.state.transactional.status).toBe('opted_out');
      await expect(send({ contactId: id, category: 'utility', template: { name: 'order_update', language: 'en', parameters: ['4711'] } })).resolves.toMatchObject({
        status: 'refused',
        reason: 'transactional_opted_out',
      });
    });
  });

  describe('the sender', () => {
    it('sends nothing twice for a replayed idempotency key', async () => {
      const waId = '4915300000030';
      await customerWrites(waId, 'Can you confirm my booking?');
      const id = await contactId(waId);
      const request = { contactId: id, category: 'service' as const, text: 'Confirmed for Friday.', idempotencyKey: 'crm-reply:778899' };
      const [a, b] = await Promise.all([send(request), send(request)]);
      const c = await send(request);
      expect(a.status === 'queued' && b.status === 'queued' && c.status === 'queued').toBe(true);
      const ids = [a, b, c].map((r) => (r.status === 'queued' ? r.messageId : null));
      expect(new Set(ids).size).toBe(1);
      await eventually(async () => sentTo(waId).length === 1, 'sent once');
      await settled('send finished');
      expect(sentTo(waId)).toHaveLength(1);
      await expect(send(request)).resolves.toEqual({ status: 'queued', messageId: ids[0], duplicate: true });
    });

    it('delivers messages to one customer in the order they were requested', async () => {
      const waId = '4915300000031';
      await customerWrites(waId, 'Tell me everything');
      const id = await contactId(waId);
      const texts = ['one', 'two', 'three', 'four', 'five', 'six'];
      for (const text of texts) await send({ contactId: id, category: 'service', text });
      await eventually(async () => sentTo(waId).length === texts.length, 'all sent');
      expect(sentTo(waId).map((m) => (m.body.text as { body: string }).body)).toEqual(texts);
    });

    it('retries a 131056 pair-rate-limit refusal later and delivers the message', async () => {
      const waId = '4915300000032';
      await customerWrites(waId, 'Hello?');
      const id = await contactId(waId);
      meta.failNext(1, { status: 400, code: 131056, title: '(Business Account, Consumer Account) pair rate limit hit', route: 'messages' });
      const before = meta.requests.length;
      const result = await send({ contactId: id, category: 'service', text: 'Hello! How can we help?' });
      expect(result.status).toBe('queued');
      const messageId = result.status === 'queued' ? result.messageId : '';

      await eventually(async () => sentTo(waId).length === 1, 'delivered after the pair limit', 30_000);
      const attempts = meta.requests.slice(before).filter((r) => r.path.endsWith('/messages'));
      expect(attempts.map((r) => r.status)).toEqual([400, 200]);
      expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(5_500);
      // Meta's wamid replaces the placeholder once the sender has its answer (a moment after Meta logged the call).
      await eventually(async () => (await service.db.query(`SELECT wamid FROM messages WHERE id = $1`, [messageId]))[0]?.wamid === sentTo(waId)[0].wamid, 'the wamid stored');
    }, 40_000);

    it('marks a message failed, without retrying, when Meta answers 131047', async () => {
      const waId = '4915300000033';
      await customerWrites(waId, 'Hi');
      const id = await contactId(waId);
      meta.failNext(1, { status: 400, code: 131047, title: 'Re-engagement message', route: 'messages' });
      const before = messageRequests();
      const result = await send({ contactId: id, category: 'service', text: 'Sorry for the wait' });
      const messageId = result.status === 'queued' ? result.messageId : '';
      await settled('the send gave up');
      await expect(service.db.query(`SELECT status, error_code FROM messages WHERE id = $1`, [messageId])).resolves.toEqual([{ status: 'failed', error_code: 131047 }]);
      await expect(service.db.query(`SELECT status FROM outbox WHERE message_id = $1 AND queue = 'whatsapp-outbound'`, [messageId])).resolves.toEqual([{ status: 'dead' }]);
      expect(messageRequests() - before).toBe(1);
      expect(sentTo(waId)).toEqual([]);
    });

    it('applies statuses that arrived before the wamid of the send was stored', async () => {
      const waId = '4915300000034';
      await customerWrites(waId, 'Is it in stock?');
      const id = await contactId(waId);
      const release = relay.holdNextSend();
      const result = await send({ contactId: id, category: 'service', text: 'Yes, 3 left.' });
      const messageId = result.status === 'queued' ? result.messageId : '';

      // Meta accepted the send; its answer (with the wamid) has not reached us yet, its statuses do.
      const [accepted] = await eventually(async () => (sentTo(waId).length === 1 ? sentTo(waId) : undefined), 'Meta accepted the send');
      const start = new Date();
      for (const status of ['sent', 'delivered'] as const) {
        const res = await webhook(aStatusWebhook({ wamid: accepted.wamid, status, recipientId: waId, timestamp: new Date(start.getTime() + (status === 'sent' ? 0 : 1000)) }));
        expect(res.status).toBe(200);
      }
      await expect(service.db.query(`SELECT wamid, status FROM messages WHERE id = $1`, [messageId])).resolves.toEqual([{ wamid: `pending:${messageId}`, status: 'pending' }]);
      release();

      await eventually(
        async () => (await service.db.query(`SELECT status FROM messages WHERE id = $1 AND wamid = $2`, [messageId, accepted.wamid]))[0]?.status === 'delivered',
        'the early statuses applied',
      );
    });
  });

  describe('consent API', () => {
    it('answers 404 for an unknown contact and 400 for an opt-in without evidence', async () => {
      for (const id of ['0b8b7e0f-6a11-4c0e-9d51-5b0f3c528a4e', 'not-a-contact']) {
        expect((await api.get(`${service.url}/api/v1/contacts/${id}/consent`)).status).toBe(404);
        expect((await api.post(`${service.url}/api/v1/contacts/${id}/consent`, { action: 'opt_out', scope: 'marketing' })).status).toBe(404);
      }
      const waId = '4915300000040';
      await customerWrites(waId, 'hello');
      const id = await contactId(waId);
      const res = await api.post(`${service.url}/api/v1/contacts/${id}/consent`, { action: 'opt_in', scope: 'marketing', source: 'form' });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.data.message)).toContain('evidence');
      expect((await api.post(`${service.url}/api/v1/contacts/${id}/consent`, { action: 'opt_in', scope: 'marketing', evidence: 'x', source: 'keyword' })).status).toBe(400);
      await expect(consentEvents(id)).resolves.toEqual([]);
    });
  });

  describe('CRM fan-out', () => {
    it("writes consent changes onto the HubSpot contact's property, and the STOP still reaches HubSpot as a message", async () => {
      const created = await api.post(`${service.url}/api/v1/connections`, {
        connectorId: 'hubspot',
        name: 'HubSpot consent',
        credentials: { accessToken: 'hubspot-consent-token', baseUrl: hubspot.url },
        settings: { tickets: { enabled: false } },
      });
      expect(created.status).toBe(201);
      const contactOf = (e164: string) =>
        hubspot.contacts().filter((c) => ['phone', 'mobilephone', 'hs_whatsapp_phone_number'].some((f) => c.properties[f] && toE164(c.properties[f], 'DE') === e164));

      const waId = '4915300000050';
      await customerWrites(waId, 'STOPP');
      await eventually(async () => contactOf(`+${waId}`)[0]?.properties.whatsapp_marketing_consent === 'opted_out', 'HubSpot holds the opt-out', 30_000);
      expect(contactOf(`+${waId}`)).toHaveLength(1);
      const [contact] = contactOf(`+${waId}`);
      await eventually(
        async () => hubspot.communications().some((c) => hubspot.associations('communications', c.id).some((a) => a.toId === contact.id) && c.properties.hs_communication_body.includes('STOPP')),
        'the STOP message synced as a communication',
        30_000,
      );

      const id = await contactId(waId);
      const optIn = await api.post(`${service.url}/api/v1/contacts/${id}/consent`, { action: 'opt_in', scope: 'marketing', evidence: 'Asked on the phone to get offers again', actor: 'jane' });
      expect(optIn.status).toBe(201);
      await eventually(async () => hubspot.object('contacts', contact.id)?.properties.whatsapp_marketing_consent === 'opted_in', 'HubSpot holds the opt-in', 30_000);
      await settled('consent synced');
      await expect(service.db.query(`SELECT status, count(*)::int AS n FROM outbox WHERE queue = 'consent-sync' GROUP BY status`)).resolves.toEqual([{ status: 'done', n: 2 }]);
      expect(meta.specViolations).toEqual([]);
    }, 60_000);
  });
});

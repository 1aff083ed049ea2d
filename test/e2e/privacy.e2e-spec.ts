import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axios from 'axios';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startHubspotFake, type HubspotFake } from '../../connectors/hubspot/test/hubspot.fake-server';
import { startZendeskFake, type ZendeskFake } from '../../connectors/zendesk/test/zendesk.fake-server';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { RetentionService } from '../../src/privacy/retention.service';
import { MediaStore } from '../../src/common/media-store';
import { anImageMessageWebhook, aStatusWebhook, aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { type MetaGraphFake, startMetaGraphFake } from '../fakes/meta-graph.fake-server';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { allowFakes, eventually, startTestService, TEST_ADMIN_KEY, TEST_APP_SECRET, type TestService } from '../setup/test-service';

const HUBSPOT_TOKEN = 'hubspot-privacy-token';
const DAY_MS = 24 * 60 * 60_000;
/** Tests that sync a customer first: two messages, each waited for. */
const SYNCING_TEST_MS = 90_000;
const api = axios.create({ validateStatus: () => true, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });

interface Receipt {
  target: string;
  targetName: string;
  connectionId: string | null;
  status: string;
  detail: string | null;
  attempts: number;
}

/**
 * Right of access, right to be forgotten and retention, end to end: the real service on Postgres
 * and Redis, a customer synced to a fake HubSpot and a fake Zendesk through the real SDKs.
 */
describe('Privacy: export, erasure, retention', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let meta: MetaGraphFake;
  let hubspot: HubspotFake;
  let zendesk: ZendeskFake;
  let service: TestService;
  let hubspotId: string;
  let zendeskId: string;

  const webhook = (payload: object | string) => postMetaWebhook(`${service.url}/webhooks/whatsapp`, payload, TEST_APP_SECRET);
  const openWork = async () =>
    Number((await service.db.query(`SELECT count(*) FROM outbox WHERE queue IN ('crm-sync', 'media') AND status IN ('pending', 'running')`))[0].count);
  const settled = (what: string) => eventually(async () => (await openWork()) === 0, what, 30_000);
  const contactOf = async (waId: string): Promise<string | undefined> => (await service.db.query(`SELECT id FROM contacts WHERE wa_id = $1`, [waId]))[0]?.id;
  const erasure = async (id: string) => (await api.get(`${service.url}/api/v1/erasures/${id}`)).data as { status: string; receipts: Receipt[] };
  const receiptOf = async (erasureId: string, connectionId: string) => (await erasure(erasureId)).receipts.find((r) => r.connectionId === connectionId)!;

  /** A customer with a text and an image message, synced to both CRMs and with the image stored. */
  async function syncedCustomer(waId: string, name: string) {
    const bytes = randomBytes(2048);
    const { id: mediaId, sha256Base64 } = meta.addMedia(bytes, 'image/jpeg');
    const text = aTextMessageWebhook({ waId, name, wamid: nextWamid(waId), text: `Hello, this is ${name}`, timestamp: new Date(Date.now() - 60_000) });
    const image = anImageMessageWebhook({ waId, name, wamid: nextWamid(waId), mediaId, sha256: sha256Base64, caption: 'my receipt', timestamp: new Date(Date.now() - 30_000) });
    const payloads = [JSON.stringify(text), JSON.stringify(image)];
    // One at a time: each message's sync settles before the next arrives.
    for (const p of payloads) {
      expect((await webhook(p)).status).toBe(200);
      await settled(`${name}'s message synced (and its media stored)`);
    }
    const contactId = (await contactOf(waId))!;
    const links: { connection_id: string; remote_id: string }[] = await service.db.query(
      `SELECT connection_id, remote_id FROM remote_links WHERE entity_type = 'contact' AND local_id = $1`,
      [contactId],
    );
    const remote = Object.fromEntries(links.map((l) => [l.connection_id, l.remote_id]));
    return { contactId, payloads, bytes, hubspotContact: remote[hubspotId], zendeskUser: remote[zendeskId], wamids: [text, image].map((p) => p.entry[0].changes[0].value.messages![0].id) };
  }

  /** Every row of every table (as text) that contains one of `needles`. */
  async function rowsContaining(needles: string[]): Promise<string[]> {
    const tables: { name: string }[] = await service.db.query(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`);
    const found: string[] = [];
    for (const { name } of tables) {
      const rows: { row: string }[] = await service.db.query(`SELECT t::text AS row FROM "${name}" t`);
      for (const { row } of rows) if (needles.some((n) => row.includes(n))) found.push(`${name}: ${row}`);
    }
    return found;
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    meta = await startMetaGraphFake({ accessToken: 'test-token' });
    hubspot = await startHubspotFake({ accessTokens: [HUBSPOT_TOKEN] });
    zendesk = await startZendeskFake();
    service = await startTestService({
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      WHATSAPP_API_URL: meta.url,
      CONNECTOR_TIMEOUT_MS: '3000',
      RETENTION_DAYS: '365',
      EGRESS_ALLOW: allowFakes(meta, hubspot, zendesk),
    });
    const hs = await api.post(`${service.url}/api/v1/connections`, {
      connectorId: 'hubspot',
      name: 'HubSpot sales',
      credentials: { accessToken: HUBSPOT_TOKEN, baseUrl: hubspot.url },
      settings: { tickets: { enabled: true } },
    });
    expect(hs.status).toBe(201);
    hubspotId = hs.data.id;
    const zd = await api.post(`${service.url}/api/v1/connections`, { connectorId: 'zendesk', name: 'Zendesk support', credentials: zendesk.credentials() });
    expect(zd.status).toBe(201);
    zendeskId = zd.data.id;
  });

  afterAll(async () => {
    await service?.stop();
    await zendesk?.close();
    await hubspot?.close();
    await meta?.close();
    await redis?.close();
    await database?.drop();
  });

  describe('export and erasure of a synced customer', () => {
    const waId = '4915211110001';
    let customer: Awaited<ReturnType<typeof syncedCustomer>>;

    let outboundWamid: string;

    beforeAll(async () => {
      customer = await syncedCustomer(waId, 'Greta Berg');
      // An answer we sent (written as the outbound sender stores it) and Meta's delivery status for it.
      outboundWamid = nextWamid(waId, 'outbound');
      await service.db.query(
        `INSERT INTO messages (wamid, conversation_id, contact_id, direction, type, body, wa_timestamp, status, status_rank, origin, author)
         SELECT $1, id, contact_id, 'outbound', 'text', 'Your parcel left today', now() - interval '10 seconds', 'sent', 1, 'api', 'Agent Smith'
         FROM conversations WHERE contact_id = $2`,
        [outboundWamid, customer.contactId],
      );
      expect((await webhook(aStatusWebhook({ wamid: outboundWamid, status: 'delivered', recipientId: waId }))).status).toBe(200);
      // A fragment of a delivery that could not be understood (a message without its id) names the customer too.
      const broken = aTextMessageWebhook({ waId, text: 'lost words' });
      delete (broken.entry[0].changes[0].value.messages![0] as { id?: string }).id;
      expect((await webhook(broken)).status).toBe(200);
      expect((await service.db.query(`SELECT count(*)::int AS n FROM quarantine WHERE payload LIKE $1`, [`%${waId}%`]))[0].n).toBe(1);
    }, SYNCING_TEST_MS);

    it('exports the contact, its conversation with every message in order, its remote links and downloadable media', async () => {
      const res = await api.get(`${service.url}/api/v1/contacts/${customer.contactId}/export`);
      expect(res.status).toBe(200);
      const doc = res.data;
      expect(doc.contact).toMatchObject({ id: customer.contactId, waId, phone: `+${waId}`, profileName: 'Greta Berg' });
      expect(doc.conversations).toHaveLength(1);
      const messages = doc.conversations[0].messages;
      expect(messages.map((m: { wamid: string }) => m.wamid)).toEqual([...customer.wamids, outboundWamid]);
      expect(messages[0]).toMatchObject({ type: 'text', body: 'Hello, this is Greta Berg', direction: 'inbound', media: null });
      expect(messages[1]).toMatchObject({ type: 'image', media: { mimeType: 'image/jpeg', caption: 'my receipt', status: 'stored', sizeBytes: 2048 } });
      expect(messages[2]).toMatchObject({ direction: 'outbound', body: 'Your parcel left today', author: 'Agent Smith', status: 'delivered' });
      expect(messages[2].statusHistory.map((h: { status: string }) => h.status)).toEqual(['delivered']);
      expect(doc.consent).toEqual([]);

      const kinds = (connectionId: string) =>
        doc.remoteLinks.filter((l: { connectionId: string }) => l.connectionId === connectionId).map((l: { kind: string }) => l.kind).sort();
      expect(kinds(hubspotId)).toEqual(['contact', 'message', 'message', 'ticket']);
      expect(doc.remoteLinks.find((l: { connectionId: string; kind: string }) => l.connectionId === hubspotId && l.kind === 'contact')).toMatchObject({
        connectionName: 'HubSpot sales',
        remoteId: customer.hubspotContact,
        localId: customer.contactId,
      });
      expect(kinds(zendeskId)).toContain('contact');
      expect(kinds(zendeskId)).toContain('ticket');

      const download = await api.get(`${service.url}${messages[1].media.downloadUrl}`, { responseType: 'arraybuffer' });
      expect(download.status).toBe(200);
      expect(download.headers['content-type']).toBe('image/jpeg');
      expect(Buffer.from(download.data).equals(customer.bytes)).toBe(true);
    });

    it('answers 404 for an unknown contact, a message without media and an unknown message, and 401 without a key', async () => {
      expect((await api.get(`${service.url}/api/v1/contacts/${randomUUID()}/export`)).status).toBe(404);
      expect((await api.get(`${service.url}/api/v1/contacts/not-a-uuid/export`)).status).toBe(404);
      const [text] = await service.db.query(`SELECT id FROM messages WHERE wamid = $1`, [customer.wamids[0]]);
      expect((await api.get(`${service.url}/api/v1/media/${text.id}`)).status).toBe(404);
      expect((await api.get(`${service.url}/api/v1/media/${randomUUID()}`)).status).toBe(404);
      expect((await axios.get(`${service.url}/api/v1/contacts/${customer.contactId}/export`, { validateStatus: () => true })).status).toBe(401);
    });

    it('erases the customer here at once and in HubSpot and Zendesk, with a receipt per system', async () => {
      const messageIds: string[] = (await service.db.query(`SELECT id FROM messages WHERE contact_id = $1`, [customer.contactId])).map((r: { id: string }) => r.id);
      const conversationIds: string[] = (await service.db.query(`SELECT id FROM conversations WHERE contact_id = $1`, [customer.contactId])).map((r: { id: string }) => r.id);
      const [image] = await service.db.query(`SELECT media->>'storageKey' AS key FROM messages WHERE wamid = $1`, [customer.wamids[1]]);
      const mediaDir = service.app.get<AppConfig>(APP_CONFIG).media.dir;
      const file = path.join(mediaDir, image.key.slice(0, 2), image.key);
      expect(fs.existsSync(file)).toBe(true);

      const res = await api.delete(`${service.url}/api/v1/contacts/${customer.contactId}`);
      expect(res.status).toBe(202);
      expect(res.headers.location).toBe(`/api/v1/erasures/${res.data.id}`);
      expect(res.data.receipts.find((r: Receipt) => r.target === 'local')).toMatchObject({ status: 'done' });
      expect(res.data.receipts.filter((r: Receipt) => r.target === 'connection').map((r: Receipt) => r.targetName).sort()).toEqual(['HubSpot sales', 'Zendesk support']);
      expect(res.data.erased).toMatchObject({ messages: 3, conversations: 1, mediaFiles: 1, statusEvents: 1, consentEvents: 0 });

      // Nothing left here: no row names the customer, their messages or their conversations, but
      // the erasure's own fan-out tasks (until each CRM answered) and the audit log (which names
      // the media file downloaded above by its message id).
      const personal = [waId, 'Greta Berg', 'Hello, this is', 'my receipt', 'Your parcel', 'lost words', ...customer.wamids, outboundWamid, ...conversationIds, image.key];
      expect((await rowsContaining(personal)).filter((row) => !/^outbox: .*privacy/.test(row))).toEqual([]);
      expect((await rowsContaining(messageIds)).filter((row) => !row.startsWith('audit_log: '))).toEqual([]);
      // The contact's former id stays only in the erasure's record, its tasks and the audit log.
      const [requestRow] = await service.db.query(`SELECT contact_id FROM erasure_requests WHERE id = $1`, [res.data.id]);
      expect(requestRow.contact_id).toBe(customer.contactId);
      expect((await rowsContaining([customer.contactId])).filter((row) => !/^(erasure_requests|audit_log): |^outbox: .*privacy/.test(row))).toEqual([]);
      // …and the file is gone.
      expect(fs.existsSync(file)).toBe(false);
      expect((await api.get(`${service.url}/api/v1/contacts/${customer.contactId}/export`)).status).toBe(404);

      await eventually(async () => (await erasure(res.data.id)).status === 'done', 'both CRMs erased the customer');
      const done = await erasure(res.data.id);
      expect(done.receipts.map((r) => [r.targetName, r.status])).toEqual([
        ['local', 'done'],
        ['HubSpot sales', 'done'],
        ['Zendesk support', 'done'],
      ]);
      expect(hubspot.gdprDeleted()).toContain(customer.hubspotContact);
      expect(hubspot.contacts().some((c) => c.id === customer.hubspotContact)).toBe(false);
      expect(zendesk.user(customer.zendeskUser)).toBeUndefined();
      expect(zendesk.requestsTo('DELETE', `/deleted_users/${customer.zendeskUser}`)).toHaveLength(1);
      // Once settled, the tasks no longer carry the customer's number either.
      expect(await rowsContaining(personal)).toEqual([]);
      // Erasing again: the contact is unknown.
      expect((await api.delete(`${service.url}/api/v1/contacts/${customer.contactId}`)).status).toBe(404);
    });

    it('does not bring erased messages back when Meta delivers the old webhooks again, but stores a new message as a new customer', async () => {
      for (const payload of customer.payloads) expect((await webhook(payload)).status).toBe(200);
      expect((await webhook(aStatusWebhook({ wamid: outboundWamid, status: 'read', recipientId: waId }))).status).toBe(200);
      await expect(contactOf(waId)).resolves.toBeUndefined();
      await expect(service.db.query(`SELECT id FROM messages WHERE wamid = ANY($1)`, [customer.wamids])).resolves.toEqual([]);
      expect(await rowsContaining([waId, outboundWamid, ...customer.wamids])).toEqual([]);

      const fresh = aTextMessageWebhook({ waId, name: 'Greta Berg', wamid: nextWamid(waId), text: 'Hi again' });
      expect((await webhook(fresh)).status).toBe(200);
      const newId = await contactOf(waId);
      expect(newId).toBeDefined();
      expect(newId).not.toBe(customer.contactId);
      await settled('the new message synced');
    });
  });

  it('keeps a receipt pending while HubSpot fails, then done after a retry; a refusal fails its receipt until replayed', async () => {
    const customer = await syncedCustomer('4915211110002', 'Hans Vogel');
    hubspot.clearRequests();
    hubspot.failNext(503);
    hubspot.failNext(503);
    zendesk.failNext(422, { path: /^\/users\/\d+$/, method: 'DELETE' });
    const res = await api.delete(`${service.url}/api/v1/contacts/${customer.contactId}`);
    expect(res.status).toBe(202);

    const pending = await eventually(async () => {
      const r = await receiptOf(res.data.id, hubspotId);
      return r.status === 'pending' && r.attempts >= 1 ? r : undefined;
    }, 'the HubSpot receipt pending after a 503');
    expect(pending.detail).toMatch(/^HubSpot sales could not be reached .*trying again$/);

    await eventually(async () => (await receiptOf(res.data.id, hubspotId)).status === 'done', 'HubSpot erased after the retry');
    expect((await receiptOf(res.data.id, hubspotId)).attempts).toBeGreaterThanOrEqual(2);
    expect(hubspot.gdprDeleted()).toContain(customer.hubspotContact);
    expect(hubspot.requests().filter((r) => r.path === '/crm/v3/objects/contacts/gdpr-delete').map((r) => r.status)).toEqual([503, 503, 204]);

    const failed = await eventually(async () => {
      const r = await receiptOf(res.data.id, zendeskId);
      return r.status === 'failed' ? r : undefined;
    }, 'the Zendesk receipt failed');
    expect(failed.detail).toMatch(/^Zendesk support refused the erasure: .*422/);
    expect((await erasure(res.data.id)).status).toBe('incomplete');
    expect(zendesk.user(customer.zendeskUser)).toBeDefined();

    const dead = (await api.get(`${service.url}/api/v1/dead-letters`, { params: { connectionId: zendeskId } })).data.data.find((d: { queue: string }) => d.queue === 'privacy');
    expect(dead).toBeDefined();
    expect((await api.post(`${service.url}/api/v1/dead-letters/${dead.id}/replay`)).status).toBeLessThan(300);
    await eventually(async () => (await erasure(res.data.id)).status === 'done', 'Zendesk erased after the replay');
    expect(zendesk.user(customer.zendeskUser)).toBeUndefined();
  }, SYNCING_TEST_MS);

  it('keeps a receipt pending while HubSpot refuses the credentials, and erases once they are fixed', async () => {
    const customer = await syncedCustomer('4915211110005', 'Ida Lund');
    hubspot.failNext(401);
    const res = await api.delete(`${service.url}/api/v1/contacts/${customer.contactId}`);
    expect(res.status).toBe(202);
    const waiting = await eventually(async () => {
      const r = await receiptOf(res.data.id, hubspotId);
      return r.status === 'pending' && r.detail?.startsWith('waiting for new credentials for HubSpot sales') ? r : undefined;
    }, 'the HubSpot receipt waiting for credentials');
    expect(waiting.attempts).toBe(1);
    expect((await api.get(`${service.url}/api/v1/connections/${hubspotId}`)).data.status).toBe('needs_reauth');
    expect(hubspot.gdprDeleted()).not.toContain(customer.hubspotContact);

    const fixed = await api.patch(`${service.url}/api/v1/connections/${hubspotId}`, { credentials: { accessToken: HUBSPOT_TOKEN, baseUrl: hubspot.url } });
    expect(fixed.data.status).toBe('active');
    await eventually(async () => (await erasure(res.data.id)).status === 'done', 'erased once the credentials were fixed');
    expect(hubspot.gdprDeleted()).toContain(customer.hubspotContact);
  }, SYNCING_TEST_MS);

  it('answers not_found for each system that never received the customer, and never creates one to delete it', async () => {
    const [row] = await service.db.query(`INSERT INTO contacts (wa_id, e164, profile_name) VALUES ('4915211110003', '+4915211110003', 'Never Synced') RETURNING id`);
    const hubspotContacts = hubspot.contacts().length;
    const zendeskUsers = zendesk.users().length;
    const res = await api.delete(`${service.url}/api/v1/contacts/${row.id}`);
    expect(res.status).toBe(202);
    await eventually(async () => (await erasure(res.data.id)).status === 'done', 'both receipts settled');
    const { receipts } = await erasure(res.data.id);
    expect(receipts.filter((r) => r.target === 'connection').map((r) => [r.status, r.detail])).toEqual([
      ['not_found', 'no record of this customer was synced to HubSpot sales'],
      ['not_found', 'no record of this customer was synced to Zendesk support'],
    ]);
    expect(hubspot.contacts()).toHaveLength(hubspotContacts);
    expect(zendesk.users()).toHaveLength(zendeskUsers);
    await expect(api.get(`${service.url}/api/v1/erasures/${randomUUID()}`).then((r) => r.status)).resolves.toBe(404);
  });

  it('removes exactly the messages and media older than RETENTION_DAYS, and sync records past a connection override; keeps counts', async () => {
    const now = Date.now();
    const daysAgo = (d: number) => new Date(now - d * DAY_MS);
    const [contact] = await service.db.query(`INSERT INTO contacts (wa_id, e164) VALUES ('4915211110004', '+4915211110004') RETURNING id`);
    const conversation = async (openedDaysAgo: number, status: string) =>
      (await service.db.query(
        `INSERT INTO conversations (contact_id, phone_number_id, status, opened_at, last_message_at) VALUES ($1, '106540352242922', $2, $3, $3) RETURNING id`,
        [contact.id, status, daysAgo(openedDaysAgo)],
      ))[0].id as string;
    const oldConversation = await conversation(400, 'closed');
    const mixedConversation = await conversation(380, 'open');
    const bytes = randomBytes(512);
    const key = createHash('sha256').update(bytes).digest('hex');
    await service.app.get(MediaStore).put(key, bytes);
    const message = async (conversationId: string, ageDays: number, media?: object) =>
      (await service.db.query(
        `INSERT INTO messages (wamid, conversation_id, contact_id, direction, type, body, media, media_status, wa_timestamp, status)
         VALUES ($1, $2, $3, 'inbound', $4, 'retention test', $5, $6, $7, 'received') RETURNING id`,
        [nextWamid('4915211110004'), conversationId, contact.id, media ? 'image' : 'text', media ? JSON.stringify(media) : null, media ? 'stored' : 'none', daysAgo(ageDays)],
      ))[0].id as string;
    const old = [await message(oldConversation, 400), await message(oldConversation, 399, { id: '1', mimeType: 'image/png', storageKey: key }), await message(mixedConversation, 380)];
    const kept = await message(mixedConversation, 100);
    await service.db.query(
      `INSERT INTO remote_links (connection_id, entity_type, local_id, remote_id, remote_type, updated_at) VALUES ($1, 'message', $2, 'r-old', 'communication', $3), ($1, 'message', $4, 'r-kept', 'communication', $5)`,
      [hubspotId, old[0], daysAgo(400), kept, daysAgo(40)],
    );
    await service.db.query(`INSERT INTO outbox (queue, kind, dedupe_key, connection_id, status, updated_at) VALUES ('crm-sync', 'message', $1, $2, 'done', $3)`, [
      `retention-test-${randomUUID()}`,
      hubspotId,
      daysAgo(40),
    ]);

    // HubSpot keeps its sync records 30 days; Zendesk follows RETENTION_DAYS (365).
    const patched = await api.patch(`${service.url}/api/v1/connections/${hubspotId}`, { settings: { tickets: { enabled: true }, retentionDays: 30 } });
    expect(patched.status).toBe(200);
    expect(patched.data.settings.retentionDays).toBe(30);
    const refused = await api.patch(`${service.url}/api/v1/connections/${hubspotId}`, { settings: { tickets: { enabled: true }, retentionDays: 0 } });
    expect(refused.status).toBe(400);
    expect(refused.data.problems.join('\n')).toMatch(/settings\.retentionDays/);

    const counts = await service.app.get(RetentionService).run();
    expect(counts).toEqual({ messages: 3, media: 1, conversations: 1, statusEvents: 0, quarantine: 0, syncRecords: 2 });

    await expect(service.db.query(`SELECT id FROM messages WHERE contact_id = $1`, [contact.id])).resolves.toEqual([{ id: kept }]);
    await expect(service.db.query(`SELECT id FROM conversations WHERE contact_id = $1`, [contact.id])).resolves.toEqual([{ id: mixedConversation }]);
    await expect(service.db.query(`SELECT remote_id FROM remote_links WHERE local_id = ANY($1::uuid[])`, [[...old, kept]])).resolves.toEqual([]);
    await expect(service.app.get(MediaStore).exists(key)).resolves.toBe(false);
    await expect(contactOf('4915211110004')).resolves.toBe(contact.id); // contacts stay (an erasure must still reach every CRM)

    const overview = await api.get(`${service.url}/api/v1/retention`);
    expect(overview.status).toBe(200);
    expect(overview.data.retentionDays).toBe(365);
    expect(overview.data.connections).toEqual(
      expect.arrayContaining([
        { id: hubspotId, name: 'HubSpot sales', retentionDays: 30, override: true },
        { id: zendeskId, name: 'Zendesk support', retentionDays: 365, override: false },
      ]),
    );
    expect(overview.data.days[0]).toMatchObject({ day: new Date().toISOString().slice(0, 10), runs: 1, messagesRemoved: 3, mediaRemoved: 1, conversationsRemoved: 1, syncRecordsRemoved: 2 });

    // A second run finds nothing more, and adds to the day's counts.
    await expect(service.app.get(RetentionService).run()).resolves.toEqual({ messages: 0, media: 0, conversations: 0, statusEvents: 0, quarantine: 0, syncRecords: 0 });
    expect((await api.get(`${service.url}/api/v1/retention`)).data.days[0]).toMatchObject({ runs: 2, messagesRemoved: 3 });
  });
});

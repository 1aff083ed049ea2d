import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axios from 'axios';
import { createHash, randomBytes } from 'node:crypto';
import { startHubspotFake, type HubspotFake } from '../../connectors/hubspot/test/hubspot.fake-server';
import { startZendeskFake, type ZendeskFake } from '../../connectors/zendesk/test/zendesk.fake-server';
import { aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';
import { type MetaGraphFake, startMetaGraphFake } from '../fakes/meta-graph.fake-server';
import { postMetaWebhook } from '../fakes/meta-webhook';
import { createTestDatabase, type TestDatabase } from '../setup/test-database';
import { createTestRedis } from '../setup/test-redis';
import { allowFakes, eventually, startTestService, TEST_ADMIN_KEY, TEST_APP_SECRET, type TestService } from '../setup/test-service';

const api = axios.create({ validateStatus: () => true, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
const ZENDESK_SECRET = 'zendesk-media-signing-secret';
const HUBSPOT_TOKEN = 'hubspot-media-token';
const BUSINESS_NUMBER = '+15550783882';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
/** A file of `size` random bytes behind the signature of its type (the fakes never decode it). */
const aFile = (signature: string, size = 2048) => Buffer.concat([Buffer.from(signature, 'binary'), randomBytes(size)]);
const PNG = '\x89PNG\r\n\x1a\n';

/**
 * Files attached to agent replies reach the customer as WhatsApp media, end to end on Postgres +
 * Redis: fetched from the (fake) helpdesk with the connection's credentials, uploaded to the
 * (fake) Cloud API and sent by media id after the reply's text; too large or late files are told
 * to the agent instead.
 */
describe('agent replies with attachments', () => {
  let database: TestDatabase;
  let redis: Awaited<ReturnType<typeof createTestRedis>>;
  let meta: MetaGraphFake;
  let zendesk: ZendeskFake;
  let hubspot: HubspotFake;
  let service: TestService;
  let zendeskId: string;
  let hubspotId: string;

  const zendeskWebhookUrl = () => `${service.url}/webhooks/connections/${zendeskId}`;
  const customerWrites = async (waId: string, text: string) => {
    meta.recordInbound(waId);
    const res = await postMetaWebhook(`${service.url}/webhooks/whatsapp`, aTextMessageWebhook({ waId, name: `Customer ${waId.slice(-4)}`, wamid: nextWamid(waId), text }), TEST_APP_SECRET);
    expect(res.status).toBe(200);
  };
  const conversationOf = (waId: string): Promise<{ id: string; contactId: string }> =>
    eventually(
      async () =>
        (await service.db.query(`SELECT c.id, c.contact_id AS "contactId" FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id = $1 ORDER BY c.opened_at DESC`, [waId]))[0],
      `conversation of ${waId}`,
    );
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
  /** A chat that has reached Zendesk (and HubSpot's inbox): its conversation and ticket. */
  const chat = async (waId: string, text = 'Can you send me the label?') => {
    await customerWrites(waId, text);
    const conversation = await conversationOf(waId);
    const ticketId = await eventually(
      async () =>
        (await service.db.query(`SELECT remote_id FROM remote_links WHERE connection_id = $1 AND entity_type = 'ticket' AND local_id = $2`, [zendeskId, conversation.id]))[0]
          ?.remote_id as string | undefined,
      'the Zendesk ticket',
    );
    await settled('the chat synced');
    return { ...conversation, ticketId };
  };
  const sentTo = (waId: string) => meta.sent.filter((m) => m.waId === waId);
  const uploadOf = (mediaId: unknown) => meta.uploads.find((u) => u.id === mediaId);
  const notes = (ticketId: string) => zendesk.comments(ticketId).filter((c) => !c.public);
  const replyRow = async (remoteId: string) =>
    (await service.db.query(`SELECT status, mode, detail, message_id FROM agent_replies WHERE connection_id = $1 AND remote_id = $2`, [zendeskId, remoteId]))[0];

  beforeAll(async () => {
    database = await createTestDatabase();
    redis = await createTestRedis();
    meta = await startMetaGraphFake({ accessToken: 'test-token', enforceWindow: true });
    // Attachments need the API token, as in accounts that require authentication for them.
    zendesk = await startZendeskFake({ publicAttachments: false });
    hubspot = await startHubspotFake({ accessTokens: [HUBSPOT_TOKEN] });
    service = await startTestService({
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      WHATSAPP_API_URL: meta.url,
      CONNECTOR_TIMEOUT_MS: '3000',
      EGRESS_ALLOW: allowFakes(meta, zendesk, hubspot),
    });

    const zd = await api.post(`${service.url}/api/v1/connections`, {
      connectorId: 'zendesk',
      name: 'Zendesk media',
      credentials: zendesk.credentials({ webhookSecret: ZENDESK_SECRET }),
      settings: { commentCoalesceMs: 0 },
    });
    expect(zd.status).toBe(201);
    zendeskId = zd.data.id;
    zendesk.configureWebhook({ id: 'trigger', url: zendeskWebhookUrl(), secret: ZENDESK_SECRET, mode: 'trigger' });

    const hs = await api.post(`${service.url}/api/v1/connections`, {
      connectorId: 'hubspot',
      name: 'HubSpot media',
      credentials: { accessToken: HUBSPOT_TOKEN, baseUrl: hubspot.url, appSecret: hubspot.app.appSecret, appId: hubspot.app.appId, developerApiKey: hubspot.app.developerApiKey },
      settings: { conversations: { inboxId: hubspot.app.inboxId, deliveryIdentifier: BUSINESS_NUMBER } },
    });
    expect(hs.status).toBe(201);
    hubspotId = hs.data.id;
    await expect(api.post(`${service.url}/api/v1/connections/${hubspotId}/replies/setup`)).resolves.toMatchObject({ status: 200 });
  });

  afterAll(async () => {
    await service?.stop();
    await hubspot?.close();
    await zendesk?.close();
    await meta?.close();
    await redis?.close();
    await database?.drop();
  });

  it("sends a Zendesk comment's text, then its image uploaded from the attachment's bytes, once even when the webhook comes twice", async () => {
    const waId = '4915710000001';
    const { ticketId } = await chat(waId);
    const image = aFile(PNG);
    const { comment, deliveries } = await zendesk.agentComment(ticketId, { body: 'Here is your label.', attachments: [{ filename: 'label.png', contentType: 'image/png', bytes: image }] });
    expect(deliveries.map((d) => d.status)).toEqual([200]);
    const [delivery] = deliveries;
    const again = () => axios.post(zendeskWebhookUrl(), delivery.body, { headers: delivery.headers, validateStatus: () => true, transformRequest: (d: unknown) => d });
    await expect(Promise.all([again(), again()]).then((answers) => answers.map((a) => a.status))).resolves.toEqual([200, 200]);

    await eventually(async () => sentTo(waId).length === 2, 'the text and the image on WhatsApp');
    await settled('all handled');
    const [text, media] = sentTo(waId);
    expect(text.body).toMatchObject({ type: 'text', text: { body: 'Here is your label.' } });
    expect(media.type).toBe('image');
    const upload = uploadOf((media.body.image as { id?: string }).id);
    expect(upload).toMatchObject({ mimeType: 'image/png', filename: 'label.png', phoneNumberId: media.phoneNumberId });
    expect(sha256(upload!.bytes)).toBe(sha256(image));
    expect(meta.uploads.filter((u) => sha256(u.bytes) === sha256(image))).toHaveLength(1);
    expect(sentTo(waId)).toHaveLength(2);
    expect(meta.specViolations).toEqual([]);

    // Fetched with the API token (the fake refuses attachments to anyone else).
    expect(zendesk.requests.filter((r) => r.path.startsWith('/attachments/')).map((r) => r.status)).toEqual([200]);
    const rows = await service.db.query(
      `SELECT type, origin, media->>'storageKey' AS "storageKey", media->>'filename' AS filename, media_status FROM messages WHERE wamid = ANY($1) ORDER BY seq`,
      [[text.wamid, media.wamid]],
    );
    expect(rows).toEqual([
      { type: 'text', origin: zendeskId, storageKey: null, filename: null, media_status: 'none' },
      { type: 'image', origin: zendeskId, storageKey: sha256(image), filename: 'label.png', media_status: 'stored' },
    ]);
    await expect(replyRow(String(comment.id))).resolves.toMatchObject({ status: 'queued', mode: 'text', detail: null });
    expect(notes(ticketId).filter((n) => n.body.includes('WhatsApp:'))).toEqual([]);
    // The other CRM shows the file too, uploaded from the copy kept with the message.
    await eventually(async () => hubspot.files().some((f) => sha256(f.bytes) === sha256(image)), 'the image in HubSpot');
  });

  it('sends several files in the order the agent attached them: image, document with its name, audio', async () => {
    const waId = '4915710000002';
    const { ticketId } = await chat(waId);
    const files = [
      { filename: 'photo.jpg', contentType: 'image/jpeg', bytes: aFile('\xff\xd8\xff') },
      { filename: 'Invoice 4711.pdf', contentType: 'application/pdf', bytes: aFile('%PDF-1.7') },
      { filename: 'note.ogg', contentType: 'audio/ogg', bytes: aFile('OggS') },
    ];
    await zendesk.agentComment(ticketId, { body: 'Everything you asked for.', attachments: files });
    await eventually(async () => sentTo(waId).length === 4, 'text and three files');
    const sent = sentTo(waId);
    expect(sent.map((m) => m.type)).toEqual(['text', 'image', 'document', 'audio']);
    expect(sent[2].body.document).toMatchObject({ filename: 'Invoice 4711.pdf' });
    sent.slice(1).forEach((message, i) => {
      const upload = uploadOf((message.body[message.type] as { id?: string }).id);
      expect(upload && sha256(upload.bytes)).toBe(sha256(files[i].bytes));
    });
    expect(meta.specViolations).toEqual([]);
  });

  it("refuses a file over WhatsApp's limit with a note naming it and the limit, and still sends the rest", async () => {
    const waId = '4915710000003';
    const { ticketId } = await chat(waId);
    const uploadsBefore = meta.uploads.length;
    const big = Buffer.concat([Buffer.from(PNG, 'binary'), Buffer.alloc(6_000_000)]);
    const { comment } = await zendesk.agentComment(ticketId, {
      body: 'Two photos.',
      attachments: [
        { filename: 'huge.png', contentType: 'image/png', bytes: big },
        { filename: 'small.png', contentType: 'image/png', bytes: aFile(PNG) },
      ],
    });
    const note = await eventually(async () => notes(ticketId).find((n) => n.body.includes('huge.png')), 'the note about the large file');
    expect(note.body).toContain('huge.png (6 MB) is larger than the 5 MB WhatsApp takes for images');
    expect(note.body).toContain('The rest of the reply was sent');
    await settled('all handled');
    expect(sentTo(waId).map((m) => m.type)).toEqual(['text', 'image']);
    expect(meta.uploads.slice(uploadsBefore).map((u) => u.filename)).toEqual(['small.png']);
    await expect(replyRow(String(comment.id))).resolves.toMatchObject({ status: 'queued', detail: expect.stringContaining('huge.png') });
    expect(notes(ticketId).filter((n) => n.body.includes('huge.png'))).toHaveLength(1);
  });

  it('outside the 24-hour window sends the reply template without the files, and says so on the ticket', async () => {
    const waId = '4915710000004';
    const { id: conversationId, ticketId } = await chat(waId);
    await expect(api.post(`${service.url}/api/v1/templates`, { name: 'media_reply', language: 'en', category: 'utility', parameters: ['{{agent.text}}'] })).resolves.toMatchObject({ status: 201 });
    await expect(api.patch(`${service.url}/api/v1/connections/${zendeskId}`, { settings: { commentCoalesceMs: 0, replyTemplate: { name: 'media_reply', language: 'en' } } })).resolves.toMatchObject({ status: 200 });
    await service.db.query(`UPDATE conversations SET last_inbound_at = now() - interval '25 hours' WHERE id = $1`, [conversationId]);
    const uploadsBefore = meta.uploads.length;
    try {
      await zendesk.agentComment(ticketId, { body: 'The manual is attached.', attachments: [{ filename: 'manual.pdf', contentType: 'application/pdf', bytes: aFile('%PDF-1.4') }] });
      const note = await eventually(async () => notes(ticketId).find((n) => n.body.includes('manual.pdf')), 'the note about the file');
      expect(note.body).toContain('template media_reply');
      expect(note.body).toContain('within 24 hours');
      await settled('all handled');
      expect(sentTo(waId).map((m) => m.type)).toEqual(['template']);
      expect(meta.uploads.length).toBe(uploadsBefore);
    } finally {
      await api.patch(`${service.url}/api/v1/connections/${zendeskId}`, { settings: { commentCoalesceMs: 0 } });
    }
  });

  it("sends a HubSpot inbox message's file (by its file id) as a document after the text", async () => {
    const waId = '4915710000005';
    const { id: conversationId } = await chat(waId, 'Hola, necesito la factura');
    await eventually(async () => hubspot.channelMessages(conversationId).length === 1, 'published into the HubSpot inbox');

    const pdf = aFile('%PDF-1.7', 4096);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(pdf)], { type: 'application/pdf' }), 'factura.pdf');
    form.append('fileName', 'factura.pdf');
    form.append('folderPath', '/agents');
    form.append('options', JSON.stringify({ access: 'PRIVATE' }));
    const uploaded = await fetch(`${hubspot.url}/files/v3/files`, { method: 'POST', headers: { authorization: `Bearer ${HUBSPOT_TOKEN}` }, body: form });
    expect(uploaded.status).toBe(201);
    const file = (await uploaded.json()) as { id: string };

    const { delivery } = await hubspot.agentReply(conversationId, { text: 'Aquí tiene la factura.', senderName: 'Ana García', attachments: [{ name: 'factura.pdf', fileId: file.id }] });
    expect(delivery.status).toBe(200);
    await eventually(async () => sentTo(waId).length === 2, 'the text and the file on WhatsApp');
    const [text, document] = sentTo(waId);
    expect(text.body).toMatchObject({ type: 'text', text: { body: 'Aquí tiene la factura.' } });
    expect(document.body).toMatchObject({ type: 'document', document: { filename: 'factura.pdf' } });
    const upload = uploadOf((document.body.document as { id?: string }).id);
    expect(upload).toMatchObject({ mimeType: 'application/pdf' });
    expect(sha256(upload!.bytes)).toBe(sha256(pdf));
    // The fake records a send before it answers; the service stores Meta's wamid on the message only
    // after the answer arrives (OutboundSendHandler.storeWamid). Looking the row up by wamid as soon as
    // the fake has the send raced that commit, and lost whenever the poll landed in between.
    const stored = await eventually(
      async () => (await service.db.query(`SELECT origin, author FROM messages WHERE wamid = $1`, [document.wamid]))[0],
      "the document's wamid stored on its message",
    );
    expect(stored).toEqual({ origin: hubspotId, author: 'Ana García' });
    expect(meta.specViolations).toEqual([]);
  });
});

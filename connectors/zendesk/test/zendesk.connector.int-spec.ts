/**
 * The Zendesk connector against the fake Zendesk over loopback HTTP: outcomes are read back from
 * what the fake holds.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CrmConnector, RawWebhook, RemoteRef, Thread, UnifiedMessage } from '../../_sdk/contract';
import { ConnectorError } from '../../_sdk/errors';
import { aCustomer, aMessage, aThread, aTranscript } from '../../_sdk/testing/builders';
import { createForTest } from '../../_sdk/testing/conformance';
import { oneAtATime, type OneAtATime } from '../../_sdk/testing/one-at-a-time';
import { ManualClock, testDeps, type TestDeps } from '../../_sdk/testing/ports';
import { zendesk, createZendeskWebhookAndTrigger } from '../index';
import { ZendeskClient } from '../zendesk.client';
import { signZendeskWebhook } from '../zendesk.webhooks';
import { startZendeskFake, type ZendeskFake } from './zendesk.fake-server';

const SECRET = 'webhook-signing-secret';
const HOUR = 3_600_000;

let fake: ZendeskFake;
let deps: TestDeps;

beforeEach(async () => {
  fake = await startZendeskFake();
  deps = testDeps();
});

afterEach(async () => {
  await fake.close();
});

function build(settings: object = {}, overrides: { deps?: TestDeps; credentials?: object } = {}): CrmConnector {
  const credentials = { ...fake.credentials({ webhookSecret: SECRET }), ...overrides.credentials };
  return createForTest(zendesk, { credentials, settings }, overrides.deps ?? deps).connector;
}

/** The connector's facets, one customer, thread or reply at a time (batches of one). */
function connect(settings: object = {}, overrides: { deps?: TestDeps; credentials?: object } = {}): OneAtATime {
  return oneAtATime(build(settings, overrides));
}

async function rejection(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  return error as ConnectorError;
}

/** A customer, their Zendesk user and a ticket: the state appendMessages starts from. */
async function ticketThread(connector: OneAtATime, waId = '48601234567'): Promise<Thread> {
  const customer = aCustomer({ waId, profileName: 'Anna Nowak' });
  const contact = await connector.ensureContact(customer);
  const thread = aThread(customer, contact);
  return { ...thread, ticket: await connector.ensureTicket(thread) };
}

const putsTo = (ticketId: string) => fake.requestsTo('PUT', `/tickets/${ticketId}`).length;
/** Comments after the ticket's description (the first comment). */
const messageComments = (ticketId: string) => fake.comments(ticketId).slice(1);

describe('ensureContact', () => {
  it('finds the end user by external_id whatsapp:<wa_id>', async () => {
    const seeded = fake.seedUser({ name: 'Anna', external_id: 'whatsapp:48601234567' });
    const ref = await connect().ensureContact(aCustomer({ waId: '48601234567' }));
    expect(ref).toMatchObject({ id: String(seeded.id), type: 'user', url: `${fake.url}/agent/users/${seeded.id}` });
    expect(fake.endUsers()).toHaveLength(1);
  });

  it.each(['+48 601 234 567', '601234567', '0048601234567', '+48-601-234-567'])(
    'finds a user whose phone an agent typed as %j, and claims them with the external_id',
    async (typed) => {
      const seeded = fake.seedUser({ name: 'Anna (typed by an agent)', phone: typed });
      const ref = await connect().ensureContact(aCustomer({ waId: '48601234567' }));
      expect(ref.id).toBe(String(seeded.id));
      expect(fake.user(seeded.id)?.external_id).toBe('whatsapp:48601234567');
      expect(fake.endUsers()).toHaveLength(1);
    },
  );

  it('finds a user by a phone_number identity', async () => {
    const seeded = fake.seedUser({ name: 'Anna', identities: [{ type: 'phone_number', value: '+48601234567' }] });
    await expect(connect().ensureContact(aCustomer({ waId: '48601234567' }))).resolves.toHaveProperty('id', String(seeded.id));
  });

  it('costs a new customer 3 requests before its ticket: external_id search, one phone search, create_or_update', async () => {
    const connector = connect();
    const customer = aCustomer({ waId: '48601234567', profileName: 'Anna Nowak' });
    const before = fake.requests.length;
    const contact = await connector.ensureContact(customer);
    await connector.ensureTicket(aThread(customer, contact));
    const requests = fake.requests.slice(before);
    const ticketAt = requests.findIndex((r) => r.method === 'POST' && r.path === '/tickets');
    const contactRequests = requests.slice(0, ticketAt).filter((r) => r.path.startsWith('/users'));
    expect(contactRequests.map((r) => [r.method, r.path, r.query])).toEqual([
      ['GET', '/users/search', { external_id: 'whatsapp:48601234567' }],
      ['GET', '/users/search', { query: 'role:end-user phone:*601234567' }],
      ['POST', '/users/create_or_update', {}],
    ]);
  });

  it.each([
    ['48601234567', '601 234 567'],
    ['48601234567', '+48 601 234 567'],
    ['16505551234', '(650) 555-1234'],
    ['447400123456', '07400 123456'],
  ])('finds wa_id %s typed as %j with one phone search', async (waId, typed) => {
    const seeded = fake.seedUser({ name: 'Typed by an agent', phone: typed });
    const before = fake.requests.length;
    await expect(connect().ensureContact(aCustomer({ waId }))).resolves.toHaveProperty('id', String(seeded.id));
    const requests = fake.requests.slice(before);
    expect(requests.filter((r) => r.path === '/users/search' && r.query.query !== undefined)).toHaveLength(1);
    // external_id search, phone search, claiming the user with our external_id.
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /users/search', 'GET /users/search', `PUT /users/${seeded.id}`]);
  });

  it('does not take another country’s number that ends in the same digits', async () => {
    const french = fake.seedUser({ name: 'Pierre', phone: '+33 6 01 23 45 67' });
    const ref = await connect().ensureContact(aCustomer({ waId: '48601234567' }));
    expect(ref.id).not.toBe(String(french.id));
    expect(fake.user(french.id)?.external_id).toBeNull();
    expect(fake.contactsMatching('+48601234567')).toBe(1);
  });

  it('creates the user once, with external_id, name, phone and a phone_number identity', async () => {
    const connector = connect();
    const customer = aCustomer({ waId: '48601234567', profileName: 'Anna Nowak' });
    const [a, b] = await Promise.all([connector.ensureContact(customer), connector.ensureContact(customer)]);
    const c = await connector.ensureContact(customer);
    expect(new Set([a.id, b.id, c.id]).size).toBe(1);
    const users = fake.endUsers();
    expect(users).toHaveLength(1);
    expect(users[0]).toMatchObject({ name: 'Anna Nowak', phone: '+48601234567', external_id: 'whatsapp:48601234567', role: 'end-user' });
    expect(fake.identities(users[0].id)).toEqual([expect.objectContaining({ type: 'phone_number', value: '+48601234567' })]);
  });

  it('names a customer without a profile name by their number', async () => {
    await connect().ensureContact(aCustomer({ waId: '48601234567', profileName: undefined }));
    expect(fake.endUsers()[0].name).toBe('+48601234567');
  });

  it('does not take an agent who has the same phone number for the customer', async () => {
    const agent = fake.seedUser({ name: 'Agent testing with own phone', role: 'agent', phone: '+48601234567' });
    const ref = await connect().ensureContact(aCustomer({ waId: '48601234567' }));
    expect(ref.id).not.toBe(String(agent.id));
    expect(fake.user(ref.id)?.role).toBe('end-user');
  });

  it('checks `known` with one request, and searches again when that user was deleted', async () => {
    const connector = connect();
    const customer = aCustomer({ waId: '48601234567' });
    const first = await connector.ensureContact(customer);
    const before = fake.requestCount();
    await expect(connector.ensureContact(customer, first)).resolves.toHaveProperty('id', first.id);
    expect(fake.requestCount() - before).toBe(1);

    await connector.eraseContact(first, customer);
    const again = await connector.ensureContact(customer, first);
    expect(again.id).not.toBe(first.id);
    expect(fake.contactsMatching(customer.e164)).toBe(1);
  });
});

describe('ensureTicket', () => {
  it('creates a ticket requested by the customer, with subject, tags, group, priority, custom fields and external_id', async () => {
    const group = fake.seedGroup('WhatsApp');
    const connector = connect({ groupId: group.id, priority: 'high', tags: ['whatsapp', 'vip'], customFields: [{ id: 360001, value: 'wa' }] });
    const customer = aCustomer({ waId: '48601234567', profileName: 'Anna Nowak' });
    const contact = await connector.ensureContact(customer);
    const thread = aThread(customer, contact);
    const ref = await connector.ensureTicket(thread);

    const ticket = fake.ticket(ref.id)!;
    expect(ref).toMatchObject({ type: 'ticket', url: `${fake.url}/agent/tickets/${ticket.id}` });
    expect(ticket).toMatchObject({
      requester_id: Number(contact.id),
      subject: 'WhatsApp: Anna Nowak (+48601234567)',
      tags: ['whatsapp', 'vip'],
      group_id: group.id,
      priority: 'high',
      custom_fields: [{ id: 360001, value: 'wa' }],
      external_id: `whatsapp-conversation:${thread.conversationId}`,
    });
    // Zendesk needs a first comment: an internal note, not a message to the customer.
    expect(fake.comments(ref.id)).toEqual([expect.objectContaining({ public: false })]);
  });

  it('keeps an open ticket, and a re-run without `known` finds it by external_id instead of opening a second', async () => {
    const connector = connect({ subjectTemplate: 'WA {{phone}} → {{businessNumber}}' });
    const customer = aCustomer();
    const thread = aThread(customer, await connector.ensureContact(customer));
    const first = await connector.ensureTicket(thread);
    await expect(connector.ensureTicket(thread, first)).resolves.toHaveProperty('id', first.id);
    await expect(connector.ensureTicket(thread)).resolves.toHaveProperty('id', first.id);
    expect(fake.tickets()).toHaveLength(1);
    expect(fake.ticket(first.id)?.subject).toBe('WA +48601234567 → +1 555 010 0000');
  });

  it('reopens a ticket solved within reopenWithinHours', async () => {
    const connector = connect({ reopenWithinHours: 24 });
    const customer = aCustomer();
    const thread = aThread(customer, await connector.ensureContact(customer));
    const first = await connector.ensureTicket(thread);
    fake.setTicketStatus(first.id, 'solved', { updatedAt: new Date(Date.now() - 23 * HOUR) });

    await expect(connector.ensureTicket(thread, first)).resolves.toHaveProperty('id', first.id);
    expect(fake.ticket(first.id)?.status).toBe('open');
    expect(fake.tickets()).toHaveLength(1);
  });

  it('opens a new ticket when the solved one is older than the window, and only one on retry', async () => {
    const clock = new ManualClock();
    const connector = connect({ reopenWithinHours: 24 }, { deps: testDeps({ clock }) });
    const customer = aCustomer();
    const thread = aThread(customer, await connector.ensureContact(customer));
    const first = await connector.ensureTicket(thread);
    fake.setTicketStatus(first.id, 'solved');
    clock.advance(25 * HOUR);

    const second = await connector.ensureTicket(thread, first);
    expect(second.id).not.toBe(first.id);
    expect(fake.ticket(first.id)?.status).toBe('solved');
    expect(fake.ticket(second.id)).toMatchObject({ status: 'new', requester_id: Number(thread.contact.id) });
    // The response got lost and the core retries with the old link: no third ticket.
    await expect(connector.ensureTicket(thread, first)).resolves.toHaveProperty('id', second.id);
    expect(fake.tickets()).toHaveLength(2);
  });

  it('opens a follow-up of a closed ticket (closed tickets cannot be reopened)', async () => {
    const connector = connect();
    const customer = aCustomer();
    const thread = aThread(customer, await connector.ensureContact(customer));
    const first = await connector.ensureTicket(thread);
    fake.setTicketStatus(first.id, 'closed');
    const second = await connector.ensureTicket(thread, first);
    expect(second.id).not.toBe(first.id);
    expect(fake.ticket(second.id)?.followup_source_id).toBe(Number(first.id));
  });

  it('opens a new ticket when `known` was deleted', async () => {
    const connector = connect();
    const customer = aCustomer();
    const thread = aThread(customer, await connector.ensureContact(customer));
    const ref = await connector.ensureTicket(thread, { id: '424242', type: 'ticket' });
    expect(ref.id).not.toBe('424242');
    expect(fake.tickets()).toHaveLength(1);
  });
});

describe('appendMessages', () => {
  it('writes customer messages as public comments authored by the customer', async () => {
    const connector = connect();
    const thread = await ticketThread(connector);
    const at = new Date('2026-03-01T14:03:07Z');
    const results = await connector.appendMessages(thread, [aMessage({ text: 'Hello, where is my order?', timestamp: at })]);

    const [comment] = messageComments(thread.ticket!.id);
    expect(comment).toMatchObject({ public: true, author_id: Number(thread.contact.id), body: '[14:03:07] Hello, where is my order?', via: { channel: 'api' } });
    expect(results).toEqual([{ messageId: expect.any(String), remote: expect.objectContaining({ id: String(comment.id), type: 'comment' }) }]);
  });

  it('puts a burst of 20 close messages into one comment: one ticket update', async () => {
    const connector = connect({ commentCoalesceMs: 2000 });
    const thread = await ticketThread(connector);
    const start = Date.parse('2026-03-01T09:00:00Z');
    const burst = Array.from({ length: 20 }, (_, i) => aMessage({ text: `part ${i + 1}`, timestamp: new Date(start + i * 500) }));
    const updatesBefore = putsTo(thread.ticket!.id);

    const results = await connector.appendMessages(thread, burst);

    expect(putsTo(thread.ticket!.id) - updatesBefore).toBe(1);
    const comments = messageComments(thread.ticket!.id);
    expect(comments).toHaveLength(1);
    const lines = comments[0].body.split('\n');
    expect(lines).toHaveLength(20);
    expect(lines[0]).toBe('[09:00:00] part 1');
    expect(lines[19]).toBe('[09:00:09] part 20');
    expect(new Set(results.map((r) => r.remote.id))).toEqual(new Set([String(comments[0].id)]));
    expect(results.map((r) => r.messageId)).toEqual(burst.map((m) => m.id));
  });

  it('splits on direction changes and on gaps, and writes outbound messages as internal notes naming the sender', async () => {
    const connector = connect({ commentCoalesceMs: 2000 });
    const thread = await ticketThread(connector);
    const t = Date.parse('2026-03-01T09:00:00Z');
    const messages: UnifiedMessage[] = [
      aMessage({ text: 'hi', timestamp: new Date(t) }),
      aMessage({ text: 'anyone there?', timestamp: new Date(t + 1000) }),
      aMessage({ direction: 'outbound', text: 'Yes, Ola from sales here', author: 'Ola (HubSpot)', timestamp: new Date(t + 60_000) }),
      aMessage({ text: 'great', timestamp: new Date(t + 120_000) }),
      aMessage({ text: 'one more thing', timestamp: new Date(t + 300_000) }),
    ];
    await connector.appendMessages(thread, messages);

    const comments = messageComments(thread.ticket!.id);
    expect(comments.map((c) => [c.public, c.body])).toEqual([
      [true, '[09:00:00] hi\n[09:00:01] anyone there?'],
      [false, 'Sent to the customer on WhatsApp (from another system):\n[09:01:00] Ola (HubSpot): Yes, Ola from sales here'],
      [true, '[09:02:00] great'],
      [true, '[09:05:00] one more thing'],
    ]);
    expect(comments[1].author_id).toBe(fake.apiUser.id);
  });

  it('uploads stored media through the Uploads API and attaches it to the comment', async () => {
    const connector = connect();
    const thread = await ticketThread(connector);
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]);
    deps.media.put('media/abc.jpg', jpeg);
    await connector.appendMessages(thread, [
      aMessage({ type: 'image', text: 'the broken part', media: { storageKey: 'media/abc.jpg', mimeType: 'image/jpeg', sizeBytes: jpeg.length } }),
      aMessage({ type: 'video', text: '', media: { unavailableReason: 'too large (120 MB)' } }),
    ]);

    const [comment] = messageComments(thread.ticket!.id);
    expect(comment.attachments).toHaveLength(1);
    expect(comment.attachments[0]).toMatchObject({ content_type: 'image/jpeg', size: jpeg.length });
    expect(comment.attachments[0].file_name).toMatch(/^image-.+\.jpg$/);
    expect(fake.attachmentBytes(comment.attachments[0])).toEqual(jpeg);
    expect(comment.body).toContain('the broken part [image: image/jpeg, attached]');
    expect(comment.body).toContain('[video not attached: too large (120 MB)]');
  });

  it('sends the message without the file when the media store cannot read it', async () => {
    const connector = connect();
    const thread = await ticketThread(connector);
    await connector.appendMessages(thread, [aMessage({ type: 'document', text: 'invoice', media: { storageKey: 'media/missing.pdf', filename: 'invoice.pdf' } })]);
    const [comment] = messageComments(thread.ticket!.id);
    expect(comment.attachments).toEqual([]);
    expect(comment.body).toContain('[document not attached: could not be read]');
    expect(deps.logger.entries.some((e) => e.level === 'warn')).toBe(true);
  });

  it('does not write messages again that an earlier attempt wrote (maybeCreated)', async () => {
    const connector = connect();
    const thread = await ticketThread(connector);
    const t = Date.parse('2026-03-01T09:00:00Z');
    const messages = [aMessage({ text: 'one', timestamp: new Date(t) }), aMessage({ text: 'two', timestamp: new Date(t + 60_000) })];
    const first = await connector.appendMessages(thread, messages.slice(0, 1));

    const retry = await connector.appendMessages(thread, messages.map((m) => ({ ...m, maybeCreated: true })));
    expect(retry[0].remote.id).toBe(first[0].remote.id);
    expect(messageComments(thread.ticket!.id).map((c) => c.body)).toEqual(['[09:00:00] one', '[09:01:00] two']);
  });

  it('finds an earlier comment by its exact line when the audit carries no metadata', async () => {
    const connector = connect();
    const thread = await ticketThread(connector);
    const message = aMessage({ text: 'written by hand', timestamp: new Date('2026-03-01T10:00:00Z'), maybeCreated: true });
    const { comment } = await fake.agentComment(thread.ticket!.id, { body: '[10:00:00] written by hand', public: true, authorId: Number(thread.contact.id) });
    const [result] = await connector.appendMessages(thread, [message]);
    expect(result.remote.id).toBe(String(comment.id));
    expect(messageComments(thread.ticket!.id)).toHaveLength(1);
  });

  it('needs the ticket from ensureTicket', async () => {
    const connector = connect();
    const customer = aCustomer();
    const thread = aThread(customer, await connector.ensureContact(customer));
    await expect(rejection(connector.appendMessages(thread, [aMessage()]))).resolves.toMatchObject({ kind: 'invalid_request' });
  });

  it('turns the per-ticket update limit into rate_limited with Retry-After', async () => {
    fake.setTicketUpdateLimit(2);
    const connector = connect({ commentCoalesceMs: 0 });
    const thread = await ticketThread(connector);
    const t = Date.now();
    const error = await rejection(connector.appendMessages(thread, [1, 2, 3].map((i) => aMessage({ text: `m${i}`, timestamp: new Date(t + i) }))));
    expect(error.kind).toBe('rate_limited');
    expect(error.retryAfterMs).toBeGreaterThan(500_000);
    expect(messageComments(thread.ticket!.id)).toHaveLength(2);
  });
});

describe('attachTranscript', () => {
  it('adds one internal note with the transcript, its text file and the stored media', async () => {
    const connector = connect();
    const thread = await ticketThread(connector);
    deps.media.put('media/photo.jpg', Buffer.from('photo'));
    const messages = [
      aMessage({ text: 'Hi, see the photo', type: 'image', media: { storageKey: 'media/photo.jpg', mimeType: 'image/jpeg', filename: 'photo.jpg' } }),
      aMessage({ direction: 'outbound', text: 'Thanks, a new one is on its way', author: 'Agent Smith' }),
    ];
    const transcript = aTranscript(thread, messages);

    const note = await connector.attachTranscript({ ...thread, status: 'closed' }, transcript);
    const again = await connector.attachTranscript({ ...thread, status: 'closed' }, transcript);

    expect(again.id).toBe(note.id);
    const notes = messageComments(thread.ticket!.id);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ id: Number(note.id), public: false, author_id: fake.apiUser.id });
    expect(notes[0].body).toContain(transcript.text);
    expect(notes[0].attachments.map((a) => a.file_name).sort()).toEqual(['photo.jpg', `whatsapp-transcript-${thread.conversationId}.txt`]);
  });
});

describe('webhooks', () => {
  interface Received {
    raw: RawWebhook;
  }
  let receiver: http.Server;
  let receiverUrl: string;
  let received: Received[];

  beforeEach(async () => {
    received = [];
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({
          raw: { method: req.method ?? 'POST', url: `${receiverUrl}${req.url ?? ''}`, headers: req.headers, rawBody: Buffer.concat(chunks), receivedAt: new Date() },
        });
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  it('event subscription: a public agent comment arrives signed and becomes an agent reply', async () => {
    fake.configureWebhook({ url: `${receiverUrl}/webhooks/zendesk`, secret: SECRET, mode: 'event' });
    const connector = connect();
    const thread = await ticketThread(connector);
    const { comment } = await fake.agentComment(thread.ticket!.id, { body: 'Your parcel ships today.' });

    expect(received).toHaveLength(1);
    const raw = received[0].raw;
    expect(connector.verifyWebhook(raw)).toBe(true);
    expect(connector.parseWebhook(raw)).toEqual([
      {
        kind: 'agent_reply',
        remoteId: String(comment.id),
        remoteThreadId: thread.ticket!.id,
        remoteContactId: thread.contact.id,
        text: 'Your parcel ships today.',
        author: 'Agent Smith',
        attachments: [],
      },
    ]);
  });

  it('event subscription: private notes and the customer’s own comments are delivered but ignored', async () => {
    fake.configureWebhook({ url: receiverUrl, secret: SECRET, mode: 'event' });
    const connector = connect();
    const thread = await ticketThread(connector);
    await fake.agentComment(thread.ticket!.id, { body: 'internal', public: false });
    await fake.agentComment(thread.ticket!.id, { body: 'from the customer by email', authorId: Number(thread.contact.id) });
    expect(received).toHaveLength(2);
    for (const { raw } of received) {
      expect(connector.verifyWebhook(raw)).toBe(true);
      expect(connector.parseWebhook(raw)).toEqual([]);
    }
  });

  it('event subscription: comments by our own API user never come back (no echo)', async () => {
    await fake.close();
    fake = await startZendeskFake({ deliverApiComments: true });
    fake.configureWebhook({ url: receiverUrl, secret: SECRET, mode: 'event' });
    const connector = connect();
    await connector.verifyCredentials();
    const thread = await ticketThread(connector);
    await connector.appendMessages(thread, [aMessage({ text: 'customer text' }), aMessage({ direction: 'outbound', text: 'sent from HubSpot', timestamp: new Date(Date.now() + 60_000) })]);
    await fake.agentComment(thread.ticket!.id, { body: 'public by the API user', authorId: fake.apiUser.id });
    await fake.close(); // waits for deliveries
    fake = await startZendeskFake();
    expect(received.length).toBeGreaterThanOrEqual(3);
    for (const { raw } of received) expect(connector.parseWebhook(raw)).toEqual([]);
  });

  it('trigger: createWebhookAndTrigger sets up Zendesk, and a public agent reply with a file arrives as our JSON body', async () => {
    const setup = await createZendeskWebhookAndTrigger(
      { email: fake.email, apiToken: fake.apiToken, baseUrl: fake.url },
      { tags: ['whatsapp'] },
      deps,
      `${receiverUrl}/webhooks/zendesk/conn-1`,
    );
    expect(setup.triggerId).toBeDefined();
    expect(fake.webhooks()).toEqual([expect.objectContaining({ id: setup.webhookId, subscriptions: ['conditional_ticket_events'], endpoint: `${receiverUrl}/webhooks/zendesk/conn-1` })]);
    expect(fake.triggers()).toHaveLength(1);

    const connector = connect({}, { credentials: { webhookSecret: setup.signingSecret } });
    const thread = await ticketThread(connector);
    await fake.agentComment(thread.ticket!.id, { body: 'Internal only', public: false });
    const { comment } = await fake.agentComment(thread.ticket!.id, {
      body: 'Here is the "manual"\nPage 2 has the steps.',
      attachments: [{ filename: 'manual.pdf', contentType: 'application/pdf' }],
    });

    expect(received).toHaveLength(1); // the private note does not fire the trigger
    const raw = received[0].raw;
    expect(connector.verifyWebhook(raw)).toBe(true);
    const [event] = connector.parseWebhook(raw);
    expect(event).toMatchObject({
      remoteId: String(comment.id),
      remoteThreadId: thread.ticket!.id,
      remoteContactId: thread.contact.id,
      text: 'Here is the "manual"\nPage 2 has the steps.',
      author: 'Agent Smith',
    });
    expect(event.attachments).toEqual([{ url: comment.attachments[0].content_url, filename: 'manual.pdf' }]);
  });

  it('refuses a bad signature, a tampered body, a stale or future timestamp, and a missing secret', async () => {
    const connector = connect();
    const body = Buffer.from(JSON.stringify({ threadbridge: 1, ticket_id: '1', comment_id: '2', comment_body: 'hi' }));
    const signed = (at: Date, secret = SECRET, rawBody = body): RawWebhook => {
      const timestamp = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
      return {
        method: 'POST',
        url: 'https://tb.example.com/webhooks/zendesk',
        headers: { 'x-zendesk-webhook-signature': signZendeskWebhook(secret, timestamp, body), 'x-zendesk-webhook-signature-timestamp': timestamp },
        rawBody,
        receivedAt: new Date(),
      };
    };
    expect(connector.verifyWebhook(signed(new Date()))).toBe(true);
    expect(connector.verifyWebhook(signed(new Date(Date.now() - 4 * 60_000)))).toBe(true);
    expect(connector.verifyWebhook(signed(new Date(), 'wrong'))).toBe(false);
    expect(connector.verifyWebhook(signed(new Date(), SECRET, Buffer.from(body.toString().replace('hi', 'ho'))))).toBe(false);
    expect(connector.verifyWebhook(signed(new Date(Date.now() - 6 * 60_000)))).toBe(false);
    expect(connector.verifyWebhook(signed(new Date(Date.now() + 2 * 60_000)))).toBe(false);
    const withoutSecret = connect({}, { credentials: { webhookSecret: undefined } });
    expect(withoutSecret.verifyWebhook(signed(new Date()))).toBe(false);
  });

  it('rejects a body that is not JSON as invalid_request', () => {
    const raw: RawWebhook = { method: 'POST', url: 'https://tb.example.com/x', headers: {}, rawBody: Buffer.from('{"ticket_id": "1", "comment_body": "broken'), receivedAt: new Date() };
    expect(() => connect().parseWebhook(raw)).toThrow(expect.objectContaining({ kind: 'invalid_request' }));
  });
});

describe('reportReplyStatus', () => {
  const NOT_DELIVERED =
    'Not sent on WhatsApp: more than 24 hours since the customer last wrote and no approved template is configured for this connection. ' +
    "Ask the customer to write again, or configure a template (replyTemplate in the connection's settings).";

  /** A ticket with an agent's public reply on it, as the reply webhook reported it. */
  async function replyOnTicket(connector: OneAtATime): Promise<{ ticketId: string; reply: { remoteId: string; remoteThreadId: string } }> {
    const thread = await ticketThread(connector);
    const { comment } = await fake.agentComment(thread.ticket!.id, { body: 'Your order ships today.' });
    return { ticketId: thread.ticket!.id, reply: { remoteId: String(comment.id), remoteThreadId: thread.ticket!.id } };
  }
  const notes = (ticketId: string) => fake.comments(ticketId).filter((c) => !c.public && c.body.includes('threadbridge: reply comment'));

  it('a refused reply becomes one internal note saying what happened and what to do, never two', async () => {
    const connector = connect();
    const { ticketId, reply } = await replyOnTicket(connector);
    const status = { state: 'refused' as const, detail: NOT_DELIVERED, at: new Date() };

    await expect(connector.reportReplyStatus(reply, status)).resolves.toBeUndefined();
    await expect(connector.reportReplyStatus(reply, status)).resolves.toBeUndefined();

    const [note, ...more] = notes(ticketId);
    expect(more).toEqual([]);
    expect(note).toMatchObject({ public: false, author_id: fake.apiUser.id });
    expect(note.body.startsWith(`${NOT_DELIVERED}\n`)).toBe(true);
    expect(note.body).toContain(`reply comment ${reply.remoteId}, status refused`);
    const audit = fake.audits(ticketId).find((a) => a.events.some((e) => e.id === note.id));
    expect(audit?.metadata.custom).toEqual({ threadbridge: { r: `${reply.remoteId}:refused` } });
    expect(fake.webhookDeliveries).toHaveLength(0); // an internal note by the API user fires nothing
  });

  it('a failed reply gets its own note, with a plain default when the core gives no detail', async () => {
    const connector = connect();
    const { ticketId, reply } = await replyOnTicket(connector);
    await connector.reportReplyStatus(reply, { state: 'refused', detail: NOT_DELIVERED, at: new Date() });
    await connector.reportReplyStatus(reply, { state: 'failed', at: new Date() });
    expect(notes(ticketId).map((n) => n.body.split('\n')[0])).toEqual([
      NOT_DELIVERED,
      'Not delivered on WhatsApp: WhatsApp could not deliver it. Send the reply again later, or reach the customer another way.',
    ]);
  });

  it('finds an earlier note by its marker line when the account dropped the audit metadata', async () => {
    const connector = connect();
    const { ticketId, reply } = await replyOnTicket(connector);
    await fake.agentComment(ticketId, { body: `Not delivered on WhatsApp: earlier.\n\n(threadbridge: reply comment ${reply.remoteId}, status failed)`, public: false, authorId: fake.apiUser.id });
    const updates = putsTo(ticketId);
    await connector.reportReplyStatus(reply, { state: 'failed', detail: 'again', at: new Date() });
    expect(putsTo(ticketId)).toBe(updates);
    expect(notes(ticketId)).toHaveLength(1);
  });

  it('sent, delivered and read cost no request by default', async () => {
    const connector = connect();
    const { ticketId, reply } = await replyOnTicket(connector);
    const before = fake.requestCount();
    for (const state of ['sent', 'delivered', 'read'] as const) await connector.reportReplyStatus(reply, { state, at: new Date() });
    expect(fake.requestCount()).toBe(before);
    expect(notes(ticketId)).toEqual([]);
  });

  it('reportDelivered adds one short internal note per delivered reply', async () => {
    const connector = connect({ reportDelivered: true, timeZone: 'Europe/Warsaw' });
    const { ticketId, reply } = await replyOnTicket(connector);
    const at = new Date('2026-03-01T12:04:05Z');
    await connector.reportReplyStatus(reply, { state: 'delivered', at });
    await connector.reportReplyStatus(reply, { state: 'delivered', at });
    await connector.reportReplyStatus(reply, { state: 'read', at });
    expect(notes(ticketId).map((n) => n.body)).toEqual([`Delivered on WhatsApp at 13:04:05 (Europe/Warsaw).\n\n(threadbridge: reply comment ${reply.remoteId}, status delivered)`]);
  });

  it('needs the ticket id, and reports a ticket Zendesk no longer has as not_found', async () => {
    const connector = connect();
    await expect(rejection(connector.reportReplyStatus({ remoteId: '5000001' }, { state: 'failed', at: new Date() }))).resolves.toMatchObject({ kind: 'invalid_request' });
    await expect(rejection(connector.reportReplyStatus({ remoteId: '5000001', remoteThreadId: '999' }, { state: 'failed', at: new Date() }))).resolves.toMatchObject({
      kind: 'not_found',
    });
  });
});

describe('setUpReplies', () => {
  it('creates the webhook and the trigger in Zendesk and returns the signing secret that verifies their deliveries', async () => {
    let delivered: RawWebhook | undefined;
    const receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        delivered = { method: req.method ?? 'POST', url: `http://127.0.0.1${req.url ?? ''}`, headers: req.headers, rawBody: Buffer.concat(chunks), receivedAt: new Date() };
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/zendesk/conn-7`;
      const withoutSecret = connect({}, { credentials: { webhookSecret: undefined } });
      const result = await withoutSecret.setUpReplies(callbackUrl);

      expect(Object.keys(result)).toEqual(['credentials']);
      expect(fake.webhooks()).toEqual([expect.objectContaining({ endpoint: callbackUrl, subscriptions: ['conditional_ticket_events'] })]);
      expect(fake.triggers()).toEqual([expect.objectContaining({ title: 'threadbridge: send public agent replies to WhatsApp', active: true })]);

      const connector = connect({}, { credentials: result.credentials });
      const thread = await ticketThread(connector);
      const { comment } = await fake.agentComment(thread.ticket!.id, { body: 'On its way.' });
      expect(delivered).toBeDefined();
      expect(connector.verifyWebhook(delivered!)).toBe(true);
      expect(connector.parseWebhook(delivered!)).toEqual([expect.objectContaining({ remoteId: String(comment.id), text: 'On its way.' })]);
      expect(deps.logger.text()).not.toContain(result.credentials!.webhookSecret);
    } finally {
      receiver.closeAllConnections();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });

  it("also returns the API user's id when the connection does not hold it yet", async () => {
    const stored = await connect({}, { credentials: { webhookSecret: undefined } }).setUpReplies('https://tb.example.com/webhooks/connections/c1');
    expect(stored.credentials).toEqual({ webhookSecret: expect.any(String), apiUserId: String(fake.apiUser.id) });
    const known = await connect({}, { credentials: { apiUserId: String(fake.apiUser.id) } }).setUpReplies('https://tb.example.com/webhooks/connections/c2');
    expect(Object.keys(known.credentials!)).toEqual(['webhookSecret']);
  });
});

describe('downloadAttachment', () => {
  /** A public comment by the agent with one file, and the attachment as a reply event names it. */
  async function attached(file: { filename: string; contentType: string; bytes: Buffer }) {
    const connector = connect();
    const thread = await ticketThread(connector);
    const { comment } = await fake.agentComment(thread.ticket!.id, { body: 'See attached', attachments: [file] });
    return { connector, attachment: { url: comment.attachments[0].content_url, filename: file.filename } };
  }

  it("fetches the file with the token (the account requires it) and names its type", async () => {
    const bytes = Buffer.from('%PDF-1.7 the manual');
    const { connector, attachment } = await attached({ filename: 'manual.pdf', contentType: 'application/pdf', bytes });
    await expect(fetch(attachment.url).then((r) => r.status)).resolves.toBe(401);
    const download = await connector.downloadAttachment(attachment, { maxBytes: 1_000 });
    expect(download).toMatchObject({ status: 'ok', mimeType: 'application/pdf', filename: 'manual.pdf' });
    expect(download.status === 'ok' && download.bytes.equals(bytes)).toBe(true);
  });

  it('answers too_large past maxBytes without reading the file', async () => {
    const { connector, attachment } = await attached({ filename: 'photo.png', contentType: 'image/png', bytes: Buffer.alloc(5_000) });
    await expect(connector.downloadAttachment(attachment, { maxBytes: 4_999 })).resolves.toEqual({ status: 'too_large', sizeBytes: 5_000, mimeType: 'image/png' });
  });

  it('is not_found for a file that is gone, and sends the token to no other host', async () => {
    const { connector, attachment } = await attached({ filename: 'a.txt', contentType: 'text/plain', bytes: Buffer.from('a') });
    await expect(rejection(connector.downloadAttachment({ ...attachment, url: attachment.url.replace(/token\/[^/]+/, 'token/gone') }, { maxBytes: 10 }))).resolves.toMatchObject({
      kind: 'not_found',
    });

    const seen: (string | undefined)[] = [];
    const elsewhere = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('public');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/files/a.txt`;
      await expect(connector.downloadAttachment({ url }, { maxBytes: 10 })).resolves.toMatchObject({ status: 'ok', mimeType: 'text/plain' });
      expect(seen).toEqual([undefined]);
    } finally {
      elsewhere.closeAllConnections();
      await new Promise<void>((resolve) => elsewhere.close(() => resolve()));
    }
  });
});

describe('errors', () => {
  it('401 → auth (wrong token)', async () => {
    const connector = connect({}, { credentials: { apiToken: 'wrong' } });
    await expect(rejection(connector.verifyCredentials())).resolves.toMatchObject({ kind: 'auth', vendorStatus: 401 });
    await expect(rejection(connector.ensureContact(aCustomer()))).resolves.toMatchObject({ kind: 'auth' });
  });

  it('the account limit → rate_limited with retryAfterMs from Retry-After', async () => {
    fake.setRateLimit(3);
    const connector = connect();
    await connector.verifyCredentials();
    await connector.verifyCredentials();
    await connector.verifyCredentials();
    const error = await rejection(connector.verifyCredentials());
    expect(error).toMatchObject({ kind: 'rate_limited', vendorStatus: 429 });
    expect(error.retryAfterMs).toBeGreaterThanOrEqual(1000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('a hanging request → transient after deps.timeoutMs', async () => {
    const connector = connect({}, { deps: testDeps({ timeoutMs: 200 }) });
    fake.hang(3_000);
    const started = Date.now();
    await expect(rejection(connector.verifyCredentials())).resolves.toMatchObject({ kind: 'transient' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a refused connection → transient', async () => {
    const url = fake.url;
    await fake.close();
    const connector = connect({}, { credentials: { baseUrl: url } });
    await expect(rejection(connector.verifyCredentials())).resolves.toMatchObject({ kind: 'transient' });
    fake = await startZendeskFake();
  });

  it('422 → invalid_request (an unknown upload token), and conflict when a value is taken', async () => {
    const client = new ZendeskClient({ apiRoot: fake.apiUrl, email: fake.email, apiToken: fake.apiToken }, deps);
    const user = fake.seedUser({ name: 'Anna' });
    const other = fake.seedUser({ name: 'Ben', external_id: 'whatsapp:1' });
    const { ticket } = await client.createTicket({ subject: 's', requester_id: user.id, external_id: 'x', comment: { body: 'b', public: false } });
    await expect(rejection(client.updateTicket(ticket.id, { comment: { body: 'x', public: true, uploads: ['no-such-token'] } }))).resolves.toMatchObject({
      kind: 'invalid_request',
      vendorStatus: 422,
    });
    await expect(rejection(client.updateUser(user.id, { external_id: other.external_id! }))).resolves.toMatchObject({ kind: 'conflict' });
    await expect(rejection(client.showTicket(999_999))).resolves.toMatchObject({ kind: 'not_found' });
  });

  it('a 502 that node-zendesk would return as a result is still an error', async () => {
    const connector = connect();
    fake.failNext(502, { body: '<html>Bad gateway</html>' });
    await expect(rejection(connector.verifyCredentials())).resolves.toMatchObject({ kind: 'transient', vendorStatus: 502 });
  });
});

describe('eraseContact and verifyCredentials', () => {
  it('deletes the user permanently; a second erasure finds nothing', async () => {
    const connector = connect();
    const customer = aCustomer();
    const contact: RemoteRef = await connector.ensureContact(customer);
    await expect(connector.eraseContact(contact, customer)).resolves.toMatchObject({ outcome: 'done' });
    expect(fake.user(contact.id)).toBeUndefined();
    expect(fake.identities(contact.id)).toEqual([]);
    await expect(connector.eraseContact(contact, customer)).resolves.toMatchObject({ outcome: 'not_found' });
  });

  it('learnCredentials names the API user for the core to store (one request after verifyCredentials)', async () => {
    const connector = build();
    await connector.verifyCredentials();
    const before = fake.requestsTo('GET', '/users/me').length;
    await expect(connector.learnCredentials!()).resolves.toEqual({ apiUserId: String(fake.apiUser.id) });
    expect(fake.requestsTo('GET', '/users/me')).toHaveLength(before);
    await expect(build().learnCredentials!()).resolves.toEqual({ apiUserId: String(fake.apiUser.id) });
    await expect(rejection(build({}, { credentials: { apiToken: 'wrong' } }).learnCredentials!())).resolves.toMatchObject({ kind: 'auth' });
  });

  it('verifyCredentials learns the API user id, so its own public comments are not replies', async () => {
    const connector = connect();
    await expect(connector.verifyCredentials()).resolves.toBeUndefined();
    const body = JSON.stringify({ threadbridge: 1, ticket_id: '5', comment_id: '6', comment_author_id: String(fake.apiUser.id), comment_body: 'echo' });
    const raw: RawWebhook = { method: 'POST', url: 'https://tb.example.com/x', headers: {}, rawBody: Buffer.from(body), receivedAt: new Date() };
    expect(connector.parseWebhook(raw)).toEqual([]);
  });

  it('declares a connection from the environment', () => {
    expect(zendesk.fromEnv!({ ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EMAIL: 'a@acme.com', ZENDESK_API_TOKEN: 't', ZENDESK_WEBHOOK_SECRET: 's' })).toMatchObject({
      name: 'Zendesk (acme)',
      credentials: { subdomain: 'acme', email: 'a@acme.com', apiToken: 't', webhookSecret: 's' },
    });
    expect(zendesk.fromEnv!({ ZENDESK_EMAIL: 'a@acme.com', ZENDESK_API_TOKEN: 't' })).toEqual({ missing: ['ZENDESK_SUBDOMAIN (or ZENDESK_BASE_URL)'] });
    expect(zendesk.fromEnv!({ ZENDESK_SUBDOMAIN: 'acme' })).toEqual({ missing: ['ZENDESK_EMAIL', 'ZENDESK_API_TOKEN'] });
  });
});

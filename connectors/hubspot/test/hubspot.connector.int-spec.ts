import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import { hasFacet, type CrmConnector, type RemoteRef, type Thread } from '../../_sdk/contract';
import { ConnectorError } from '../../_sdk/errors';
import { aCustomer, aMessage, aThread, aTranscript, someMessages } from '../../_sdk/testing/builders';
import { createForTest } from '../../_sdk/testing/conformance';
import { oneAtATime, type OneAtATime } from '../../_sdk/testing/one-at-a-time';
import { ManualClock, testDeps, type TestDeps } from '../../_sdk/testing/ports';
import { hubspot } from '../index';
import { MESSAGE_ID_PROPERTY } from '../hubspot.types';
import { startHubspotFake, type HubspotFake, type HubspotFakeOptions } from './hubspot.fake-server';

const TOKEN = 'hubspot-int-token';

describe('HubspotConnector against the fake HubSpot', () => {
  let fake: HubspotFake;
  let deps: TestDeps;
  let connector: CrmConnector;
  /** The connector's facets, one item at a time. */
  let one: OneAtATime;

  async function start(options: HubspotFakeOptions = {}, settings: object = {}, depsOverrides: Partial<TestDeps> = {}): Promise<void> {
    await fake?.close();
    fake = await startHubspotFake({ accessTokens: [TOKEN], ...options });
    deps = testDeps(depsOverrides);
    connector = createForTest(hubspot, { credentials: { accessToken: TOKEN, baseUrl: fake.url }, settings }, deps).connector;
    one = oneAtATime(connector);
  }

  async function threadWithTicket(): Promise<Thread> {
    const customer = aCustomer({ waId: '48601234567', profileName: 'Anna Maria Nowak' });
    const contact = await one.ensureContact(customer);
    const thread = aThread(customer, contact);
    return { ...thread, ticket: await one.ensureTicket(thread) };
  }

  const batchCreates = (): number => fake.requests().filter((r) => r.method === 'POST' && r.path === '/crm/v3/objects/communications/batch/create').length;

  beforeEach(async () => {
    await start();
  });
  afterEach(async () => {
    await fake.close();
  });

  describe('contacts', () => {
    it('creates the contact named from the WhatsApp profile with the number in E.164', async () => {
      const ref = await one.ensureContact(aCustomer({ waId: '48601234567', profileName: '  Anna   Maria Nowak ' }));
      expect(fake.object('contacts', ref.id)?.properties).toMatchObject({
        firstname: 'Anna',
        lastname: 'Maria Nowak',
        phone: '+48601234567',
        hs_whatsapp_phone_number: '+48601234567',
      });
    });

    it('prefers the contact whose WhatsApp number matches over an older one with a national phone', async () => {
      fake.seedContactWithPhone('601 234 567');
      const whatsapp = fake.seedContactWithPhone('+48601234567', 'hs_whatsapp_phone_number');
      await expect(one.ensureContact(aCustomer({ waId: '48601234567' }))).resolves.toMatchObject({ id: whatsapp });
    });

    it('finds a number kept in mobilephone', async () => {
      const id = fake.seedContactWithPhone('+48 601 234 567', 'mobilephone');
      await expect(one.ensureContact(aCustomer({ waId: '48601234567' }))).resolves.toMatchObject({ id });
      expect(fake.contacts()).toHaveLength(1);
    });

    it('with search-index lag, the link the core passes (`known`) keeps it to one contact', async () => {
      await start({ searchLagMs: 60_000 });
      const customer = aCustomer({ waId: '48601234567' });
      const first = await one.ensureContact(customer);
      const second = await one.ensureContact(customer, first);
      expect(second.id).toBe(first.id);
      expect(fake.contactsMatching(customer.e164)).toBe(1);
      // Without the link, the search cannot see the contact yet: this is why the core passes it.
      await one.ensureContact(customer);
      expect(fake.contactsMatching(customer.e164)).toBe(2);
    });
  });

  describe('appendMessages', () => {
    it('logs 150 messages with two batch calls, in order, on the contact and the ticket', async () => {
      const thread = await threadWithTicket();
      const messages = someMessages(150);
      const results = [
        ...(await one.appendMessages(thread, messages.slice(0, hubspot.manifest.maxBatch))),
        ...(await one.appendMessages(thread, messages.slice(hubspot.manifest.maxBatch))),
      ];

      expect(batchCreates()).toBe(2);
      const stored = fake.communications();
      expect(stored.map((c) => c.properties.hs_communication_body)).toEqual(messages.map((m) => `<p>${m.text}</p>`));
      expect(stored.map((c) => c.properties.hs_timestamp)).toEqual(messages.map((m) => m.timestamp.toISOString()));
      expect(results.map((r) => r.messageId)).toEqual(messages.map((m) => m.id));
      expect(results.map((r) => r.remote.id)).toEqual(stored.map((c) => c.id));
      for (const c of stored) {
        expect(c.properties).toMatchObject({ hs_communication_channel_type: 'WHATS_APP', hs_communication_logged_from: 'CRM' });
        expect(fake.associations('communications', c.id).map((a) => [a.toType, a.toId, a.typeId])).toEqual([
          ['contacts', thread.contact.id, 81],
          ['tickets', thread.ticket!.id, 83],
        ]);
      }
    });

    it('refuses more than maxBatch messages in one call', async () => {
      const thread = await threadWithTicket();
      await expect(one.appendMessages(thread, someMessages(101))).rejects.toMatchObject({ kind: 'invalid_request' });
      expect(fake.communications()).toHaveLength(0);
    });

    it('maps results by message id when HubSpot answers the batch out of order', async () => {
      await start({ reverseBatchResults: true });
      const thread = await threadWithTicket();
      const messages = someMessages(5);
      const results = await one.appendMessages(thread, messages);
      for (const [i, r] of results.entries()) {
        expect(fake.object('communications', r.remote.id)?.properties.hs_communication_body).toBe(`<p>${messages[i].text}</p>`);
      }
    });

    it('a maybeCreated replay creates no duplicates and returns the existing ids', async () => {
      const thread = await threadWithTicket();
      const messages = someMessages(5);
      // The first attempt got the first three through, then died.
      const firstAttempt = await one.appendMessages(thread, messages.slice(0, 3));
      const replay = await one.appendMessages(thread, messages.map((m) => ({ ...m, maybeCreated: true })));

      expect(fake.communications()).toHaveLength(5);
      expect(replay.slice(0, 3).map((r) => r.remote.id)).toEqual(firstAttempt.map((r) => r.remote.id));
      expect(fake.communications().map((c) => c.properties.hs_communication_body)).toEqual(messages.map((m) => `<p>${m.text}</p>`));
    });

    it('escapes HTML and uploads media, linking the file in the body', async () => {
      const thread = await threadWithTicket();
      deps.media.put('media/abc.jpg', Buffer.from('fake jpeg'));
      const photo = aMessage({ type: 'image', text: 'see <script>alert(1)</script> & more', media: { storageKey: 'media/abc.jpg', mimeType: 'image/jpeg', filename: 'abc.jpg' } });
      await one.appendMessages(thread, [photo]);

      const [file] = fake.files();
      expect(file.bytes.toString()).toBe('fake jpeg');
      expect(file.access).toBe('PRIVATE');
      const body = fake.communications()[0].properties.hs_communication_body;
      expect(body).toContain('see &lt;script&gt;alert(1)&lt;/script&gt; &amp; more');
      expect(body).toContain(`href="${file.url}"`);
      const download = await fetch(file.url);
      await expect(download.text()).resolves.toBe('fake jpeg');
    });

    it('links to threadbridge\'s copy when the media store cannot give the file', async () => {
      const thread = await threadWithTicket();
      const voice = aMessage({ type: 'audio', text: '', media: { storageKey: 'media/gone.ogg', mimeType: 'audio/ogg', url: 'https://threadbridge.example/media/gone.ogg' } });
      await one.appendMessages(thread, [voice]);
      expect(fake.files()).toHaveLength(0);
      expect(fake.communications()[0].properties.hs_communication_body).toContain('href="https://threadbridge.example/media/gone.ogg"');
      expect(deps.logger.entries.some((e) => e.level === 'warn')).toBe(true);
    });

    it('creates the marker property once per portal, with unique values', async () => {
      const thread = await threadWithTicket();
      await one.appendMessages(thread, someMessages(2));
      await one.appendMessages(thread, someMessages(2));
      const again = createForTest(hubspot, { credentials: { accessToken: TOKEN, baseUrl: fake.url }, settings: {} }).connector;
      await oneAtATime(again).appendMessages(thread, someMessages(2));
      expect(fake.property('communications', MESSAGE_ID_PROPERTY)).toMatchObject({ type: 'string', hasUniqueValue: true });
      expect(fake.requests().filter((r) => r.path.startsWith('/crm/v3/properties/communications')).length).toBe(2); // one GET (404), one POST
    });

    it('a create whose answer was lost, replayed at once while search lags 3 s, is logged once', async () => {
      const thread = await threadWithTicket();
      const messages = someMessages(5);
      fake.setSearchLag(3_000);
      fake.resetAfterNextCreate();
      await expect(one.appendMessages(thread, messages)).rejects.toMatchObject({ kind: 'transient' });
      expect(fake.communications()).toHaveLength(5); // HubSpot did it; we were not told

      const replay = await one.appendMessages(thread, messages.map((m) => ({ ...m, maybeCreated: true })));
      expect(fake.communications()).toHaveLength(5);
      expect(replay.map((r) => r.remote.id).sort()).toEqual(fake.communications().map((c) => c.id).sort());
    });

    it('a message HubSpot already holds but not flagged maybeCreated is read back, the rest of its batch created', async () => {
      const thread = await threadWithTicket();
      const messages = someMessages(4);
      fake.setSearchLag(3_000);
      const [earlier] = await one.appendMessages(thread, messages.slice(0, 1));
      // As if a lease had run out mid-call: the same message comes again, unflagged, with new ones.
      const results = await one.appendMessages(thread, messages);
      expect(fake.communications()).toHaveLength(4);
      expect(results[0].remote.id).toBe(earlier.remote.id);
      expect(new Set(results.map((r) => r.remote.id)).size).toBe(4);
      expect(fake.communications().map((c) => c.properties.hs_communication_body)).toEqual(messages.map((m) => `<p>${m.text}</p>`));
    });

    it('a refused create that is not about a duplicate stays an error', async () => {
      const thread = await threadWithTicket();
      await one.appendMessages(thread, someMessages(1)); // the marker property exists from here on
      fake.failNext(400, { body: { status: 'error', message: 'Property values were not valid', category: 'VALIDATION_ERROR', correlationId: 'c-1' } });
      await expect(one.appendMessages(thread, someMessages(2))).rejects.toMatchObject({ kind: 'invalid_request', vendorStatus: 400 });
      expect(fake.communications()).toHaveLength(1);
    });

    it('refuses to use a marker property someone created without unique values', async () => {
      const thread = await threadWithTicket();
      const res = await fetch(`${fake.url}/crm/v3/properties/communications`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: MESSAGE_ID_PROPERTY, label: 'by hand', type: 'string', fieldType: 'text', groupName: 'communicationinformation' }),
      });
      expect(res.status).toBe(201);
      await expect(one.appendMessages(thread, someMessages(1))).rejects.toMatchObject({ kind: 'permanent' });
      expect(fake.communications()).toHaveLength(0);
    });
  });

  describe('ensureTicket', () => {
    let thread: Thread;
    beforeEach(async () => {
      const customer = aCustomer({ waId: '48601234567', profileName: 'Anna Nowak' });
      thread = aThread(customer, await one.ensureContact(customer));
    });

    it('opens a ticket in the configured pipeline and stage, on the contact', async () => {
      const ticket = await one.ensureTicket(thread);
      expect(fake.object('tickets', ticket.id)?.properties).toMatchObject({
        subject: 'WhatsApp: Anna Nowak (+48601234567)',
        hs_pipeline: '0',
        hs_pipeline_stage: '1',
      });
      expect(fake.associations('tickets', ticket.id, 'contacts')).toMatchObject([{ toId: thread.contact.id, typeId: 16 }]);
    });

    it('keeps an open ticket', async () => {
      const ticket = await one.ensureTicket(thread);
      await expect(one.ensureTicket(thread, ticket)).resolves.toMatchObject({ id: ticket.id });
      expect(fake.tickets()).toHaveLength(1);
    });

    it('reopens a ticket closed within the reopen window', async () => {
      const ticket = await one.ensureTicket(thread);
      fake.updateObject('tickets', ticket.id, { hs_pipeline_stage: '4' }, new Date(Date.now() - 2 * 3_600_000));
      await expect(one.ensureTicket(thread, ticket)).resolves.toMatchObject({ id: ticket.id });
      expect(fake.object('tickets', ticket.id)?.properties.hs_pipeline_stage).toBe('1');
      expect(fake.tickets()).toHaveLength(1);
    });

    it('opens a new ticket when the old one closed longer ago than the window', async () => {
      const ticket = await one.ensureTicket(thread);
      fake.updateObject('tickets', ticket.id, { hs_pipeline_stage: '4' }, new Date(Date.now() - 25 * 3_600_000));
      const next = await one.ensureTicket(thread, ticket);
      expect(next.id).not.toBe(ticket.id);
      expect(fake.object('tickets', ticket.id)?.properties.hs_pipeline_stage).toBe('4');
      expect(fake.tickets()).toHaveLength(2);
    });

    it('measures the window with the injected clock', async () => {
      const clock = new ManualClock();
      await start({}, {}, { clock });
      const customer = aCustomer();
      thread = aThread(customer, await one.ensureContact(customer));
      const ticket = await one.ensureTicket(thread);
      fake.updateObject('tickets', ticket.id, { hs_pipeline_stage: '4' });
      clock.advance(23 * 3_600_000);
      await expect(one.ensureTicket(thread, ticket)).resolves.toMatchObject({ id: ticket.id });
      fake.updateObject('tickets', ticket.id, { hs_pipeline_stage: '4' });
      clock.advance(25 * 3_600_000);
      await expect(one.ensureTicket(thread, ticket)).resolves.not.toMatchObject({ id: ticket.id });
    });

    it('opens a new ticket when the linked one was deleted', async () => {
      const gone: RemoteRef = { id: '987654321', type: 'ticket' };
      const next = await one.ensureTicket(thread, gone);
      expect(fake.object('tickets', next.id)).toBeDefined();
    });

    it('follows custom pipeline settings, and offers no tickets when they are off', async () => {
      await start({ closedStages: ['closed'] }, { tickets: { pipeline: 'support', openStage: 'new', closedStages: ['closed'], subjectTemplate: '{{name}} on {{businessNumber}}' } });
      const customer = aCustomer({ profileName: undefined });
      thread = aThread(customer, await one.ensureContact(customer), { businessNumber: '+1 555 0100' });
      const ticket = await one.ensureTicket(thread);
      expect(fake.object('tickets', ticket.id)?.properties).toMatchObject({ hs_pipeline: 'support', hs_pipeline_stage: 'new', subject: `${customer.e164} on +1 555 0100` });

      await start({}, { tickets: { enabled: false } });
      expect(hasFacet(connector, 'tickets')).toBe(false);
      expect(fake.requestCount()).toBe(0);
    });
  });

  describe('attachTranscript', () => {
    it('attaches a note with the transcript and its files to the contact and the ticket, once', async () => {
      const thread = await threadWithTicket();
      deps.media.put('media/doc.pdf', Buffer.from('%PDF'));
      const messages = [
        aMessage({ text: 'Hi <there>' }),
        aMessage({ type: 'document', text: 'invoice', media: { storageKey: 'media/doc.pdf', mimeType: 'application/pdf', filename: 'invoice.pdf' } }),
        aMessage({ direction: 'outbound', text: 'Thanks, got it', author: 'Agent Smith' }),
      ];
      const transcript = aTranscript(thread, messages);
      const note = await one.attachTranscript({ ...thread, status: 'closed' }, transcript);

      const stored = fake.object('notes', note.id)!;
      expect(stored.properties.hs_note_body).toContain('Hi &lt;there&gt;');
      expect(stored.properties.hs_note_body).toContain('Agent Smith (business):');
      expect(stored.properties.hs_timestamp).toBe(transcript.closedAt.toISOString());
      const [file] = fake.files();
      expect(stored.properties.hs_attachment_ids).toBe(file.id);
      expect(file.bytes.toString()).toBe('%PDF');
      expect(fake.associations('notes', note.id).map((a) => [a.toType, a.toId, a.typeId])).toEqual([
        ['contacts', thread.contact.id, 202],
        ['tickets', thread.ticket!.id, 228],
      ]);

      await expect(one.attachTranscript({ ...thread, status: 'closed' }, transcript)).resolves.toMatchObject({ id: note.id });
      expect(fake.notes()).toHaveLength(1);
    });
  });

  describe('consent and erasure', () => {
    it('mirrors marketing consent into the configured property, creating it once', async () => {
      await start({}, { consentProperty: 'wa_marketing' });
      const contact = await one.ensureContact(aCustomer());
      await one.recordConsent(contact, { scope: 'marketing', optedIn: false, changedAt: new Date(), source: 'keyword:STOP' });
      expect(fake.object('contacts', contact.id)?.properties.wa_marketing).toBe('opted_out');
      expect(fake.property('contacts', 'wa_marketing')).toMatchObject({ type: 'enumeration', options: [{ value: 'opted_in' }, { value: 'opted_out' }] });

      await one.recordConsent(contact, { scope: 'marketing', optedIn: true, changedAt: new Date(), source: 'keyword:START' });
      expect(fake.object('contacts', contact.id)?.properties.wa_marketing).toBe('opted_in');

      const before = fake.requestCount();
      await one.recordConsent(contact, { scope: 'transactional', optedIn: false, changedAt: new Date(), source: 'admin' });
      expect(fake.requestCount()).toBe(before);
    });

    it('GDPR-deletes the contact, and reports not_found the second time', async () => {
      const customer = aCustomer();
      const contact = await one.ensureContact(customer);
      await expect(one.eraseContact(contact, customer)).resolves.toMatchObject({ outcome: 'done' });
      expect(fake.gdprDeleted()).toEqual([contact.id]);
      expect(fake.contactsMatching(customer.e164)).toBe(0);
      await expect(one.eraseContact(contact, customer)).resolves.toMatchObject({ outcome: 'not_found' });
    });
  });

  describe('batches of the calls HubSpot takes one item at a time', () => {
    const facets = () => {
      if (!hasFacet(connector, 'transcripts') || !hasFacet(connector, 'consent') || !hasFacet(connector, 'erasure')) throw new Error('a HubSpot connection has transcripts, consent and erasure');
      return connector;
    };

    it('writes one contact\'s consent changes in the order given, and checks the property once', async () => {
      const [anna, bob] = await connector.contacts.ensure([{ customer: aCustomer({ waId: '48601234567' }) }, { customer: aCustomer({ waId: '48601234568' }) }]);
      const changedAt = new Date();
      await facets().consent.record([
        { contact: anna, consent: { scope: 'marketing', optedIn: false, changedAt, source: 'keyword:STOP' } },
        { contact: bob, consent: { scope: 'marketing', optedIn: false, changedAt, source: 'keyword:STOP' } },
        { contact: anna, consent: { scope: 'marketing', optedIn: true, changedAt, source: 'keyword:START' } },
        { contact: bob, consent: { scope: 'transactional', optedIn: true, changedAt, source: 'admin' } },
      ]);
      expect(fake.object('contacts', anna.id)?.properties.whatsapp_marketing_consent).toBe('opted_in');
      expect(fake.object('contacts', bob.id)?.properties.whatsapp_marketing_consent).toBe('opted_out');
      expect(fake.requests().filter((r) => r.path.startsWith('/crm/v3/properties/contacts')).length).toBe(2); // one GET (404), one POST
      expect(fake.requests().filter((r) => r.method === 'PATCH' && r.path.startsWith('/crm/v3/objects/contacts/')).length).toBe(3);

      // The first write answers late: the second still lands after it.
      fake.hang(300);
      await facets().consent.record([
        { contact: anna, consent: { scope: 'marketing', optedIn: false, changedAt, source: 'keyword:STOP' } },
        { contact: anna, consent: { scope: 'marketing', optedIn: true, changedAt, source: 'keyword:START' } },
      ]);
      expect(fake.object('contacts', anna.id)?.properties.whatsapp_marketing_consent).toBe('opted_in');
    });

    it('erases each contact once: the same contact asked twice is not_found the second time', async () => {
      const customers = [aCustomer({ waId: '48601234567' }), aCustomer({ waId: '48601234568' })];
      const [anna, bob] = await connector.contacts.ensure(customers.map((customer) => ({ customer })));
      fake.hang(300); // the first delete answers late
      const receipts = await facets().erasure.erase([
        { contact: anna, customer: customers[0] },
        { contact: bob, customer: customers[1] },
        { contact: anna, customer: customers[0] },
      ]);
      expect(receipts.map((r) => r.outcome)).toEqual(['done', 'done', 'not_found']);
      expect(fake.gdprDeleted().sort()).toEqual([anna.id, bob.id].sort());
    });

    it('attaches several transcripts, one note each, and checks the marker property once', async () => {
      const first = await threadWithTicket();
      const customer = aCustomer({ waId: '48601234568' });
      const contact = await one.ensureContact(customer);
      const second = { ...aThread(customer, contact), status: 'closed' as const };
      const closed = { ...first, status: 'closed' as const };
      const transcripts = [aTranscript(closed), aTranscript(second)];
      const notes = await facets().transcripts.attach([
        { thread: closed, transcript: transcripts[0] },
        { thread: second, transcript: transcripts[1] },
        { thread: closed, transcript: transcripts[0] },
      ]);
      expect(fake.notes()).toHaveLength(2);
      expect(notes[2].id).toBe(notes[0].id);
      expect(notes[1].id).not.toBe(notes[0].id);
      expect(fake.requests().filter((r) => r.path.startsWith('/crm/v3/properties/notes')).length).toBe(2); // one GET (404), one POST
    });
  });

  describe('HubSpot failures', () => {
    it('a real ten-second limit 429 → rate_limited with the fake\'s Retry-After', async () => {
      await start({ rateLimit: { max: 2, intervalMs: 10_000 } });
      const customer = aCustomer();
      await one.ensureContact(customer); // search + create
      const err = await one.ensureContact(customer).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectorError);
      expect(err).toMatchObject({ kind: 'rate_limited', vendorStatus: 429 });
      expect((err as ConnectorError).retryAfterMs).toBeGreaterThanOrEqual(1000);
      expect((err as ConnectorError).retryAfterMs).toBeLessThanOrEqual(10_000);
    });

    it('the search secondly limit → rate_limited for about a second', async () => {
      await start({ searchPerSecond: 1 });
      await one.ensureContact(aCustomer({ waId: '48601234567' }));
      await expect(one.ensureContact(aCustomer({ waId: '48601234568' }))).rejects.toMatchObject({ kind: 'rate_limited', retryAfterMs: 1000 });
    });

    it('an HTML 502 from the edge is still transient with its status', async () => {
      fake.failNext(502, { body: '<html><body>Bad Gateway</body></html>' });
      await expect(one.ensureContact(aCustomer())).rejects.toMatchObject({ kind: 'transient', vendorStatus: 502 });
    });

    it.each([
      ['an empty JSON body', '', 'application/json'],
      ['no Content-Type at all', 'upstream timeout', ''],
    ])('a 503 with %s is still transient with its status', async (_case, body, contentType) => {
      fake.failNext(503, { body, contentType });
      await expect(one.ensureContact(aCustomer())).rejects.toMatchObject({ kind: 'transient', vendorStatus: 503 });
    });

    it('a validation error is invalid_request and its message hides phone numbers', async () => {
      fake.failNext(400, { body: { status: 'error', message: 'Property values were not valid: +48 601 234 567', category: 'VALIDATION_ERROR', correlationId: 'c-1' } });
      const err = (await one.ensureContact(aCustomer()).catch((e: unknown) => e)) as ConnectorError;
      expect(err).toMatchObject({ kind: 'invalid_request', vendorStatus: 400 });
      expect(err.message).toContain('VALIDATION_ERROR');
      expect(err.message).toContain('c-1');
      expect(err.message).not.toContain('601');
    });

    it('a refused connection is transient', async () => {
      await fake.close();
      const url = fake.url;
      fake = await startHubspotFake();
      const offline = createForTest(hubspot, { credentials: { accessToken: TOKEN, baseUrl: url }, settings: {} }).connector;
      await expect(offline.verifyCredentials()).rejects.toMatchObject({ kind: 'transient' });
    });
  });
});

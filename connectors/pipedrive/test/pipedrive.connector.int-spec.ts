/**
 * The Pipedrive connector against the fake Pipedrive over loopback HTTP, through the real SDK:
 * outcomes are read back from what the fake holds.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { CrmConnector, Thread } from '../../_sdk/contract';
import { ConnectorError } from '../../_sdk/errors';
import { aCustomer, aMessage, aThread, aTranscript } from '../../_sdk/testing/builders';
import { createForTest } from '../../_sdk/testing/conformance';
import { oneAtATime, type OneAtATime } from '../../_sdk/testing/one-at-a-time';
import { testDeps, type TestDeps } from '../../_sdk/testing/ports';
import { pipedrive } from '../index';
import { startPipedriveFake, type PipedriveFake } from './pipedrive.fake-server';

const HOUR = 3_600_000;
const CONSENT_FIELD = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0';

let fake: PipedriveFake;
let deps: TestDeps;

beforeEach(async () => {
  fake = await startPipedriveFake();
  deps = testDeps();
});

afterEach(async () => {
  await fake.close();
});

function build(settings: object = {}, overrides: { deps?: TestDeps; credentials?: object } = {}): CrmConnector {
  return createForTest(pipedrive, { credentials: { ...fake.credentials(), ...overrides.credentials }, settings }, overrides.deps ?? deps).connector;
}

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

/** A customer, their person and a lead: what appendMessages starts from. */
async function leadThread(connector: OneAtATime, waId = '48601234567', overrides: Partial<Thread> = {}): Promise<Thread> {
  const customer = aCustomer({ waId, profileName: 'Anna Nowak' });
  const contact = await connector.ensureContact(customer);
  const thread = aThread(customer, contact, overrides);
  return { ...thread, ticket: await connector.ensureTicket(thread) };
}

describe('contacts', () => {
  it('finds the person a salesperson stored as "+48 601 234 567" for wa_id 48601234567', async () => {
    const seeded = fake.seedPerson({ name: 'Anna (typed by hand)', phones: ['+48 601 234 567'] });
    const ref = await connect().ensureContact(aCustomer({ waId: '48601234567' }));
    expect(ref).toMatchObject({ id: String(seeded.id), type: 'person', url: `${fake.url}/person/${seeded.id}` });
    expect(fake.persons()).toHaveLength(1);
  });

  it('creates a missing person named from the WhatsApp profile, the number in E.164 as a mobile phone', async () => {
    const ref = await connect().ensureContact(aCustomer({ waId: '48601234567', profileName: 'Anna Nowak' }));
    expect(fake.person(ref.id)).toMatchObject({ name: 'Anna Nowak', phones: [{ value: '+48601234567', label: 'mobile', primary: true }] });
  });

  it('names a person without a profile name by the number', async () => {
    const ref = await connect().ensureContact(aCustomer({ waId: '48601234567', profileName: undefined }));
    expect(fake.person(ref.id)?.name).toBe('+48601234567');
  });

  it('does not take a person whose exactly matching national form is another country’s number', async () => {
    // "601234567" typed for a Spanish customer reads as Polish next to +48 — but the hit must hold the number.
    const other = fake.seedPerson({ name: 'Someone in Madrid', phones: ['+34 601 234 567'] });
    const ref = await connect().ensureContact(aCustomer({ waId: '48601234567' }));
    expect(ref.id).not.toBe(String(other.id));
  });

  it('gives one person for the same number twice in one batch (two conversations synced at once)', async () => {
    const connector = build();
    const customer = aCustomer({ waId: '48601234567' });
    const refs = await connector.contacts.ensure([{ customer }, { customer: { ...customer, contactId: 'other-local-id' } }, { customer: aCustomer({ waId: '48601234599' }) }]);
    expect(refs[0].id).toBe(refs[1].id);
    expect(refs[2].id).not.toBe(refs[0].id);
    expect(fake.contactsMatching('+48601234567')).toBe(1);
  });

  it('does not create the person twice when the create’s answer was lost and search lags 3 s', async () => {
    const connector = connect();
    const customer = aCustomer({ waId: '48601234567' });
    fake.setSearchLag(3_000);
    fake.resetAfterNextCreate();
    await expect(rejection(connector.ensureContact(customer))).resolves.toMatchObject({ kind: 'transient' });
    expect(fake.contactsMatching('+48601234567')).toBe(1); // it was created
    const again = await connector.ensureContact(customer); // at once: the search index has not seen it
    expect(fake.contactsMatching('+48601234567')).toBe(1);
    expect(fake.persons().map((p) => String(p.id))).toEqual([again.id]);
    // It was found in the newest persons, not by the lagging search.
    expect(fake.requestsTo('GET', '/api/v2/persons').length).toBeGreaterThan(0);
  });

  it('skips a search hit the lagging index still holds after the person was deleted', async () => {
    const connector = connect();
    const customer = aCustomer({ waId: '48601234567' });
    const first = await connector.ensureContact(customer);
    fake.setSearchLag(10_000);
    fake.deletePerson(first.id);
    const second = await connector.ensureContact(customer);
    expect(second.id).not.toBe(first.id);
    expect(fake.contactsMatching('+48601234567')).toBe(1);
  });

  it('checks `known` with one request, and looks again when that person was deleted', async () => {
    const connector = connect();
    const customer = aCustomer({ waId: '48601234567' });
    const first = await connector.ensureContact(customer);
    const before = fake.requestCount();
    await expect(connector.ensureContact(customer, first)).resolves.toHaveProperty('id', first.id);
    expect(fake.requestCount() - before).toBe(1);
    fake.person(first.id)!.is_deleted = true;
    const second = await connector.ensureContact(customer, first);
    expect(second.id).not.toBe(first.id);
  });
});

describe('timeline: one note per burst', () => {
  it('writes a burst as one note on the person and the lead, in order, with WhatsApp times', async () => {
    const connector = connect();
    const thread = await leadThread(connector);
    const t0 = new Date('2026-03-02T09:15:00Z');
    const texts = ['Hello!', 'I ordered a <big> blue chair', 'when will it arrive?'];
    const messages = texts.map((text, i) => aMessage({ text, timestamp: new Date(t0.getTime() + i * 4_000) }));
    const results = await connector.appendMessages(thread, messages);

    expect(results.map((r) => r.messageId)).toEqual(messages.map((m) => m.id));
    expect(new Set(results.map((r) => r.remote.id)).size).toBe(1);
    const notes = fake.notesOf(thread.contact.id);
    expect(notes).toHaveLength(1);
    const [note] = notes;
    expect(note).toMatchObject({ id: Number(results[0].remote.id), lead_id: thread.ticket!.id });
    expect(note.content).toContain('2026-03-02');
    const positions = ['[09:15:00] <b>Anna Nowak</b>: Hello!', '[09:15:04] <b>Anna Nowak</b>: I ordered a &lt;big&gt; blue chair', '[09:15:08] <b>Anna Nowak</b>: when will it arrive?'].map((line) => note.content.indexOf(line));
    expect(positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1]))).toBe(true);
  });

  it('starts a new note after a pause longer than noteBurstMs, and writes the times in the configured zone', async () => {
    const connector = connect({ noteBurstMs: 5_000, timeZone: 'Europe/Warsaw' });
    const thread = await leadThread(connector);
    const t0 = new Date('2026-07-01T10:00:00Z');
    const messages = [aMessage({ text: 'first', timestamp: t0 }), aMessage({ text: 'second', timestamp: new Date(t0.getTime() + 2_000) }), aMessage({ text: 'much later', timestamp: new Date(t0.getTime() + 60_000) })];
    const results = await connector.appendMessages(thread, messages);
    expect(results[0].remote.id).toBe(results[1].remote.id);
    expect(results[2].remote.id).not.toBe(results[0].remote.id);
    const notes = fake.notesOf(thread.contact.id);
    expect(notes.map((n) => n.content.includes('much later'))).toEqual([false, true]);
    expect(notes[0].content).toContain('[12:00:00]'); // CEST
  });

  it('renders agents’ replies, rendered locations and media as links; media without a file say why', async () => {
    const connector = connect();
    const thread = await leadThread(connector);
    const t = Date.now();
    await connector.appendMessages(thread, [
      aMessage({ type: 'location', text: '📍 Location: Złota 44, Warsaw (52.23, 21.00)', timestamp: new Date(t) }),
      aMessage({ type: 'image', text: 'the receipt', media: { mimeType: 'image/jpeg', url: 'https://threadbridge.example.com/media/abc?token=x' }, timestamp: new Date(t + 1_000) }),
      aMessage({ type: 'audio', text: '', media: { mimeType: 'audio/ogg', unavailableReason: 'download failed' }, timestamp: new Date(t + 2_000) }),
      aMessage({ direction: 'outbound', author: 'Agent Smith', text: 'Thanks, checking!', timestamp: new Date(t + 3_000) }),
    ]);
    const [note] = fake.notesOf(thread.contact.id);
    expect(note.content).toContain('Złota 44');
    expect(note.content).toContain('<a href="https://threadbridge.example.com/media/abc?token=x">image.jpg</a>');
    expect(note.content).toContain('audio.ogg (download failed)');
    expect(note.content).toContain('<b>Agent Smith</b>: Thanks, checking!');
  });

  it('uploads stored media into the Files of the person and the lead with uploadMedia, once across a replay', async () => {
    const connector = connect({ uploadMedia: true });
    const thread = await leadThread(connector);
    deps.media.put('media/photo-1', Buffer.from('jpeg bytes'));
    const photo = aMessage({ type: 'image', text: 'the receipt', media: { storageKey: 'media/photo-1', mimeType: 'image/jpeg', filename: 'receipt 1.jpg', url: 'https://tb.example.com/m/1' } });
    const lost = aMessage({ type: 'document', text: '', media: { storageKey: 'media/missing', mimeType: 'application/pdf', filename: 'offer.pdf' } });
    await connector.appendMessages(thread, [photo, lost]);
    expect(fake.files()).toEqual([expect.objectContaining({ name: `whatsapp-${photo.id}-receipt_1.jpg`, person_id: Number(thread.contact.id), lead_id: thread.ticket!.id, bytes: Buffer.from('jpeg bytes') })]);
    const [note] = fake.notesOf(thread.contact.id);
    expect(note.content).toContain(`<a href="https://tb.example.com/m/1">receipt 1.jpg</a> (in Files: whatsapp-${photo.id}-receipt_1.jpg)`);
    expect(note.content).toContain('offer.pdf (file not available)');
    expect(deps.logger.entries.filter((e) => e.level === 'warn')).toHaveLength(1);

  });

  it('does not upload a file twice when the upload’s answer was lost', async () => {
    const connector = connect({ uploadMedia: true });
    const thread = await leadThread(connector);
    deps.media.put('media/photo-2', Buffer.from('png bytes'));
    const photo = aMessage({ type: 'image', text: '', media: { storageKey: 'media/photo-2', mimeType: 'image/png' } });
    fake.resetAfterNextCreate();
    await expect(rejection(connector.appendMessages(thread, [photo]))).resolves.toMatchObject({ kind: 'transient' });
    expect(fake.files()).toHaveLength(1);
    await connector.appendMessages(thread, [{ ...photo, maybeCreated: true }]);
    expect(fake.files()).toHaveLength(1);
    expect(fake.notesOf(thread.contact.id)).toEqual([expect.objectContaining({ content: expect.stringContaining(`(in Files: whatsapp-${photo.id}-image.png)`) })]);
  });

  it('notes on the person alone with leads off (and has no tickets facet then)', async () => {
    const built = build({ leads: false });
    expect(built.tickets).toBeUndefined();
    const connector = oneAtATime(built);
    const contact = await connector.ensureContact(aCustomer());
    await connector.appendMessages(aThread(aCustomer(), contact), [aMessage({ text: 'no lead please' })]);
    expect(fake.leads()).toHaveLength(0);
    expect(fake.notesOf(contact.id)).toEqual([expect.objectContaining({ lead_id: null, deal_id: null })]);
  });

  it('reads the notes list only when a message may have been written, and then writes only what is missing', async () => {
    const connector = connect();
    const thread = await leadThread(connector);
    const t = Date.now() - 10_000;
    const first = [aMessage({ text: 'one', timestamp: new Date(t) })];
    await connector.appendMessages(thread, first);
    expect(fake.requestsTo('GET', '/api/v1/notes')).toHaveLength(0);
    const second = aMessage({ text: 'two', timestamp: new Date(t + 30_000) });
    await connector.appendMessages(thread, [{ ...first[0], maybeCreated: true }, { ...second, maybeCreated: true }]);
    expect(fake.requestsTo('GET', '/api/v1/notes')).toHaveLength(1);
    expect(fake.notesOf(thread.contact.id).map((n) => [n.content.includes('one'), n.content.includes('two')])).toEqual([
      [true, false],
      [false, true],
    ]);
  });

  it('answers not_found when the person is gone, so the core links the customer anew', async () => {
    const connector = connect();
    const thread = await leadThread(connector);
    fake.person(thread.contact.id)!.is_deleted = true;
    await expect(rejection(connector.appendMessages(thread, [aMessage()]))).resolves.toMatchObject({ kind: 'not_found' });
  });
});

describe('tickets: a lead per conversation', () => {
  const openedAgo = (ms: number) => new Date(Date.now() - ms);

  it('opens a lead for a new conversation, titled from the template, for the person', async () => {
    const connector = connect({ leadTitleTemplate: 'Chat with {{name}} via {{businessNumber}}' });
    const customer = aCustomer({ profileName: 'Anna Nowak' });
    const contact = await connector.ensureContact(customer);
    const ref = await connector.ensureTicket(aThread(customer, contact));
    expect(ref).toMatchObject({ type: 'lead', url: `${fake.url}/leads/inbox/${ref.id}` });
    expect(fake.lead(ref.id)).toMatchObject({ title: 'Chat with Anna Nowak via +1 555 010 0000', person_id: Number(contact.id), is_archived: false });
  });

  it('reuses the customer’s open lead for a conversation within leadReuseHours, and opens a new one after', async () => {
    const connector = connect({ leadReuseHours: 24 });
    const customer = aCustomer();
    const contact = await connector.ensureContact(customer);
    const old = fake.seedLead({ title: 'earlier chat', personId: contact.id, addedAt: openedAgo(30 * HOUR) });
    const recent = fake.seedLead({ title: 'yesterday’s chat', personId: contact.id, addedAt: openedAgo(20 * HOUR) });
    const within = await connector.ensureTicket(aThread(customer, contact), { id: recent.id, type: 'lead' });
    expect(within.id).toBe(recent.id);

    fake.lead(recent.id)!.add_time = fake.lead(recent.id)!.update_time = openedAgo(25 * HOUR).toISOString();
    const after = await connector.ensureTicket(aThread(customer, contact), { id: recent.id, type: 'lead' });
    expect([old.id, recent.id]).not.toContain(after.id);
    expect(fake.leads().filter((l) => l.person_id === Number(contact.id))).toHaveLength(3);
  });

  it('counts the lead’s newest note as its last activity', async () => {
    const connector = connect({ leadReuseHours: 2 });
    const customer = aCustomer();
    const contact = await connector.ensureContact(customer);
    const lead = fake.seedLead({ title: 'last week', personId: contact.id, addedAt: openedAgo(7 * 24 * HOUR) });
    const earlier = { ...aThread(customer, contact, { openedAt: openedAgo(3 * HOUR) }), ticket: { id: lead.id, type: 'lead' } };
    await connector.appendMessages(earlier, [aMessage({ text: 'an hour ago' })]);
    await expect(connector.ensureTicket(aThread(customer, contact), { id: lead.id, type: 'lead' })).resolves.toHaveProperty('id', lead.id);
  });

  it('keeps the conversation’s own lead however long the conversation runs, and opens a new one when it was archived', async () => {
    const connector = connect({ leadReuseHours: 1 });
    const thread = await leadThread(connector, '48601234567', { openedAt: openedAgo(5 * HOUR) });
    await expect(connector.ensureTicket(thread, thread.ticket)).resolves.toHaveProperty('id', thread.ticket!.id);
    fake.archiveLead(thread.ticket!.id);
    const next = await connector.ensureTicket(thread, thread.ticket);
    expect(next.id).not.toBe(thread.ticket!.id);
  });

  it('finds a lead whose create was answered by a reset connection instead of opening a second', async () => {
    const connector = connect();
    const customer = aCustomer();
    const contact = await connector.ensureContact(customer);
    const thread = aThread(customer, contact);
    fake.resetAfterNextCreate();
    await expect(rejection(connector.ensureTicket(thread))).resolves.toMatchObject({ kind: 'transient' });
    const ref = await connector.ensureTicket(thread);
    expect(fake.leads().map((l) => l.id)).toEqual([ref.id]);
  });

  it('opens one lead for two conversations of a customer in one batch', async () => {
    const connector = build();
    const customer = aCustomer();
    const [contact] = await connector.contacts.ensure([{ customer }]);
    const refs = await connector.tickets!.ensure([{ thread: aThread(customer, contact) }, { thread: aThread(customer, contact, { businessNumber: '+1 555 010 9999' }) }]);
    expect(refs[0].id).toBe(refs[1].id);
    expect(fake.leads()).toHaveLength(1);
  });

  it('follows a lead converted into a deal: the deal is the conversation’s, and its notes land there', async () => {
    const connector = connect();
    const thread = await leadThread(connector);
    const deal = fake.convertLeadToDeal(thread.ticket!.id);
    const ref = await connector.ensureTicket(thread, thread.ticket);
    expect(ref).toMatchObject({ id: String(deal.id), type: 'deal', url: `${fake.url}/deal/${deal.id}` });
    await connector.appendMessages({ ...thread, ticket: ref }, [aMessage({ text: 'about the deal' })]);
    expect(fake.notesOf(thread.contact.id).find((n) => n.content.includes('about the deal'))).toMatchObject({ deal_id: deal.id, lead_id: null });
    await expect(connector.ensureTicket(thread, ref)).resolves.toHaveProperty('id', String(deal.id));
    // After the core dropped the link (a note to the converted lead answered 404), without `known`:
    await expect(connector.ensureTicket(thread)).resolves.toHaveProperty('id', String(deal.id));
    expect(fake.leads()).toHaveLength(0);
  });
});

describe('transcripts', () => {
  it('attaches the transcript as one note on the person and the lead, once', async () => {
    const connector = connect();
    const thread = await leadThread(connector);
    const messages = [aMessage({ text: 'Where is my parcel?' }), aMessage({ direction: 'outbound', author: 'Agent Smith', text: 'On its way!' })];
    const transcript = aTranscript(thread, messages);
    const first = await connector.attachTranscript({ ...thread, status: 'closed' }, transcript);
    const again = await connector.attachTranscript({ ...thread, status: 'closed' }, transcript);
    expect(again.id).toBe(first.id);
    const notes = fake.notesOf(thread.contact.id).filter((n) => n.content.includes('transcript'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ lead_id: thread.ticket!.id });
    expect(notes[0].content.indexOf('Where is my parcel?')).toBeLessThan(notes[0].content.indexOf('<b>Agent Smith</b>: On its way!'));
  });
});

describe('consent', () => {
  it('has a consent facet only with a consent field configured', () => {
    expect(build().consent).toBeUndefined();
    expect(build({ consentField: CONSENT_FIELD }).consent).toBeDefined();
  });

  it('writes the consent state into the person field, the configured values when given, and skips the other scope', async () => {
    const connector = connect({ consentField: CONSENT_FIELD, consentOptedOutValue: '42' });
    const contact = await connector.ensureContact(aCustomer());
    const changedAt = new Date('2026-05-04T12:00:00Z');
    await connector.recordConsent(contact, { scope: 'marketing', optedIn: true, changedAt, source: 'keyword:START' });
    expect(fake.person(contact.id)!.custom_fields[CONSENT_FIELD]).toBe('WhatsApp marketing: opted in (2026-05-04, keyword:START)');
    await connector.recordConsent(contact, { scope: 'transactional', optedIn: false, changedAt, source: 'api' });
    expect(fake.person(contact.id)!.custom_fields[CONSENT_FIELD]).toMatch(/opted in/);
    await connector.recordConsent(contact, { scope: 'marketing', optedIn: false, changedAt, source: 'keyword:STOP' });
    expect(fake.person(contact.id)!.custom_fields[CONSENT_FIELD]).toBe('42');
  });
});

describe('erasure', () => {
  it('deletes the person, its notes, files and leads, with a receipt; not_found the second time', async () => {
    const connector = connect({ uploadMedia: true });
    const thread = await leadThread(connector);
    deps.media.put('media/id-card', Buffer.from('scan'));
    await connector.appendMessages(thread, [aMessage({ text: 'personal data', type: 'image', media: { storageKey: 'media/id-card', mimeType: 'image/jpeg' } })]);
    await connector.attachTranscript(thread, aTranscript(thread));
    const receipt = await connector.eraseContact(thread.contact, thread.customer);
    expect(receipt).toEqual({ outcome: 'done', detail: 'person deleted (Pipedrive purges it after 30 days) with 2 note(s), 1 file(s) and 1 lead(s)' });
    expect(fake.files()).toHaveLength(0);
    expect(fake.persons()).toHaveLength(0);
    expect(fake.notes()).toHaveLength(0);
    expect(fake.leads()).toHaveLength(0);
    await expect(connector.eraseContact(thread.contact, thread.customer)).resolves.toEqual({ outcome: 'not_found' });
  });
});

describe('limits and errors', () => {
  it('turns a burst-limit 429 into rate_limited with retryAfterMs from x-ratelimit-reset', async () => {
    const connector = connect();
    fake.setBurstLimit(1);
    await connector.verifyCredentials();
    const error = await rejection(connector.verifyCredentials());
    expect(error).toMatchObject({ kind: 'rate_limited', vendorStatus: 429 });
    expect(error.retryAfterMs).toBeGreaterThanOrEqual(1_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(2_000);
    const last = fake.requests().at(-1)!;
    expect(last.status).toBe(429);
  });

  it('turns an empty daily token budget into rate_limited until Pipedrive’s reset', async () => {
    fake.setDailyTokens(1);
    const error = await rejection(connect().verifyCredentials());
    expect(error.kind).toBe('rate_limited');
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(error.retryAfterMs).toBeLessThanOrEqual(24 * HOUR);
  });

  it('401 → auth, 404 → not_found, other 4xx → invalid_request, without the token in the message', async () => {
    const connector = connect();
    const customer = aCustomer();
    fake.failNext(401);
    await expect(rejection(connector.ensureContact(customer))).resolves.toMatchObject({ kind: 'auth' });
    fake.failNext(403, { body: { success: false, error: 'Open deals limit reached.', code: 'feature_capping_deals_limit' } });
    const forbidden = await rejection(connector.ensureContact(customer));
    expect(forbidden).toMatchObject({ kind: 'invalid_request', vendorStatus: 403 });
    expect(forbidden.message).toContain('feature_capping_deals_limit');
    fake.failNext(400, { body: { success: false, error: 'Validation failed: phones[0].value: +48 601 234 567 is invalid' } });
    const invalid = await rejection(connector.ensureContact(customer));
    expect(invalid.kind).toBe('invalid_request');
    expect(invalid.message).not.toContain('601 234 567');
    const thread = { ...aThread(customer, await connector.ensureContact(customer)), ticket: { id: '5c0a2d63-0000-4000-8000-000000000000', type: 'lead' } };
    await expect(rejection(connector.appendMessages(thread, [aMessage()]))).resolves.toMatchObject({ kind: 'not_found' });
    expect(deps.logger.text()).not.toContain(fake.apiToken);
  });

  it('spends exactly the tokens Pipedrive charges, the v2 price where v2 has the endpoint', async () => {
    const connector = connect();
    const customer = aCustomer({ waId: '48601234567' });
    const contact = await connector.ensureContact(customer);
    // Ten written forms searched (20 each), the newest persons (10), the create (5).
    expect(deps.budget.acquired).toBe(10 * 20 + 10 + 5);
    const thread: Thread = { ...aThread(customer, contact), ticket: await connector.ensureTicket(aThread(customer, contact)) };
    await connector.appendMessages(thread, [aMessage({ text: 'a' }), aMessage({ text: 'b' })]);
    expect(deps.budget.acquired).toBe(fake.tokensSpent());
    expect(fake.requests().filter((r) => r.path.startsWith('/api/v1/persons'))).toHaveLength(0);
    // New customer, first burst: 215 for the person, 40 for the lead (leads and deals listed, then
    // the create), 10 for the note.
    expect(fake.tokensSpent()).toBe(215 + 40 + 10);
    expect(fake.requestCount()).toBe(10 + 2 + 3 + 1);
  });
});

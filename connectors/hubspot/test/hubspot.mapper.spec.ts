import { describe, it, expect } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { AgentReplyEvent, ReplyStatus, Thread, UnifiedMessage } from '../../_sdk/contract';
import { aCustomer, aMessage, aThread, aTranscript } from '../../_sdk/testing/builders';
import { HubspotTicketSettings } from '../hubspot.credentials';
import { phoneVariants } from '../../_sdk/phone';
import {
  MAX_FILTER_GROUPS,
  MAX_IN_VALUES,
  assignCreatedContacts,
  assignCreatedTickets,
  decideTicket,
  fromHubspotChannelEvents,
  matchContacts,
  matchMarkers,
  matchReadObjects,
  pickContact,
  renderSubject,
  splitName,
  toChannelMessage,
  toChannelStatusUpdate,
  toChannelText,
  toConsentValue,
  toContactSearch,
  toContactSearches,
  toFileName,
  toFileUsageType,
  toHubspotCommunication,
  toHubspotContact,
  toHubspotTicket,
  toHubspotTranscriptNote,
  transcriptKey,
} from '../hubspot.mapper';
import type { HubspotObject } from '../hubspot.types';
import { signHubspotV3, signedUri, toChannelAccountInput, toCustomChannelInput, verifyHubspotV3Signature } from '../hubspot.webhooks';

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(path.resolve(process.cwd(), 'connectors/hubspot/fixtures', name), 'utf8')) as T;

const thread = (withTicket: boolean): Thread => {
  const customer = aCustomer({ waId: '48601234567', profileName: 'Anna Nowak' });
  return aThread(customer, { id: '1001', type: 'contact' }, withTicket ? { ticket: { id: '2002', type: 'ticket' }, businessNumber: '+1 555 0100' } : { businessNumber: '+1 555 0100' });
};

describe('pickContact (fixtures/contact-search.json)', () => {
  type Case = { name: string; e164: string; results: (Omit<HubspotObject, 'createdAt'> & { createdAt: string })[]; expectedId: string | null };
  const { cases } = fixture<{ cases: Case[] }>('contact-search.json');
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const results = c.results.map((r) => ({ ...r, createdAt: new Date(r.createdAt) }));
    expect(pickContact(results, c.e164)?.id ?? null).toBe(c.expectedId);
  });
});

describe('toHubspotCommunication (fixtures/communications.json)', () => {
  type Case = { name: string; withTicket: boolean; uploadedUrl?: string; message: Omit<UnifiedMessage, 'timestamp' | 'wamid' | 'maybeCreated'> & { timestamp: string }; expected: object };
  const { cases } = fixture<{ cases: Case[] }>('communications.json');
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const message: UnifiedMessage = { wamid: `wamid.${c.message.id}`, maybeCreated: false, ...c.message, timestamp: new Date(c.message.timestamp) };
    expect(toHubspotCommunication(thread(c.withTicket), message, c.uploadedUrl)).toMatchObject(c.expected);
  });
});

describe('decideTicket (fixtures/tickets.json)', () => {
  type Case = { name: string; now: string; settings?: Partial<HubspotTicketSettings>; properties: Record<string, string | null>; expected: string };
  const { cases } = fixture<{ cases: Case[] }>('tickets.json');
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const settings = Object.assign(new HubspotTicketSettings(), c.settings ?? {});
    expect(decideTicket({ id: '1', properties: c.properties }, settings, new Date(c.now))).toBe(c.expected);
  });
});

describe('splitName (fixtures/names.json)', () => {
  const { cases } = fixture<{ cases: { profileName: string | null; expected: object }[] }>('names.json');
  it.each(cases.map((c) => [c.profileName, c.expected] as const))('%j', (profileName, expected) => {
    expect(splitName(profileName ?? undefined)).toEqual(expected);
  });
});

describe('contacts', () => {
  it('a new contact carries the number in phone and the WhatsApp property', () => {
    expect(toHubspotContact(aCustomer({ waId: '16505551234', profileName: 'Jo Doe' }))).toEqual({
      firstname: 'Jo',
      lastname: 'Doe',
      phone: '+16505551234',
      hs_whatsapp_phone_number: '+16505551234',
    });
  });

  it('searches each phone property in its own OR group with one IN filter of all variants', () => {
    const search = toContactSearch('+48601234567');
    expect(search.filterGroups.map((g) => g.filters.map((f) => [f.propertyName, f.operator]))).toEqual([
      [['phone', 'IN']],
      [['mobilephone', 'IN']],
      [['hs_whatsapp_phone_number', 'IN']],
    ]);
    expect(search.filterGroups.length).toBeLessThanOrEqual(5);
    expect(search.filterGroups[0].filters[0].values).toEqual(expect.arrayContaining(['+48601234567', '0048601234567', '601 234 567', '+48 601 234 567']));
    expect(search.limit).toBeLessThanOrEqual(200);
  });
});

describe('contacts in batches', () => {
  const contact = (id: string, properties: Record<string, string>, createdAt = '2024-01-01T00:00:00Z'): HubspotObject => ({ id, properties, createdAt: new Date(createdAt) });
  const numbers = [
    ...Array.from({ length: 80 }, (_, i) => `+48601000${String(i).padStart(3, '0')}`),
    ...Array.from({ length: 20 }, (_, i) => `+1650555${String(100 + i).padStart(4, '0')}`),
  ];

  it('covers every written form of 100 numbers in every phone property within HubSpot\'s search limits', () => {
    const searches = toContactSearches(numbers);
    const pairs = new Set<string>();
    for (const search of searches) {
      expect(search.filterGroups.length).toBeLessThanOrEqual(MAX_FILTER_GROUPS);
      expect(search.limit).toBe(200);
      for (const group of search.filterGroups) {
        expect(group.filters).toHaveLength(1);
        const [filter] = group.filters;
        expect(filter.operator).toBe('IN');
        expect(filter.values!.length).toBeLessThanOrEqual(MAX_IN_VALUES);
        for (const value of filter.values!) pairs.add(`${filter.propertyName}=${value}`);
      }
    }
    const forms = [...new Set(numbers.flatMap((n) => phoneVariants(n)))];
    expect(pairs.size).toBe(forms.length * 3);
    for (const form of forms) for (const p of ['phone', 'mobilephone', 'hs_whatsapp_phone_number']) expect(pairs.has(`${p}=${form}`)).toBe(true);
    // As few searches as the limits allow.
    expect(searches).toHaveLength(Math.ceil((3 * Math.ceil(forms.length / MAX_IN_VALUES)) / MAX_FILTER_GROUPS));
  });

  it('matches hits back to their numbers by normalising what is stored, the best contact per number', () => {
    const hits = [
      contact('1', { phone: '601 000 001' }),
      contact('2', { mobilephone: '0048601000002' }),
      contact('3', { phone: '(650) 555-0100' }),
      contact('4', { hs_whatsapp_phone_number: '+48601000001' }, '2024-06-01T00:00:00Z'), // newer, but the WhatsApp number
      contact('5', { phone: '+48 601 000 002' }, '2025-01-01T00:00:00Z'), // a newer duplicate
      contact('6', { phone: 'ask reception' }),
    ];
    const matched = matchContacts(hits, ['+48601000001', '+48601000002', '+16505550100', '+48601000009']);
    expect(Object.fromEntries([...matched].map(([e164, c]) => [e164, c.id]))).toEqual({ '+48601000001': '4', '+48601000002': '2', '+16505550100': '3' });
  });

  it('matches created contacts by the number written, leftovers in input order', () => {
    const created = [contact('2', { phone: '+48601000002' }), contact('1', { phone: '+48601000001' })];
    const assigned = assignCreatedContacts(['+48601000001', '+48601000002'], created);
    expect(Object.fromEntries([...assigned.byNumber].map(([e164, c]) => [e164, c.id]))).toEqual({ '+48601000001': '1', '+48601000002': '2' });
    expect(assigned.reordered).toBe(false);
    const rewritten = assignCreatedContacts(['+48601000001', '+48601000002'], [contact('1', { phone: '+48601000001' }), contact('2', { phone: 'unreadable' })]);
    expect(rewritten.byNumber.get('+48601000002')?.id).toBe('2');
    expect(rewritten.reordered).toBe(true);
  });

  it('matches batch reads to the ids asked for, merged-away ids to the surviving record', () => {
    const read = [contact('10', {}), contact('30', { hs_merged_object_ids: '20;21' }), { ...contact('40', {}), archived: true }];
    const found = matchReadObjects(read, ['10', '20', '40', '50']);
    expect(Object.fromEntries([...found].map(([id, c]) => [id, c.id]))).toEqual({ '10': '10', '20': '30' });
  });

  it('matches a batch read by marker to the markers asked for, skipping archived and unasked objects', () => {
    const marker = (id: string, value: string | null, archived = false) => ({ id, properties: { threadbridge_message_uid: value }, archived });
    const read = [marker('1', 'm-1'), marker('2', 'm-2', true), marker('3', 'm-9'), marker('4', null), marker('5', 'm-3')];
    const found = matchMarkers(read, 'threadbridge_message_uid', ['m-1', 'm-2', 'm-3', 'm-4']);
    expect(Object.fromEntries(found)).toEqual({ 'm-1': '1', 'm-3': '5' });
  });
});

describe('tickets', () => {
  it('matches created tickets to their inputs by what was written, whatever order HubSpot answers in', () => {
    const settings = new HubspotTicketSettings();
    const a = aThread(aCustomer({ waId: '48601000001', profileName: 'A' }), { id: '1', type: 'contact' });
    const b = aThread(aCustomer({ waId: '48601000002', profileName: 'B' }), { id: '2', type: 'contact' });
    const inputs = [a, b, a].map((t) => toHubspotTicket(t, settings));
    const results = [
      { id: '902', properties: { ...inputs[1].properties } },
      { id: '901', properties: { ...inputs[0].properties } },
      { id: '903', properties: { ...inputs[2].properties } },
    ];
    expect(assignCreatedTickets(inputs, results)).toEqual({ ids: ['901', '902', '903'], reordered: false });
    // Should HubSpot rewrite what it stored, the unmatched ones go in input order.
    const rewritten = results.map((r) => (r.id === '902' ? { ...r, properties: { ...r.properties, subject: 'changed' } } : r));
    expect(assignCreatedTickets(inputs, rewritten)).toEqual({ ids: ['901', '902', '903'], reordered: true });
  });

  it('renders the subject template and leaves unknown placeholders', () => {
    expect(renderSubject('WhatsApp: {{name}} ({{phone}}) via {{ businessNumber }} {{unknown}}', thread(false))).toBe('WhatsApp: Anna Nowak (+48601234567) via +1 555 0100 {{unknown}}');
    const anonymous = aThread(aCustomer({ waId: '48601234567', profileName: undefined }), { id: '1', type: 'contact' });
    expect(renderSubject('{{name}}', anonymous)).toBe('+48601234567');
  });

  it('creates in the configured pipeline and open stage, associated to the contact (16)', () => {
    const settings = Object.assign(new HubspotTicketSettings(), { pipeline: 'p9', openStage: 's1' });
    expect(toHubspotTicket(thread(false), settings)).toMatchObject({
      properties: { hs_pipeline: 'p9', hs_pipeline_stage: 's1', subject: 'WhatsApp: Anna Nowak (+48601234567)' },
      associations: [{ to: { id: '1001' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 16 }] }],
    });
  });
});

describe('transcripts', () => {
  it('a note with the transcript HTML, attachments and the contact (202) and ticket (228)', () => {
    const t = thread(true);
    const messages = [
      aMessage({ text: 'Hi <b>', timestamp: new Date('2024-05-01T12:00:00Z') }),
      aMessage({ type: 'image', text: '', media: { storageKey: 'k', filename: 'a.jpg' }, timestamp: new Date('2024-05-01T12:01:00Z') }),
    ];
    const transcript = aTranscript(t, messages, { closedAt: new Date('2024-05-01T13:00:00Z') });
    const note = toHubspotTranscriptNote(t, transcript, [undefined, { id: 'f-1', url: 'https://files.example/a.jpg' }]);
    expect(note.properties).toMatchObject({ hs_timestamp: '2024-05-01T13:00:00.000Z', hs_attachment_ids: 'f-1', threadbridge_transcript_uid: transcriptKey(transcript) });
    expect(note.properties.hs_note_body).toContain('Hi &lt;b&gt;');
    expect(note.properties.hs_note_body).toContain('href="https://files.example/a.jpg"');
    expect(note.associations?.map((a) => a.types[0].associationTypeId)).toEqual([202, 228]);
  });

  it('has no attachment property without files', () => {
    const t = thread(false);
    const note = toHubspotTranscriptNote(t, aTranscript(t), []);
    expect(note.properties).not.toHaveProperty('hs_attachment_ids');
    expect(note.associations).toHaveLength(1);
  });
});

describe('consent and files', () => {
  it.each([
    ['marketing', true, 'opted_in'],
    ['marketing', false, 'opted_out'],
    ['transactional', false, undefined],
  ] as const)('%s opted in %s → %s', (scope, optedIn, expected) => {
    expect(toConsentValue({ scope, optedIn, changedAt: new Date(), source: 'test' })).toBe(expected);
  });

  it('names uploaded files uniquely and safely', () => {
    expect(toFileName('m-1', 'image', { filename: 'my photo (1).jpg' })).toBe('m-1-my_photo_1_.jpg');
    expect(toFileName('m-2', 'audio', { mimeType: 'audio/ogg; codecs=opus' })).toBe('m-2-audio.ogg');
    expect(toFileName('m-3', 'document', {})).toBe('m-3-document');
  });
});

describe('custom channel: events HubSpot posts (fixtures/channel-events.json)', () => {
  const { cases } = fixture<{ cases: { description: string; body: unknown; events: AgentReplyEvent[] }[] }>('channel-events.json');
  it.each(cases.map((c) => [c.description, c] as const))('%s', (_, c) => {
    expect(fromHubspotChannelEvents(c.body, { channelId: '5001' })).toEqual(c.events);
  });

  it('takes every channel when the connection names none', () => {
    const body = { type: 'OUTGOING_CHANNEL_MESSAGE_CREATED', message: { id: 'a', channelId: '9999', direction: 'OUTGOING', text: 'hi' } };
    expect(fromHubspotChannelEvents(body)).toHaveLength(1);
  });

  it('refuses an outgoing message without an id (replies are deduplicated on it)', () => {
    const body = { type: 'OUTGOING_CHANNEL_MESSAGE_CREATED', message: { direction: 'OUTGOING', text: 'hi' } };
    expect(() => fromHubspotChannelEvents(body)).toThrow(expect.objectContaining({ kind: 'invalid_request' }));
  });
});

describe('custom channel: what threadbridge sends', () => {
  it.each([
    ['sent', undefined, { statusType: 'SENT' }],
    ['delivered', undefined, { statusType: 'SENT' }],
    ['read', undefined, { statusType: 'READ' }],
    ['failed', 'The number is not on WhatsApp.', { statusType: 'FAILED', errorMessage: 'The number is not on WhatsApp.' }],
    ['failed', undefined, { statusType: 'FAILED', errorMessage: 'WhatsApp could not deliver this message. Send it again later.' }],
    ['refused', '  The customer opted out.  ', { statusType: 'FAILED', errorMessage: 'The customer opted out.' }],
    ['refused', undefined, { statusType: 'FAILED', errorMessage: 'threadbridge did not send this message on WhatsApp.' }],
  ] as [ReplyStatus['state'], string | undefined, object][])('%s (%j) → %j', (state, detail, update) => {
    expect(toChannelStatusUpdate({ state, detail })).toEqual(update);
  });

  it('cuts a long reason to 500 characters', () => {
    expect(toChannelStatusUpdate({ state: 'failed', detail: 'x'.repeat(900) }).errorMessage).toHaveLength(500);
  });

  it.each([
    ['image', 'image/jpeg', 'IMAGE'],
    ['sticker', 'image/webp', 'STICKER'],
    ['audio', 'audio/ogg; codecs=opus', 'VOICE_RECORDING'],
    ['audio', 'audio/mpeg', 'AUDIO'],
    ['document', 'application/pdf', 'OTHER'],
    ['video', 'video/mp4', 'OTHER'],
  ])('a %s (%s) is shown as %s', (type, mime, usage) => {
    expect(toFileUsageType(type, mime)).toBe(usage);
  });

  it('gives every message text: its own, a link to a file that could not be attached, or its type', () => {
    expect(toChannelText(aMessage({ text: ' caption ', type: 'image', media: { storageKey: 'k' } }), true)).toBe('caption');
    expect(toChannelText(aMessage({ text: '', type: 'image', media: { storageKey: 'k' } }), true)).toBe('[image]');
    expect(toChannelText(aMessage({ text: 'look', type: 'video', media: { url: 'https://tb.example.com/m/1', filename: 'clip.mp4' } }), false)).toBe(
      'look\n📎 clip.mp4: https://tb.example.com/m/1',
    );
    expect(toChannelText(aMessage({ text: '', type: 'video', media: { unavailableReason: 'too large' } }), false)).toBe('📎 video: not available (too large)');
  });

  it('publishes a customer message from their number to ours, threaded and deduplicated by our ids', () => {
    const customer = aCustomer({ waId: '48601234567', profileName: undefined });
    const thread = aThread(customer, { id: '501', type: 'contact' });
    const message = aMessage({ text: 'hi', timestamp: new Date('2026-03-01T12:00:00Z') });
    expect(toChannelMessage(thread, message, { channelAccountId: '6001', deliveryIdentifier: '+15550100000' }, { id: '88' })).toEqual({
      messageDirection: 'INCOMING',
      channelAccountId: '6001',
      senders: [{ deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+48601234567' }, name: '+48601234567' }],
      recipients: [{ deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+15550100000' } }],
      text: 'hi',
      timestamp: '2026-03-01T12:00:00.000Z',
      integrationThreadId: thread.conversationId,
      integrationIdempotencyId: message.id,
      associateWithContactId: 501,
      attachments: [{ type: 'FILE', fileId: '88', fileUsageType: 'OTHER' }],
    });
  });

  it('registers the channel with our callback URL and connects the inbox under our number', () => {
    expect(toCustomChannelInput('https://tb.example.com/webhooks/hubspot/c1')).toMatchObject({ webhookUrl: 'https://tb.example.com/webhooks/hubspot/c1', capabilities: { threadingModel: 'INTEGRATION_THREAD_ID' } });
    expect(toChannelAccountInput('147959634', '+15550100000')).toEqual({
      name: 'WhatsApp +15550100000',
      inboxId: '147959634',
      deliveryIdentifier: { type: 'HS_PHONE_NUMBER', value: '+15550100000' },
      authorized: true,
    });
  });
});

describe('v3 webhook signatures', () => {
  const url = 'https://tb.example.com/webhooks/hubspot/c1?a=b';
  const body = Buffer.from('[{"type":"OUTGOING_CHANNEL_MESSAGE_CREATED"}]');
  const now = new Date('2026-03-01T12:00:00Z');
  const check = (overrides: Partial<Parameters<typeof verifyHubspotV3Signature>[0]> = {}) =>
    verifyHubspotV3Signature({
      secret: 's3cret',
      signature: signHubspotV3('s3cret', 'POST', url, body, String(now.getTime())),
      timestamp: String(now.getTime()),
      method: 'POST',
      url,
      rawBody: body,
      receivedAt: now,
      ...overrides,
    });

  it('matches HubSpot\'s definition: base64 HMAC-SHA256 over METHOD + URI + body + timestamp', () => {
    const expected = createHmac('sha256', 's3cret').update(`POST${url}${body.toString()}1700000000000`).digest('base64');
    expect(signHubspotV3('s3cret', 'post', url, body, '1700000000000')).toBe(expected);
  });

  it('accepts the signed request and refuses any change, age over 5 minutes, or a missing part', () => {
    expect(check()).toBe(true);
    expect(check({ receivedAt: new Date(now.getTime() + 299_000) })).toBe(true);
    expect(check({ receivedAt: new Date(now.getTime() + 301_000) })).toBe(false);
    expect(check({ receivedAt: new Date(now.getTime() - 61_000) })).toBe(false);
    expect(check({ secret: 'other' })).toBe(false);
    expect(check({ method: 'PUT' })).toBe(false);
    expect(check({ rawBody: Buffer.from(`${body.toString()} `) })).toBe(false);
    expect(check({ timestamp: String(now.getTime() + 1) })).toBe(false);
    expect(check({ timestamp: 'yesterday' })).toBe(false);
    expect(check({ secret: undefined })).toBe(false);
    expect(check({ signature: undefined })).toBe(false);
  });

  it('decodes only the escapes HubSpot decodes before signing', () => {
    expect(signedUri('https://h.example/p?u=https%3a%2F%2Fx%3Fy%40z%21%24%27%28%29%2A%2C%3B&s=a%20b%26c')).toBe("https://h.example/p?u=https://x?y@z!$'()*,;&s=a%20b%26c");
  });
});

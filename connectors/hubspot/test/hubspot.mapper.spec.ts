import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Thread, UnifiedMessage } from '../../_sdk/contract';
import { aCustomer, aMessage, aThread, aTranscript } from '../../_sdk/testing/builders';
import { HubspotTicketSettings } from '../hubspot.credentials';
import {
  decideTicket,
  pickContact,
  renderSubject,
  splitName,
  toConsentValue,
  toContactSearch,
  toFileName,
  toHubspotCommunication,
  toHubspotContact,
  toHubspotTicket,
  toHubspotTranscriptNote,
  transcriptKey,
} from '../hubspot.mapper';
import type { HubspotObject } from '../hubspot.types';

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
    expect(search.filterGroups.length).toBeLessThanOrEqual(6);
    expect(search.filterGroups[0].filters[0].values).toEqual(expect.arrayContaining(['+48601234567', '0048601234567', '601 234 567', '+48 601 234 567']));
    expect(search.limit).toBeLessThanOrEqual(200);
  });
});

describe('tickets', () => {
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
    expect(note.properties).toMatchObject({ hs_timestamp: '2024-05-01T13:00:00.000Z', hs_attachment_ids: 'f-1', threadbridge_transcript_id: transcriptKey(transcript) });
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

/**
 * Pure Pipedrive mapping rules, table-driven, over connectors/pipedrive/fixtures/*.json (answers in
 * Pipedrive's shapes, with made-up people).
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { aCustomer, aMessage, aThread, aTranscript } from '../../_sdk/testing/builders';
import {
  consentValue,
  escapeHtml,
  findTranscriptNote,
  findWrittenMessages,
  isOpen,
  joinsLead,
  pickPerson,
  planNotes,
  renderLeadTitle,
  renderMedia,
  renderNote,
  renderTranscriptNote,
  samePhone,
  toPipedrivePerson,
  findUploadedFiles,
  uploadName,
} from '../pipedrive.mapper';
import type { PipedriveDeal, PipedriveLead, PipedriveNote, PipedrivePersonSearchItem } from '../pipedrive.types';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(path.resolve(process.cwd(), 'connectors/pipedrive/fixtures', name), 'utf8')) as T;
const searchAnswer = fixture<{ data: { items: PipedrivePersonSearchItem[] } }>('person-search.v2.json');
const notesAnswer = fixture<{ data: PipedriveNote[] }>('notes-list.v1.json');
const HOUR = 3_600_000;

describe('persons', () => {
  it.each([
    ['+48 601 234 567', '+48601234567', true],
    ['601-234-567', '+48601234567', true],
    ['0048601234567', '+48601234567', true],
    ['+34 601 234 567', '+48601234567', false],
    ['(650) 555-1234', '+16505551234', true],
    ['', '+48601234567', false],
    [null, '+48601234567', false],
  ])('samePhone(%j, %s) is %s', (typed, e164, expected) => {
    expect(samePhone(typed, e164)).toBe(expected);
  });

  it('picks the oldest hit that really holds the number, not another country’s', () => {
    expect(pickPerson(searchAnswer.data.items, '+48601234567')?.id).toBe(1207);
    expect(pickPerson(searchAnswer.data.items, '+34601234567')?.id).toBe(1002);
    expect(pickPerson(searchAnswer.data.items, '+49301234567')).toBeUndefined();
    expect(pickPerson([], '+48601234567')).toBeUndefined();
  });

  it('names a new person from the profile, else the number, and stores the number in E.164', () => {
    expect(toPipedrivePerson(aCustomer({ waId: '48601234567', profileName: '  Anna Nowak ' }))).toEqual({ name: 'Anna Nowak', phones: [{ value: '+48601234567', label: 'mobile', primary: true }] });
    expect(toPipedrivePerson(aCustomer({ waId: '48601234567', profileName: ' ' })).name).toBe('+48601234567');
  });
});

describe('notes', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 2, 2, 9, 15, s));

  it.each([
    ['a burst', [0, 3, 6], 5_000, [[0, 1, 2]]],
    ['a pause splits', [0, 3, 20], 5_000, [[0, 1], [2]]],
    ['the gap, not the distance from the first, counts', [0, 4, 8, 12], 5_000, [[0, 1, 2, 3]]],
    ['burstMs 0: a note each', [0, 0, 1], 0, [[0], [1], [2]]],
  ] as const)('planNotes: %s', (_name, seconds, burstMs, expected) => {
    const messages = seconds.map((s, i) => aMessage({ id: String(i), timestamp: at(s) }));
    expect(planNotes(messages, { burstMs }).map((note) => note.map((m) => Number(m.id)))).toEqual(expected);
  });

  it('planNotes keeps both directions in one note, and caps a note’s messages', () => {
    const messages = [aMessage({ timestamp: at(0) }), aMessage({ direction: 'outbound', timestamp: at(1) }), aMessage({ timestamp: at(2) })];
    expect(planNotes(messages, { burstMs: 5_000 })).toHaveLength(1);
    expect(planNotes(messages, { burstMs: 5_000, maxMessages: 2 }).map((n) => n.length)).toEqual([2, 1]);
  });

  it('renders a burst with the date, each line’s WhatsApp time and author, escaped text and the marker', () => {
    const messages = [
      aMessage({ id: 'id-1', text: 'Hi <script>\nsecond line', timestamp: at(0) }),
      aMessage({ id: 'id-2', direction: 'outbound', text: 'Hello!', timestamp: at(9) }),
      aMessage({ id: 'id-3', direction: 'outbound', author: 'Agent Smith', text: 'We’ll check', timestamp: at(12) }),
    ];
    expect(renderNote(messages, { customerName: 'Anna & Co', timeZone: 'UTC' })).toBe(
      [
        '<p><b>WhatsApp</b> · 2026-03-02</p>',
        '<p>[09:15:00] <b>Anna &amp; Co</b>: Hi &lt;script&gt;<br>second line</p>',
        '<p>[09:15:09] <b>Business</b>: Hello!</p>',
        '<p>[09:15:12] <b>Agent Smith</b>: We’ll check</p>',
        '<p><small>threadbridge-ref: id-1 id-2 id-3</small></p>',
      ].join('\n'),
    );
  });

  it.each([
    ['a stored file', 'image', { url: 'https://tb.example.com/media/1?t=a&b', mimeType: 'image/jpeg' }, '📎 <a href="https://tb.example.com/media/1?t=a&amp;b">image.jpg</a>'],
    ['a named document', 'document', { url: 'https://tb.example.com/m/2', filename: 'offer.pdf' }, '📎 <a href="https://tb.example.com/m/2">offer.pdf</a>'],
    ['a missing file', 'audio', { mimeType: 'audio/ogg; codecs=opus', unavailableReason: 'download failed' }, '📎 audio.ogg (download failed)'],
    ['no link but a javascript: url', 'image', { url: 'javascript:alert(1)' }, '📎 image (file not available)'],
  ] as const)('renderMedia: %s', (_name, type, media, expected) => {
    expect(renderMedia(type, media)).toBe(expected);
  });

  it('names an uploaded file after its message, and says in the note where the copy is', () => {
    const message = aMessage({ id: 'm-1', type: 'document', media: { filename: 'Offer 2026/03.pdf', url: 'https://tb.example.com/m/9' } });
    expect(uploadName(message)).toBe('whatsapp-m-1-Offer_2026_03.pdf');
    expect(uploadName(aMessage({ id: 'm-2', type: 'audio', media: { mimeType: 'audio/ogg' } }))).toBe('whatsapp-m-2-audio.ogg');
    expect(renderMedia('document', message.media!, 'whatsapp-m-1-Offer_2026_03.pdf')).toBe('📎 <a href="https://tb.example.com/m/9">Offer 2026/03.pdf</a> (in Files: whatsapp-m-1-Offer_2026_03.pdf)');
    const files = [{ name: 'whatsapp-m-1-Offer_2026_03.pdf' }, { name: 'contract.pdf' }, { name: 'whatsapp-m-10-x.jpg' }];
    expect([...findUploadedFiles(files, ['m-1', 'm-2'])]).toEqual([['m-1', 'whatsapp-m-1-Offer_2026_03.pdf']]);
  });

  it('finds which messages the person’s notes already hold, by their marker', () => {
    const wanted = ['6b1f5c9e-2a7d-4c1b-9e0a-0d4f3b2a1c02', 'not-written', 'mentioned'];
    const found = findWrittenMessages(notesAnswer.data, wanted);
    expect([...found.entries()].map(([id, note]) => [id, note.id])).toEqual([['6b1f5c9e-2a7d-4c1b-9e0a-0d4f3b2a1c02', 5031]]);
    expect(findWrittenMessages([], wanted).size).toBe(0);
  });

  it('finds a conversation’s transcript note, and renders one with the period and every line', () => {
    expect(findTranscriptNote(notesAnswer.data, '0f5e2b7a-1c3d-4e5f-8a9b-0c1d2e3f4a5b')?.id).toBe(5004);
    expect(findTranscriptNote(notesAnswer.data, 'another-conversation')).toBeUndefined();

    const thread = { ...aThread(aCustomer(), { id: '1', type: 'person' }), openedAt: new Date('2026-02-20T10:00:00Z') };
    const messages = [aMessage({ text: 'Hi', timestamp: new Date('2026-02-20T10:00:00Z') }), aMessage({ direction: 'outbound', author: 'Agent Smith', text: 'Hello', timestamp: new Date('2026-02-20T10:01:30Z') })];
    const html = renderTranscriptNote(aTranscript(thread, messages, { closedAt: new Date('2026-02-20T10:20:00Z'), conversationId: 'conv-1' }), { timeZone: 'UTC' });
    expect(html).toContain('<b>WhatsApp conversation transcript</b> · 2026-02-20 10:00:00 – 10:20:00 (2 messages)');
    expect(html).toContain('[10:00:00] <b>Anna Nowak</b>: Hi<br>\n[10:01:30] <b>Agent Smith</b>: Hello');
    expect(findTranscriptNote([{ id: 1, content: html }], 'conv-1')?.id).toBe(1);
  });
});

describe('leads', () => {
  const thread = aThread(aCustomer({ waId: '48601234567', profileName: 'Anna' }), { id: '1', type: 'person' }, { openedAt: new Date('2026-03-02T23:30:00Z') });

  it.each([
    ['WhatsApp: {{name}} ({{phone}})', 'WhatsApp: Anna (+48601234567)'],
    ['{{waId}} → {{businessNumber}} on {{date}}', '48601234567 → +1 555 010 0000 on 2026-03-02'],
    ['{{ name }} {{unknown}}', 'Anna {{unknown}}'],
    ['   ', 'WhatsApp: Anna'],
  ])('renderLeadTitle(%j)', (template, expected) => {
    expect(renderLeadTitle(template, thread, 'UTC')).toBe(expected);
  });

  it('dates the title in the configured zone', () => {
    expect(renderLeadTitle('{{date}}', thread, 'Europe/Warsaw')).toBe('2026-03-03');
  });

  it.each([
    ['a lead', { id: 'x', title: 't' }, true],
    ['an archived lead', { id: 'x', title: 't', is_archived: true }, false],
    ['an open deal', { id: 1, title: 't', status: 'open' }, true],
    ['a won deal', { id: 1, title: 't', status: 'won' }, false],
    ['a deleted deal', { id: 1, title: 't', status: 'open', is_deleted: true }, false],
  ] as const)('isOpen: %s', (_name, record, expected) => {
    expect(isOpen(record as PipedriveLead | PipedriveDeal)).toBe(expected);
  });

  it.each([
    ['opened 23 h after the lead’s last activity', -23, true],
    ['exactly 24 h after', -24, true],
    ['25 h after', -25, false],
    ['before it (the conversation’s own lead)', 2, true],
  ])('joinsLead with 24 h: %s', (_name, offsetHours, expected) => {
    const openedAt = new Date('2026-03-02T12:00:00Z');
    expect(joinsLead(openedAt, openedAt.getTime() + offsetHours * HOUR, 24)).toBe(expected);
  });
});

describe('consent and text', () => {
  const changedAt = new Date('2026-05-04T22:30:00Z');

  it.each([
    [{ scope: 'marketing', optedIn: true, changedAt, source: 'keyword:START' }, {}, 'WhatsApp marketing: opted in (2026-05-04, keyword:START)'],
    [{ scope: 'marketing', optedIn: false, changedAt, source: 'api' }, { optedOut: '17' }, '17'],
    [{ scope: 'transactional', optedIn: true, changedAt, source: 'api' }, { optedOut: '17' }, 'WhatsApp transactional: opted in (2026-05-04, api)'],
  ] as const)('consentValue(%j, %j)', (consent, values, expected) => {
    expect(consentValue(consent, values, 'UTC')).toBe(expected);
  });

  it('escapes what HTML would read', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
